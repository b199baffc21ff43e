"""Flows over a period (issue "Reports" point 2), each counted by a grouped query in the
database: referrals and decisions, rating transitions, step-downs without admission, admissions
and community C(E)TRs before them, C(E)TRs on time, overdue actions, key worker coverage, and the
escalations open at the end of the period by level and age.

Every count is published through reports.disclosure, for every area and age group at once, so
that no page of the period, beside the others, gives a small count away. Commissioners choose
whole calendar months (reports.forms): two months never share an event, so comparing periods
gives nothing away that either month does not (ADR 0005). Shares are worked out from the
published, rounded counts only; medians only for at least MEDIAN_FROM decisions, in whole days.
"""

import statistics
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from dsr.deadlines import YOUNG_PERSON_FROM_AGE, AgeGroup, age_on, birth_date_bounds
from dsr.models import RAG, Admission, PersonContact, Rating, RegisterEntry
from dsr.queries import in_age_group
from dsr.scoping import local_authority_ids_for
from escalation import rules as escalation_rules
from escalation.models import Escalation, EscalationTransition
from referrals.models import Referral
from reports.disclosure import (
    SHOWN_FROM,
    SMALL,
    TOTAL,
    Family,
    PageSpec,
    Publication,
    Shown,
    TableSpec,
)
from reports.queries import (
    AGE_GROUPS,
    RATING_COLOURS,
    RATINGS,
    Table,
    moves_over,
    page_key,
    published,
    table_from,
)
from reviews.models import Action, Cetr

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
NOT_SHOWN_HIDDEN = "Not shown, so that a small number cannot be worked out from the others"
# A record of a flow: its area and the age group of its person at the end of the period come
# first (None where not known: a referral's area, an escalation about no one).
AREA, AGE = 0, 1
ONE = "count"  # the one column of a table of a single count
BANDS = [(0, 7, "Up to a week"), (8, 28, "8 to 28 days"), (29, None, "Over 28 days")]


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


def whole_days(value: float) -> str:
    """A number of days to the nearest whole day (halves up)."""
    return str(int(value + 0.5))


def share_text(part: Shown, whole: Shown, part_noun: str, whole_noun: str) -> str:
    """A percentage worked out from two published counts only, with them, or why not."""
    if part.hidden or whole.hidden:
        return NOT_SHOWN_HIDDEN
    if whole.shown is None:
        return f"Not shown: fewer than {SHOWN_FROM} {whole_noun}"
    if part.shown is None:
        return f"Not shown: fewer than {SHOWN_FROM} {part_noun}"
    return f"{round(100 * part.shown / whole.shown)}% ({part} of {whole})"


# --- Publishing a flow for every page at once ------------------------------------------------


def age_at(on: date, path: str) -> Case:
    """The age group on the day of the person whose date of birth is at `path`."""
    return Case(
        *[
            When(in_age_group(group, on, prefix=path), then=Value(group.value))
            for group in AgeGroup
        ],
        default=Value(""),
        output_field=CharField(),
    )


def _family(
    sets: list[frozenset[int]],
    tables: list[TableSpec],
    domains: list[tuple[int, list[Hashable]]],
    *,
    unknown_area_on: Iterable[frozenset[int]] = (),
) -> Family:
    """A flow's pages: every set of areas, and every age group (at the end of the period) and
    all of them. A record about no one (no age group) counts only where all ages are; one of no
    known area only on the pages of the sets in `unknown_area_on` (an ICB's own view)."""
    unknown = set(unknown_area_on)
    pages = []
    for areas in sets:
        for age in ["", *AGE_GROUPS]:

            def includes(record: tuple, areas: frozenset = areas, age: str = age) -> bool:
                in_areas = areas in unknown if record[AREA] is None else record[AREA] in areas
                return in_areas and (not age or record[AGE] == age)

            pages.append(PageSpec(page_key(areas, age), includes))
    domains = [*domains, (AGE, AGE_GROUPS)]
    return Family(tuple(pages), tuple(tables), moves_over(domains))


def _one(slug: str) -> TableSpec:
    """A table of one count (every record in it)."""
    return TableSpec(slug, (ONE,), (ONE,), lambda r: [(ONE, ONE)])


def _published(
    kind: str,
    period: Period,
    build: Callable[[list[int], list[frozenset[int]]], tuple[Family, Counter]],
) -> tuple[Publication, list[tuple[int, str]]]:
    """Publish one flow of the period for every page at once (reports.queries.published)."""

    def without_a_day_before(
        areas: list[int], sets: list[frozenset[int]]
    ) -> tuple[Family, Counter, None]:
        return (*build(areas, sets), None)

    return published(f"flows-{kind}", (period.start, period.end), without_a_day_before)


def _page(user: Any, period: Period) -> tuple[frozenset[int], str]:
    scope = local_authority_ids_for(user)
    chosen = {period.local_authority} & scope if period.local_authority else scope
    return page_key(chosen, period.age_group)


def _counted(rows: Iterable[tuple]) -> Counter:
    """Grouped rows (the record, then its count) as counted records."""
    return Counter({tuple(row[:-1]): row[-1] for row in rows})


def _get(publication: Publication, page: Hashable, slug: str, row: Hashable) -> Shown:
    """A count of the page's one-column table `slug`, as published; "<8" on a page nobody can
    be on."""
    return publication.figures.get((page, slug, row, ONE)) or Shown(0, SMALL)


