"""Reviews, actions and key workers (reports.flows): C(E)TRs held on time, actions overdue at
the end of the period, and key worker coverage."""

from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any

from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, Value, When

from dsr.deadlines import AgeGroup, birth_date_bounds
from dsr.models import RAG, PersonContact, RegisterEntry
from reports.disclosure import TOTAL, Family, Shown, TableSpec
from reports.flows.common import (
    AREA,
    ONE,
    Figure,
    Period,
    _counted,
    _family,
    _get,
    _page,
    _published,
    age_at,
    share_text,
)
from reviews.models import Action, Cetr


def _reviews(period: Period) -> Callable:
    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter]:
        # Every C(E)TR that fell due in the period (not only those held): held by its due date,
        # or not.
        held = Case(
            When(Q(status=Cetr.Status.COMPLETED, held_on__lte=F("due_on")), then=Value("yes")),
            default=Value("no"),
            output_field=CharField(),
        )
        cetrs = _counted(
            Cetr.objects.filter(
                due_on__gte=period.start,
                due_on__lte=period.end,
                person__local_authority__isnull=False,
            )
            .exclude(status=Cetr.Status.CANCELLED)
            .annotate(k_age=age_at(period.end, "person__"), k_kind=Value("cetr"), k=held)
            .values_list("person__local_authority_id", "k_age", "k_kind", "k")
            .annotate(n=Count("id"))
            .order_by()
        )
        # Overdue at the end of the period: agreed by then, due before it, and still open on it
        # (open now, or closed after it).
        overdue = _counted(
            Action.objects.filter(
                Q(status=Action.Status.OPEN) | Q(closed_on__gt=period.end),
                created_at__date__lte=period.end,
                due_on__lt=period.end,
                person__local_authority__isnull=False,
            )
            .annotate(k_age=age_at(period.end, "person__"), k_kind=Value("overdue"), k=Value(""))
            .values_list("person__local_authority_id", "k_age", "k_kind", "k")
            .annotate(n=Count("id"))
            .order_by()
        )
        # Key worker coverage now, for Red, Amber and Blue people aged 0 to 25 at the end of the
        # period (born after the latest birth date of a 26-year-old).
        over_25 = birth_date_bounds(AgeGroup.ADULT, period.end)[1]
        key_worker = PersonContact.objects.filter(
            person=OuterRef("person"), role=PersonContact.Role.KEY_WORKER
        )
        covered = Case(
            When(Exists(key_worker), then=Value("yes")),
            default=Value("no"),
            output_field=CharField(),
        )
        coverage = _counted(
            RegisterEntry.objects.filter(
                status=RegisterEntry.Status.OPEN,
                rating__in=[RAG.RED, RAG.AMBER, RAG.BLUE],
                person__date_of_birth__gt=over_25,
            )
            .annotate(
                k_age=age_at(period.end, "person__"),
                k_kind=Value("key_worker"),
                k=covered,
            )
            .values_list("person__local_authority_id", "k_age", "k_kind", "k")
            .annotate(n=Count("id"))
            .order_by()
        )
        tables = [
            TableSpec(
                "cetrs", ("yes", "no"), (ONE,), lambda r: [(r[3], ONE)] if r[2] == "cetr" else []
            ),
            TableSpec(
                "overdue", (ONE,), (ONE,), lambda r: [(ONE, ONE)] if r[2] == "overdue" else []
            ),
            TableSpec(
                "key-worker",
                ("yes", "no"),
                (ONE,),
                lambda r: [(r[3], ONE)] if r[2] == "key_worker" else [],
            ),
        ]
        domains = [(3, ["yes", "no"]), (AREA, areas)]
        return _family(sets, tables, domains), cetrs + overdue + coverage

    return build


def review_counts(user: Any, period: Period) -> dict[str, int]:
    """The true counts behind the review figures on the user's page (for the tests)."""
    publication, _areas = _published("reviews", period, _reviews(period))
    page = _page(user, period)

    def value(slug: str, row: Hashable) -> int:
        return _get(publication, page, slug, row).value

    return {
        "cetrs_due": value("cetrs", TOTAL),
        "cetrs_on_time": value("cetrs", "yes"),
        "actions_overdue": value("overdue", TOTAL),
        "key_worker_people": value("key-worker", TOTAL),
        "key_worker_covered": value("key-worker", "yes"),
    }


def review_figures(user: Any, period: Period) -> list[Figure]:
    publication, _areas = _published("reviews", period, _reviews(period))
    page = _page(user, period)

    def get(slug: str, row: Hashable) -> Shown:
        return _get(publication, page, slug, row)

    return [
        Figure(
            "C(E)TRs due in the period and held by their due date",
            share_text(get("cetrs", "yes"), get("cetrs", TOTAL), "held on time", "C(E)TRs due"),
        ),
        Figure("Actions overdue at the end of the period", str(get("overdue", TOTAL))),
        Figure(
            "Red, amber and blue people aged 0 to 25 with a key worker",
            share_text(
                get("key-worker", "yes"),
                get("key-worker", TOTAL),
                "with a key worker",
                "red, amber and blue people aged 0 to 25",
            ),
        ),
    ]
