"""Referrals in the period (reports.flows): received, decided by outcome, the share decided
within four weeks, and days to a decision."""

import statistics
from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Value,
    When,
)
from django.db.models.functions import TruncDate

from dsr.deadlines import AgeGroup
from dsr.queries import in_age_group
from dsr.security.scoping import local_authority_ids_for
from referrals.models import Referral
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
    whole_days,
)

# Median and 90th percentile of a duration column `v`, in days, over an inner query (the ORM's
# own SQL, run with its own parameters).
PERCENTILES_SQL = (
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM v) / 86400),"
    " percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM v) / 86400)"
    " FROM ({inner}) AS sub(v)"
)
DECIDED = [Referral.Status.ADDED, Referral.Status.NOT_ELIGIBLE, Referral.Status.WITHDRAWN]
# Medians and percentiles are shown for groups of at least this many, in whole days.
MEDIAN_FROM = 10


def _referrals(period: Period) -> Callable:
    start, end = period.bounds()
    in_period = {"decided_at__gte": start, "decided_at__lt": end, "status__in": DECIDED}

    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter]:
        age = age_at(period.end, "")
        received = Referral.objects.filter(
            received_at__gte=start, received_at__lt=end, local_authority__isnull=False
        )
        on_time = Case(
            When(status=Referral.Status.WITHDRAWN, then=Value("")),
            When(decided_at__date__lte=F("decision_due"), then=Value("on_time")),
            default=Value("late"),
            output_field=CharField(),
        )
        decided = Referral.objects.filter(local_authority__isnull=False, **in_period)
        records = _counted(
            received.annotate(k_age=age, k_kind=Value("received"), k=Value(""), t=Value(""))
            .values_list("local_authority_id", "k_age", "k_kind", "k", "t")
            .annotate(n=Count("id"))
            .order_by()
        ) + _counted(
            decided.annotate(k_age=age, k_kind=Value("decided"), k_on_time=on_time)
            .values_list("local_authority_id", "k_age", "k_kind", "status", "k_on_time")
            .annotate(n=Count("id"))
            .order_by()
        )
        outcomes = tuple(DECIDED)
        tables = [
            TableSpec(
                "received", (ONE,), (ONE,), lambda r: [(ONE, ONE)] if r[2] == "received" else []
            ),
            TableSpec(
                "outcomes", outcomes, (ONE,), lambda r: [(r[3], ONE)] if r[2] == "decided" else []
            ),
            TableSpec(
                "timeliness",
                ("on_time", "late"),
                (ONE,),
                lambda r: [(r[4], ONE)] if r[2] == "decided" and r[4] else [],
            ),
        ]
        domains = [(3, list(outcomes)), (4, ["on_time", "late"]), (AREA, areas)]
        return _family(sets, tables, domains), records

    return build


def _percentiles(values_query: Any, field: str) -> tuple[float | None, float | None]:
    """Median and 90th percentile of `field`, in the database on PostgreSQL (percentile_cont);
    elsewhere (the SQLite development default) from the numbers alone, no rows."""
    if connection.vendor == "postgresql":
        sql, params = values_query.values(field).query.sql_with_params()
        # The ORM's own SQL and parameters, wrapped: nothing from the request is in the text.
        query = PERCENTILES_SQL.replace("{inner}", sql)
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            median, p90 = cursor.fetchone()
        return (None, None) if median is None else (float(median), float(p90))
    numbers = sorted(delta.days for delta in values_query.values_list(field, flat=True))
    if not numbers:
        return None, None
    if len(numbers) == 1:
        return numbers[0], numbers[0]
    deciles = statistics.quantiles(numbers, n=10, method="inclusive")
    return statistics.median(numbers), deciles[8]


def _scope(user: Any, period: Period, path: str, person: str | None = None) -> Q:
    """Rows on the user's page: in their areas (or the one chosen), about people in the chosen
    age group at the end of the period. `person` is the path to the person's fields ("" when
    the row holds the date of birth itself); it defaults to the part of `path` before
    local_authority_id."""
    ids = local_authority_ids_for(user)
    if period.local_authority:
        ids = ids & {period.local_authority}
    condition = Q(**{f"{path}__in": list(ids)})
    if period.age_group:
        prefix = path.removesuffix("local_authority_id") if person is None else person
        condition &= in_age_group(AgeGroup(period.age_group), period.end, prefix=prefix)
    return condition


def referral_figures(user: Any, period: Period) -> list[Figure]:
    """New referrals, decisions by outcome, the share decided within four weeks, and the
    median and 90th percentile of days to a decision (for at least MEDIAN_FROM decisions)."""
    publication, _areas = _published("referrals", period, _referrals(period))
    page = _page(user, period)

    def get(slug: str, row: Hashable) -> Shown:
        return _get(publication, page, slug, row)

    start, end = period.bounds()
    reviewed = Referral.objects.filter(
        _scope(user, period, "local_authority_id"),
        decided_at__gte=start,
        decided_at__lt=end,
        status__in=DECIDED,
    ).exclude(status=Referral.Status.WITHDRAWN)
    # London calendar days from receipt to decision (TruncDate uses the current time zone).
    days = reviewed.annotate(
        days=ExpressionWrapper(
            TruncDate("decided_at") - TruncDate("received_at"), output_field=DurationField()
        )
    )
    figures = [
        Figure("New referrals", str(get("received", TOTAL))),
        Figure("Decisions", str(get("outcomes", TOTAL))),
        *[
            Figure(
                f"Decided: {Referral.Status(status).label.lower()}", str(get("outcomes", status))
            )
            for status in DECIDED
        ],
        Figure(
            "Decided within four weeks",
            share_text(
                get("timeliness", "on_time"),
                get("timeliness", TOTAL),
                "decided within four weeks",
                "decisions (not counting withdrawals)",
            ),
        ),
    ]
    # Timeliness is about the ICB's decisions: a referral withdrawn by the referrer is counted
    # among the outcomes, not in the four-week share or the days to a decision.
    if reviewed.count() >= MEDIAN_FROM:
        median, p90 = _percentiles(days, "days")
        figures += [
            Figure("Median days to a decision", whole_days(median)),
            Figure("90th percentile of days to a decision", whole_days(p90)),
        ]
    else:
        figures.append(
            Figure("Days to a decision", f"Not shown: fewer than {MEDIAN_FROM} decisions")
        )
    return figures