# --- Referrals -------------------------------------------------------------------------------


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


# --- Ratings ---------------------------------------------------------------------------------


def _ratings_in(period: Period) -> Any:
    return Rating.objects.filter(
        effective_from__gte=period.start,
        effective_from__lte=period.end,
        entry__person__local_authority__isnull=False,
    )


def _transitions(period: Period) -> Callable:
    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter]:
        records = _counted(
            _ratings_in(period)
            .exclude(previous_rating="")
            .exclude(previous_rating=F("rating"))
            .annotate(k_age=age_at(period.end, "entry__person__"))
            .values_list("entry__person__local_authority_id", "k_age", "previous_rating", "rating")
            .annotate(n=Count("id"))
            .order_by()
        )
        table = TableSpec("transitions", tuple(RATINGS), tuple(RATINGS), lambda r: [(r[2], r[3])])
        domains = [(3, list(RATINGS)), (2, list(RATINGS)), (AREA, areas)]
        return _family(sets, [table], domains), records

    return build


def transitions_table(user: Any, period: Period) -> Table:
    """Rating changes in the period, from each rating to each."""
    publication, _areas = _published("transitions", period, _transitions(period))
    page = _page(user, period)
    return table_from(
        publication,
        page,
        "transitions",
        "Rating changes in the period",
        "From",
        [(r, f"From {RAG(r).label.lower()}") for r in RATINGS],
        [(r, f"To {RAG(r).label.lower()}") for r in RATINGS],
        colours=[RATING_COLOURS[r] for r in RATINGS],
    )


def _step_down_queryset(period: Period) -> Any:
    """Ratings in the period that stepped someone down from Red or Amber to Green without an
    admission during that Red or Amber spell: from the first day of the run of Red and Amber
    ratings that ended in the step-down, up to the step-down. (An admission after the
    step-down is not counted against it; one before the spell is another story.)"""
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
        _ratings_in(period)
        .filter(rating=RAG.GREEN, previous_rating__in=red_or_amber)
        .annotate(before_spell=Coalesce(Subquery(before_spell), Value(date.min)))
        .annotate(spell_start=Subquery(spell_start))
        .exclude(Exists(admitted))
    )


def _step_downs(period: Period) -> Callable:
    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter]:
        people = (
            _step_down_queryset(period)
            .annotate(k_age=age_at(period.end, "entry__person__"))
            .values_list("entry__person__local_authority_id", "k_age", "entry__person")
            .distinct()
        )
        records = Counter((area, age) for area, age, _person in people)
        return _family(sets, [_one("step-downs")], [(AREA, areas)]), records

    return build


def step_down_count(user: Any, period: Period) -> int:
    """People on the user's page who stepped down without an admission (the true count)."""
    publication, _areas = _published("step-downs", period, _step_downs(period))
    return _get(publication, _page(user, period), "step-downs", ONE).value


def step_down_figure(user: Any, period: Period) -> Figure:
    publication, _areas = _published("step-downs", period, _step_downs(period))
    shown = _get(publication, _page(user, period), "step-downs", ONE)
    return Figure("Stepped down from red or amber to green without an admission", str(shown))


# --- Admissions ------------------------------------------------------------------------------


def _admissions(period: Period) -> Callable:
    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter]:
        # Age at admission, as the national target counts it. A period's admissions are few, so
        # the ages are worked out from (date of birth, admission date) pairs: nothing else read.
        records: Counter = Counter()
        for area, age, born, admitted_on, first in (
            Admission.objects.filter(
                admitted_on__gte=period.start,
                admitted_on__lte=period.end,
                person__local_authority__isnull=False,
            )
            .annotate(k_age=age_at(period.end, "person__"))
            .values_list(
                "person__local_authority_id",
                "k_age",
                "person__date_of_birth",
                "admitted_on",
                "community_cetr_before_admission",
            )
        ):
            child = age_on(born, admitted_on) < YOUNG_PERSON_FROM_AGE
            records[(area, age, child, first)] += 1
        table = TableSpec("admissions", (True, False), (True, False), lambda r: [(r[2], r[3])])
        domains = [(3, [True, False]), (2, [True, False]), (AREA, areas)]
        return _family(sets, [table], domains), records

    return build


def admission_table(user: Any, period: Period) -> tuple[Table, list[Figure]]:
    """Admissions in the period by age at admission and whether a community C(E)TR came first,
    with the share for children against the national target of 90%, from the published counts."""
    publication, _areas = _published("admissions", period, _admissions(period))
    page = _page(user, period)
    table = table_from(
        publication,
        page,
        "admissions",
        "Admissions in the period",
        "Age at admission",
        [(True, "Children (under 18)"), (False, "Adults (18 and over)")],
        [(True, "With a community C(E)TR first"), (False, "Without")],
    )
    share = share_text(
        table.cells[0][0],
        table.row_totals[0],
        "children had a community C(E)TR first",
        "children admitted",
    )
    label = "Children with a community CETR before admission"
    return table, [Figure(label, share, "National target: 90%")]


# --- Reviews, actions and key workers --------------------------------------------------------


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


# --- Escalations -----------------------------------------------------------------------------


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
