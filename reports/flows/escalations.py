"""Escalations open at the end of the period (reports.flows), by level and how long they had
been open."""

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from escalation import rules as escalation_rules
from escalation.models import Escalation, EscalationTransition
from reports.disclosure import Family, TableSpec
from reports.flows.common import AREA, Period, _counted, _family, _page, _published, age_at
from reports.queries import Table, table_from

BANDS = [(0, 7, "Up to a week"), (8, 28, "8 to 28 days"), (29, None, "Over 28 days")]


def _escalations(period: Period) -> Callable:
    """Escalations open at the end of the period (raised by then, not resolved by then), by
    the level they had then and how long they had been open then."""
    _start, end = period.bounds()

    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter]:
        level_then = Subquery(
            EscalationTransition.objects.filter(
                escalation=OuterRef("pk"), at__lt=end, to_level__isnull=False
            )
            .order_by("-at", "-id")
            .values("to_level")[:1]
        )
        band = Case(
            *[
                When(raised_at__gt=end - timedelta(days=high + 1), then=Value(index))
                for index, (_low, high, _label) in enumerate(BANDS)
                if high is not None
            ],
            default=Value(len(BANDS) - 1),
            output_field=IntegerField(),
        )
        records = _counted(
            Escalation.objects.filter(raised_at__lt=end)
            .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=end))
            .annotate(
                k_age=age_at(period.end, "person__"),
                k_level=Coalesce(level_then, F("level")),
                k_band=band,
            )
            .values_list("local_authority_id", "k_age", "k_level", "k_band")
            .annotate(n=Count("id"))
            .order_by()
        )
        # Someone's escalation has an age group; a referral's (about no one yet) has none.
        records = Counter({(a, g or None, lv, b): n for (a, g, lv, b), n in records.items()})
        levels = tuple(range(1, escalation_rules.top_level() + 1))
        table = TableSpec("escalations", levels, tuple(range(len(BANDS))), lambda r: [(r[2], r[3])])
        domains = [(2, list(levels)), (3, list(range(len(BANDS)))), (AREA, areas)]
        icb = _icb_scopes()
        return _family(sets, [table], domains, unknown_area_on=icb), records

    return build


def _icb_scopes() -> list[frozenset[int]]:
    """The areas of each ICB: its staff see escalations whose area is not known yet."""
    from dsr.models import Organisation

    covered: dict[int, set[int]] = {}
    for organisation, area in Organisation.local_authorities.through.objects.filter(
        organisation__kind=Organisation.Kind.ICB
    ).values_list("organisation_id", "localauthority_id"):
        covered.setdefault(organisation, set()).add(area)
    return [frozenset(areas) for areas in covered.values()]


def escalation_table(user: Any, period: Period) -> Table:
    """Escalations open at the end of the period, by the level they had then and how long they
    had been open then."""
    publication, _areas = _published("escalations", period, _escalations(period))
    page = _page(user, period)
    levels = range(1, escalation_rules.top_level() + 1)
    return table_from(
        publication,
        page,
        "escalations",
        "Escalations open at the end of the period, by level and how long they had been open",
        "Level",
        [(level, f"{level}: {escalation_rules.level_name(level)}") for level in levels],
        [(index, label) for index, (_low, _high, label) in enumerate(BANDS)],
    )
