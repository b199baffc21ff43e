"""Flows over a period (issue "Reports" point 2), each a grouped query in the database:
referrals and decisions, rating transitions, step-downs without admission, admissions and
community C(E)TRs before them, C(E)TRs on time, overdue actions, key worker coverage, open
escalations by level and age. Every figure leaves here already suppressed."""

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from dsr.deadlines import YOUNG_PERSON_FROM_AGE, AgeGroup, age_on, birth_date_bounds
from dsr.models import RAG, Admission, PersonContact, Rating, RegisterEntry
from dsr.queries import in_age_group
from dsr.scoping import in_area_or_unknown_for_icb, local_authority_ids_for
from escalation import rules as escalation_rules
from escalation.models import LIVE, Escalation
from referrals.models import Referral
from reports.queries import RATINGS, Table, _table
from reports.suppression import HIDDEN, is_small, suppress_column, suppress_table
from reviews.models import Action, Cetr

# Median and 90th percentile of a duration column `v`, in days, over an inner query (the ORM's
# own SQL, run with its own parameters).
PERCENTILES_SQL = (
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM v) / 86400),"
    " percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM v) / 86400)"
    " FROM ({inner}) AS sub(v)"
)
DECIDED = [Referral.Status.ADDED, Referral.Status.NOT_ELIGIBLE, Referral.Status.WITHDRAWN]


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    local_authority: int | None = None
    age_group: str = ""

    def bounds(self) -> tuple[datetime, datetime]:
        start = timezone.make_aware(datetime.combine(self.start, time.min))
        end = timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))
        return start, end


@dataclass(frozen=True)
class Figure:
    label: str
    text: str
    note: str = ""


def count_figure(label: str, value: int, note: str = "") -> Figure:
    return Figure(label, HIDDEN if is_small(value) else str(value), note)


def share_figure(label: str, part: int, whole: int, note: str = "") -> Figure:
    """A percentage, shown only when neither its numerator nor its denominator is small (or
    the share could be worked back to a small count)."""
    if whole == 0:
        return Figure(label, "None in the period", note)
    if is_small(part) or is_small(whole) or is_small(whole - part):
        return Figure(label, "Not shown: fewer than 5", note)
    return Figure(label, f"{round(100 * part / whole)}%", note)


def _areas(user: Any, period: Period, path: str, person: str | None = None) -> Q:
    """Rows in the user's areas (or the chosen one), about people in the chosen age group at
    the end of the period. `person` is the path to the person's fields ("" when the row holds
    the date of birth itself); it defaults to the part of `path` before local_authority_id."""
    ids = local_authority_ids_for(user)
    if period.local_authority:
        ids = ids & {period.local_authority}
    condition = Q(**{f"{path}__in": list(ids)})
    if period.age_group:
        prefix = path.removesuffix("local_authority_id") if person is None else person
        condition &= in_age_group(AgeGroup(period.age_group), period.end, prefix=prefix)
    return condition


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


def referral_figures(user: Any, period: Period) -> list[Figure]:
    """New referrals, decisions by outcome, the share decided within four weeks, and the
    median and 90th percentile of days to a decision. Three queries."""
    start, end = period.bounds()
    scope = _areas(user, period, "local_authority_id")
    received = Referral.objects.filter(scope, received_at__gte=start, received_at__lt=end)
    decided = Referral.objects.filter(
        scope, decided_at__gte=start, decided_at__lt=end, status__in=DECIDED
    ).annotate(
        # London calendar days from receipt to decision (TruncDate uses the current time zone).
        days=ExpressionWrapper(
            TruncDate("decided_at") - TruncDate("received_at"), output_field=DurationField()
        )
    )
    counts = decided.aggregate(
        total=Count("id"),
        on_time=Count(
            "id",
            filter=Q(decided_at__date__lte=F("decision_due"))
            & ~Q(status=Referral.Status.WITHDRAWN),
        ),
        reviewed=Count("id", filter=~Q(status=Referral.Status.WITHDRAWN)),
        **{status: Count("id", filter=Q(status=status)) for status in DECIDED},
    )
    # Timeliness is about the ICB's decisions: a referral withdrawn by the referrer is counted
    # among the outcomes, not in the four-week share or the days to a decision.
    median, p90 = _percentiles(decided.exclude(status=Referral.Status.WITHDRAWN), "days")
    # The outcomes and their total are one column: suppressed together, so no outcome can be
    # worked out from the others.
    outcomes, decisions = suppress_column([counts[status] for status in DECIDED])
    figures = [
        count_figure("New referrals", received.count()),
        Figure("Decisions", str(decisions)),
        *[
            Figure(f"Decided: {Referral.Status(status).label.lower()}", str(cell))
            for status, cell in zip(DECIDED, outcomes, strict=True)
        ],
        share_figure("Decided within four weeks", counts["on_time"], counts["reviewed"]),
    ]
    if counts["reviewed"] >= 5 and median is not None:
        figures += [
            Figure("Median days to a decision", f"{median:g}"),
            Figure("90th percentile of days to a decision", f"{p90:g}"),
        ]
    else:
        figures.append(Figure("Days to a decision", "Not shown: fewer than 5 decisions"))
    return figures


def transitions_table(user: Any, period: Period) -> Table:
    """Rating changes in the period, from each rating to each: one grouped query."""
    rows = (
        Rating.objects.filter(
            _areas(user, period, "entry__person__local_authority_id"),
            effective_from__gte=period.start,
            effective_from__lte=period.end,
        )
        .exclude(previous_rating="")
        .exclude(previous_rating=F("rating"))
        .values("previous_rating", "rating")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {(row["previous_rating"], row["rating"]): row["n"] for row in rows}
    labels = [(r.value, f"From {r.label.lower()}") for r in RATINGS]
    table = _table("transitions", "Rating changes in the period", "From", labels, counts)
    table.columns = [f"To {RAG(r).label.lower()}" for r in RATINGS]
    return table


def step_down_figure(user: Any, period: Period) -> Figure:
    return count_figure(
        "Stepped down from red or amber to green without an admission",
        step_down_count(user, period),
    )


def step_down_count(user: Any, period: Period) -> int:
    """People who went from Red or Amber to Green in the period without an admission during
    that Red or Amber spell: from the first day of the run of Red and Amber ratings that ended
    in the step-down, up to the step-down. (An admission after the step-down is not counted
    against it; one before the spell is another story.) One query."""
    red_or_amber = [RAG.RED, RAG.AMBER]
    # The spell began after the entry's last rating before the step-down that was neither Red
    # nor Amber (or, if none, with the entry's first rating).
    before_spell = (
        Rating.objects.filter(
            entry=OuterRef("entry"), effective_from__lt=OuterRef("effective_from")
        )
        .exclude(rating__in=red_or_amber)
        .order_by("-effective_from", "-set_at", "-id")
        .values("effective_from")[:1]
    )
    spell_start = (
        Rating.objects.filter(
            entry=OuterRef("entry"),
            effective_from__lt=OuterRef("effective_from"),
            effective_from__gt=OuterRef("before_spell"),
        )
        .order_by("effective_from", "set_at", "id")
        .values("effective_from")[:1]
    )
    admitted = Admission.objects.filter(
        person=OuterRef("entry__person"),
        admitted_on__gte=OuterRef("spell_start"),
        admitted_on__lte=OuterRef("effective_from"),
    )
    return (
        Rating.objects.filter(
            _areas(user, period, "entry__person__local_authority_id"),
            effective_from__gte=period.start,
            effective_from__lte=period.end,
            rating=RAG.GREEN,
            previous_rating__in=red_or_amber,
        )
        .annotate(before_spell=Coalesce(Subquery(before_spell), Value(date.min)))
        .annotate(spell_start=Subquery(spell_start))
        .exclude(Exists(admitted))
        .values("entry__person")
        .distinct()
        .count()
    )


def admission_table(user: Any, period: Period) -> tuple[Table, list[Figure]]:
    """Admissions in the period by age at admission and whether a community C(E)TR came first,
    with the share for children against the national target of 90%: one grouped query."""
    admissions = Admission.objects.filter(
        _areas(user, period, "person__local_authority_id"),
        admitted_on__gte=period.start,
        admitted_on__lte=period.end,
    )
    # Age at admission, as the national target counts it. A period's admissions are few, so
    # the ages are worked out from (date of birth, admission date) pairs: nothing else is read.
    counts: dict[tuple[bool, bool], int] = {}
    for born, admitted_on, cetr_first in admissions.values_list(
        "person__date_of_birth", "admitted_on", "community_cetr_before_admission"
    ):
        key = (age_on(born, admitted_on) < YOUNG_PERSON_FROM_AGE, cetr_first)
        counts[key] = counts.get(key, 0) + 1
    grid = [
        [counts.get((child, True), 0), counts.get((child, False), 0)] for child in (True, False)
    ]
    cells, row_totals, column_totals, total = suppress_table(grid)
    table = Table(
        slug="admissions",
        title="Admissions in the period",
        row_heading="Age at admission",
        rows=["Children (under 18)", "Adults (18 and over)"],
        columns=["With a community C(E)TR first", "Without"],
        cells=cells,
        row_totals=row_totals,
        column_totals=column_totals,
        total=total,
    )
    children = grid[0]
    label = "Children with a community CETR before admission"
    if not sum(children):
        figures = [Figure(label, "None in the period", "National target: 90%")]
    elif cells[0][0].hidden or cells[0][1].hidden:
        # A share of a row the table hides would give its counts away.
        figures = [Figure(label, "Not shown: fewer than 5", "National target: 90%")]
    else:
        figures = [share_figure(label, children[0], sum(children), "National target: 90%")]
    return table, figures


def review_counts(user: Any, period: Period) -> dict[str, int]:
    """C(E)TRs due in the period and held on time; actions overdue at the period's end; key
    worker coverage now for Red, Amber and Blue people aged 0 to 25 at the period's end. Three
    queries."""
    # Every C(E)TR that fell due in the period (not only those held): held by its due date, or
    # not.
    held = (
        Cetr.objects.filter(
            _areas(user, period, "person__local_authority_id"),
            due_on__gte=period.start,
            due_on__lte=period.end,
        )
        .exclude(status=Cetr.Status.CANCELLED)
        .aggregate(
            total=Count("id"),
            on_time=Count("id", filter=Q(status=Cetr.Status.COMPLETED, held_on__lte=F("due_on"))),
        )
    )
    # Overdue at the end of the period: agreed by then, due before it, and still open on it
    # (open now, or closed after it).
    overdue = Action.objects.filter(
        Q(status=Action.Status.OPEN) | Q(closed_on__gt=period.end),
        _areas(user, period, "person__local_authority_id"),
        created_at__date__lte=period.end,
        due_on__lt=period.end,
    ).count()
    # Aged 0 to 25 at the end of the period (born after the latest birth date of a 26-year-old).
    over_25 = birth_date_bounds(AgeGroup.ADULT, period.end)[1]
    key_worker = PersonContact.objects.filter(
        person=OuterRef("person"), role=PersonContact.Role.KEY_WORKER
    )
    coverage = (
        RegisterEntry.objects.filter(
            _areas(user, period, "person__local_authority_id"),
            status=RegisterEntry.Status.OPEN,
            rating__in=[RAG.RED, RAG.AMBER, RAG.BLUE],
            person__date_of_birth__gt=over_25,
        )
        .annotate(has=Exists(key_worker))
        .aggregate(total=Count("id"), covered=Count("id", filter=Q(has=True)))
    )
    return {
        "cetrs_due": held["total"],
        "cetrs_on_time": held["on_time"],
        "actions_overdue": overdue,
        "key_worker_people": coverage["total"],
        "key_worker_covered": coverage["covered"],
    }


def review_figures(user: Any, period: Period) -> list[Figure]:
    counts = review_counts(user, period)
    return [
        share_figure(
            "C(E)TRs due in the period and held by their due date",
            counts["cetrs_on_time"],
            counts["cetrs_due"],
        ),
        count_figure("Actions overdue at the end of the period", counts["actions_overdue"]),
        share_figure(
            "Red, amber and blue people aged 0 to 25 with a key worker",
            counts["key_worker_covered"],
            counts["key_worker_people"],
        ),
    ]


def _escalation_scope(user: Any, period: Period) -> Q:
    """As the executive summary counts them: escalations in the user's areas and, for the ICB's
    staff, those whose area is not known yet (a referral's), unless an area or age is chosen."""
    if period.local_authority or period.age_group:
        return _areas(user, period, "local_authority_id", person="person__")
    return in_area_or_unknown_for_icb(user)


def escalation_table(user: Any, period: Period) -> Table:
    """Open escalations by level and age: one grouped query."""
    now = timezone.now()
    bands = [(0, 7, "Up to a week"), (8, 28, "8 to 28 days"), (29, None, "Over 28 days")]
    aggregates = {}
    for index, (low, high, _label) in enumerate(bands):
        window = Q(raised_at__lte=now - timedelta(days=low))
        if high is not None:
            window &= Q(raised_at__gt=now - timedelta(days=high + 1))
        aggregates[f"band{index}"] = Count("id", filter=window)
    rows = {
        row["level"]: row
        for row in Escalation.objects.filter(_escalation_scope(user, period), status__in=LIVE)
        .values("level")
        .annotate(**aggregates)
        .order_by()
    }
    levels = range(1, escalation_rules.top_level() + 1)
    grid = [[rows.get(level, {}).get(f"band{i}", 0) for i in range(len(bands))] for level in levels]
    cells, row_totals, column_totals, total = suppress_table(grid)
    return Table(
        slug="escalations",
        title="Open escalations by level and age",
        row_heading="Level",
        rows=[f"{level}: {escalation_rules.level_name(level)}" for level in levels],
        columns=[label for _, _, label in bands],
        cells=cells,
        row_totals=row_totals,
        column_totals=column_totals,
        total=total,
    )


@dataclass
class Flows:
    period: Period
    referrals: list[Figure]
    step_down: Figure
    reviews: list[Figure]
    admission_figures: list[Figure]
    tables: list[Table]


def flows(user: Any, period: Period) -> Flows:
    admissions, admission_figures = admission_table(user, period)
    return Flows(
        period=period,
        referrals=referral_figures(user, period),
        step_down=step_down_figure(user, period),
        reviews=review_figures(user, period),
        admission_figures=admission_figures,
        tables=[transitions_table(user, period), admissions, escalation_table(user, period)],
    )


FLOW_TABLES = ["transitions", "admissions", "escalations"]
