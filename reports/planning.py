"""Planning figures over a chosen year (issue "Figures a commissioner can plan a budget from"):
month-by-month trends, hospital use (admissions, the share of people on the register before
admission, discharges, length of stay, bed days), placements, and committed spend.

Every function here returns plain data (a `Series` of texts, or a published `Table`) and takes
the reader and their filters, so the report pages, the CSV files and a read-only API all show
the same published figures. No figure here names or singles out anyone:

- Counts go through reports.disclosure as every flow does (rounded to 5, "<8", checked against
  every page of the month's family). Months are whole calendar months that have ended, and no
  figure sums several months (ADR 0005, point 5): a year's counts are its months'.
- Bed days and costs are magnitude tables (reports.disclosure.magnitude): shown only with at
  least MIN_CONTRIBUTORS people in them, under the p% dominance rule, checked two by two against
  every other month and area set, and rounded.
- Medians of length of stay are shown for at least MEDIAN_FROM stays, in whole days.

Committed spend in a month: the weekly cost of each placement, care package and hospital stay
in place during the month, for the days it was in place (weekly cost x days / 7), where a
weekly cost is recorded. A person's several packages are one contribution.
"""

import calendar
import statistics
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from django.db.models import Q

from dsr.models import RAG, Admission, LocalAuthority, Placement, PlacementType
from dsr.security.scoping import local_authority_ids_for
from reports.counting import kept_figures
from reports.disclosure import HIDDEN, Family, TableSpec
from reports.disclosure.magnitude import (
    MagnitudeCell,
    ShownAmount,
    publish_amounts,
    round_amount,
)
from reports.flows import (
    MEDIAN_FROM,
    Period,
    admission_table,
    known_before,
    referral_figures,
    step_down_figure,
    whole_days,
)
from reports.flows.common import (
    AREA,
    ONE,
    _family,
    _get,
    _one,
    _published,
    age_at,
    share_text,
)
from reports.queries import RATINGS, SnapshotFilters, Table, area_sets, snapshot, table_from
from reports.queries.pages import publications_kept


@dataclass(frozen=True)
class Series:
    """A table of published figures, one row a month (or an area), as texts: what the page,
    the CSV file and an API show."""

    slug: str
    title: str
    row_heading: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]
    note: str = ""
    keys: list[Hashable] = field(default_factory=list)

    def records(self) -> list[dict[str, str]]:
        """The rows as plain dictionaries (for CSV and JSON)."""
        return [
            {self.row_heading: label, **dict(zip(self.columns, cells, strict=True))}
            for label, cells in self.rows
        ]


# --- Months -----------------------------------------------------------------------------------


def months_of(year: int, today: date) -> list[tuple[date, date]]:
    """The whole calendar months of `year` that have ended by `today`."""
    months = []
    for month in range(1, 13):
        last = date(year, month, calendar.monthrange(year, month)[1])
        if last < today:
            months.append((date(year, month, 1), last))
    return months


def _month_label(start: date) -> str:
    return f"{start:%B %Y}"


def _overlap(start: date, end: date | None, first: date, last: date, today: date) -> int:
    """Days of [start, end] (end None: still open, up to `today`) inside [first, last]."""
    stop = min(end or today, last)
    begin = max(start, first)
    return max(0, (stop - begin).days + 1)


# --- Counts (reports.disclosure, as every flow) -----------------------------------------------


def _page(user: Any, local_authority: int | None) -> tuple[frozenset[int], str]:
    scope = local_authority_ids_for(user)
    chosen = {local_authority} & scope if local_authority else scope
    return (frozenset(chosen), "")


def _discharges(period: Period) -> Callable:
    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter]:
        records = Counter(
            (area, age)
            for area, age in Admission.objects.filter(
                discharged_on__gte=period.start,
                discharged_on__lte=period.end,
                person__local_authority__isnull=False,
            )
            .annotate(k_age=age_at(period.end, "person__"))
            .values_list("person__local_authority_id", "k_age")
        )
        return _family(sets, [_one("discharges")], [(AREA, areas)]), records

    return build


def _placements(period: Period) -> Callable:
    """Placements in place on the last day of the period, by type and in or out of area."""

    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter]:
        on = period.end
        records = Counter(
            (area, age, kind, out)
            for area, age, kind, out in Placement.objects.filter(
                Q(ended_on__isnull=True) | Q(ended_on__gte=on),
                started_on__lte=on,
                person__local_authority__isnull=False,
            )
            .annotate(k_age=age_at(on, "person__"))
            .values_list("person__local_authority_id", "k_age", "placement_type", "out_of_area")
        )
        kinds = tuple(value for value, _ in PlacementType.choices)
        table = TableSpec("placements", kinds, (False, True), lambda r: [(r[2], r[3])])
        domains = [(3, [False, True]), (2, list(kinds)), (AREA, areas)]
        return _family(sets, [table], domains), records

    return build


def discharges_figure(user: Any, period: Period) -> str:
    publication, _ = _published("discharges", period, _discharges(period))
    return str(_get(publication, _page(user, period.local_authority), "discharges", ONE))


def trends(user: Any, year: int, today: date, local_authority: int | None = None) -> Series:
    """Month by month: people on the register at each month's end by rating, and referrals,
    admissions, discharges and step-downs from red or amber to green without an admission
    during the month. Each figure is the one the month's own report publishes."""
    columns = [f"{RAG(r).label} at the month's end" for r in RATINGS]
    columns += ["New referrals", "Admissions", "Discharges", "Stepped down without admission"]
    rows, keys = [], []
    for start, end in months_of(year, today):
        period = Period(start=start, end=end, local_authority=local_authority)
        by_age = snapshot(user, SnapshotFilters(on=end, local_authority=local_authority))[0]
        referrals = {f.label: f.text for f in referral_figures(user, period)}
        admissions, _figures = admission_table(user, period)
        cells = [str(total) for total in by_age.column_totals]
        cells += [
            referrals["New referrals"],
            str(admissions.total),
            discharges_figure(user, period),
            step_down_figure(user, period).text,
        ]
        rows.append((_month_label(start), cells))
        keys.append(start)
    return Series(
        "trends",
        "Month by month",
        "Month",
        columns,
        rows,
        "Each month's figures are rounded and checked on their own; a year is its months.",
        keys,
    )


# --- Magnitudes: bed days and committed spend -------------------------------------------------


def _all_months(first: date, today: date) -> list[tuple[date, date]]:
    months = []
    start = first.replace(day=1)
    while True:
        last = date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
        if last >= today:
            return months
        months.append((start, last))
        start = last + timedelta(days=1)


Span = tuple[Hashable, int, date, date | None, Fraction]


def _by_month(
    rows: list[Span], months: list[tuple[date, date]], today: date
) -> list[dict[int, dict[Hashable, Fraction]]]:
    """For each month, each area's people and their amounts in it. Each span is added to the
    months it overlaps only (found from the month's number), not tried against every month
    since the first span began."""
    first_month = months[0][0]

    def month_index(day: date) -> int:
        return (day.year - first_month.year) * 12 + day.month - first_month.month

    by_month: list[dict[int, dict[Hashable, Fraction]]] = [{} for _ in months]
    for person, area, start, end, per_day in rows:
        stop = min(end or today, months[-1][1])
        for index in range(max(0, month_index(start)), month_index(stop) + 1):
            first, last = months[index]
            overlap = _overlap(start, end, first, last, today)
            if overlap:
                people = by_month[index].setdefault(area, {})
                people[person] = people.get(person, Fraction(0)) + per_day * overlap
    return by_month


def magnitude_cells(
    rows: list[Span], sets: list[frozenset[int]], today: date
) -> tuple[dict[Hashable, MagnitudeCell], dict[Hashable, list[Hashable]]]:
    """The totals to publish from spans (person, area, start, end or None, amount per day):
    one for every set of areas and every month that has ended since the first span began,
    each person's amount in it, and for a set of several areas the totals it is the sum of."""
    cells: dict[Hashable, MagnitudeCell] = {}
    parts: dict[Hashable, list[Hashable]] = {}
    if not rows:
        return cells, parts
    months = _all_months(min(r[2] for r in rows), today)
    if not months:
        return cells, parts
    by_month = _by_month(rows, months, today)
    for (first, last), by_area in zip(months, by_month, strict=True):
        days = (last - first).days + 1
        for area_set in sets:
            contributions: dict[Hashable, Fraction] = {}
            for area in area_set:
                for person, amount in by_area.get(area, {}).items():
                    contributions[person] = contributions.get(person, Fraction(0)) + amount
            cells[(area_set, first)] = MagnitudeCell(contributions, days)
            if len(area_set) > 1:
                parts[(area_set, first)] = [(frozenset([a]), first) for a in area_set]
    return cells, parts


def amounts_through(today: date) -> date:
    """The last day of the last month that has ended: the amounts published on `today` cover
    every month up to it, and are the same on every day of this month."""
    return today.replace(day=1) - timedelta(days=1)


def _magnitude_publication(kind: str, today: date) -> dict[Hashable, ShownAmount]:
    """Publish a magnitude (MAGNITUDES) for every area set and every month that has ended, at
    once and the same for every reader. Only months that have ended are in it, so it is
    counted like a day that has ended (reports.counting): each night, and kept, not again at
    each recount of today's figures."""
    through = amounts_through(today)

    def compute() -> dict[Hashable, ShownAmount]:
        areas = list(LocalAuthority.objects.values_list("pk", flat=True))
        # As on the first day of this month: the same months, and the same days of each.
        on = through + timedelta(days=1)
        cells, parts = magnitude_cells(MAGNITUDES[kind](), area_sets(areas), on)
        return publish_amounts(cells, parts=parts, text=_money if kind == "spend" else _days)

    return kept_figures(f"planning-{kind}", (through,), compute)


def count_amounts(today: date) -> None:
    """Count and keep every magnitude published on `today` (reports.tasks)."""
    for kind in MAGNITUDES:
        _magnitude_publication(kind, today)


def _money(value: Fraction) -> str:
    return f"£{round_amount(value):,}"


def _days(value: Fraction) -> str:
    return f"{round_amount(value, 10):,}"


def _cost_spans() -> list[tuple[int, int, date, date | None, Fraction]]:
    """Every placement, care package and hospital stay with a weekly cost: (person, area,
    start, end, cost per day). Two queries."""
    rows = []
    for model, start, end in (
        (Placement, "started_on", "ended_on"),
        (Admission, "admitted_on", "discharged_on"),
    ):
        for person, area, began, ended, weekly in model.objects.filter(
            weekly_cost__isnull=False, person__local_authority__isnull=False
        ).values_list("person_id", "person__local_authority_id", start, end, "weekly_cost"):
            rows.append((person, area, began, ended, Fraction(weekly) / 7))
    return rows


def _bed_day_spans() -> list[tuple[int, int, date, date | None, Fraction]]:
    """Every hospital stay: a bed day for each midnight in hospital (the day of admission up to
    the day before discharge), so a stay's bed days are its length of stay. One query."""
    return [
        (person, area, began, ended - timedelta(days=1) if ended else None, Fraction(1))
        for person, area, began, ended in Admission.objects.filter(
            person__local_authority__isnull=False
        ).values_list("person_id", "person__local_authority_id", "admitted_on", "discharged_on")
    ]


NONE_RECORDED = "None recorded"


# The magnitudes published, each with its spans (person, area, start, end or None, per day).
MAGNITUDES: dict[str, Callable[[], list[Span]]] = {
    "bed-days": _bed_day_spans,
    "spend": _cost_spans,
}


def _amount(published: dict, area_set: frozenset[int], month: date) -> str:
    shown = published.get((area_set, month))
    if shown is not None:
        return shown.text
    # Before the first record anywhere, nothing is recorded for anyone; a set of areas nobody
    # can ask for (an organisation covering none) shows nothing.
    return NONE_RECORDED if area_set and not _after_first(published, month) else HIDDEN


def _after_first(published: dict, month: date) -> bool:
    return any(key[1] <= month for key in published)


def committed_spend(
    user: Any, year: int, today: date, local_authority: int | None = None
) -> Series:
    """Committed spend by month, for each of the reader's areas and (for more than one) all of
    them together, as published (reports.disclosure.magnitude)."""
    published = _magnitude_publication("spend", today)
    page, _ = _page(user, local_authority)
    names = dict(LocalAuthority.objects.filter(pk__in=page).values_list("pk", "name"))
    areas = sorted(page, key=lambda pk: names.get(pk, ""))
    columns = [names[pk] for pk in areas]
    if len(areas) > 1:
        columns.append("All these areas")
    rows, keys = [], []
    for start, _end in months_of(year, today):
        cells = [_amount(published, frozenset([pk]), start) for pk in areas]
        if len(areas) > 1:
            cells.append(_amount(published, page, start))
        rows.append((_month_label(start), cells))
        keys.append(start)
    return Series(
        "committed-spend",
        "Committed spend by month and local authority",
        "Month",
        columns,
        rows,
        "Weekly costs of placements, care packages and hospital stays in place during the "
        "month, for the days they were in place, rounded to the nearest £100. [c]: not shown, "
        "so that no one person's package can be worked out.",
        keys,
    )


def hospital_use(user: Any, year: int, today: date, local_authority: int | None = None) -> Series:
    """Month by month: admissions, how many of them were of people on the register before
    admission and the share, discharges, the median length of stay of those discharged, and
    bed days in the month."""
    bed_days = _magnitude_publication("bed-days", today)
    page = _page(user, local_authority)
    columns = [
        "Admissions",
        "On the register before admission",
        "Share on the register before admission",
        "Discharges",
        "Median length of stay of those discharged (days)",
        "Bed days",
    ]
    rows, keys = [], []
    months = months_of(year, today)
    stays = _stays_by_month(page[0], months)
    for start, end in months:
        period = Period(start=start, end=end, local_authority=local_authority)
        admissions, _ = admission_table(user, period)
        before, all_admitted = known_before(user, period)
        before_text = str(before)
        share = share_text(before, all_admitted, "admitted from the register", "admissions")
        rows.append(
            (
                _month_label(start),
                [
                    str(admissions.total),
                    before_text,
                    share,
                    discharges_figure(user, period),
                    _length_of_stay(stays[start]),
                    _amount(bed_days, page[0], start),
                ],
            )
        )
        keys.append(start)
    return Series(
        "hospital-use",
        "Hospital use month by month",
        "Month",
        columns,
        rows,
        f"Length of stay is shown for {MEDIAN_FROM} discharges or more. Bed days are rounded "
        "to the nearest 10; [c]: not shown, so that no one person's stay can be worked out.",
        keys,
    )


def _stays_by_month(
    areas: frozenset[int], months: list[tuple[date, date]]
) -> dict[date, list[int]]:
    """The lengths of stay, in days, of stays ending in each month in `areas`: one query for
    the year, sliced by month."""
    stays: dict[date, list[int]] = {start: [] for start, _ in months}
    if not months:
        return stays
    for admitted, discharged in Admission.objects.filter(
        discharged_on__gte=months[0][0],
        discharged_on__lte=months[-1][1],
        person__local_authority__in=areas,
    ).values_list("admitted_on", "discharged_on"):
        stays[discharged.replace(day=1)].append((discharged - admitted).days)
    return stays


def _length_of_stay(stays: list[int]) -> str:
    """The median length of stay, in whole days, of a month's stays."""
    if len(stays) < MEDIAN_FROM:
        return f"Not shown: fewer than {MEDIAN_FROM} discharges"
    return whole_days(statistics.median(stays))


def placements_table(
    user: Any, year: int, today: date, local_authority: int | None = None
) -> Table | None:
    """Placements in place at the end of the year's last month that has ended, by type and
    whether in or out of area, as published (None before the year's first month has ended)."""
    months = months_of(year, today)
    if not months:
        return None
    start, end = months[-1]
    period = Period(start=start, end=end, local_authority=local_authority)
    publication, _ = _published("placements", period, _placements(period))
    return table_from(
        publication,
        _page(user, local_authority),
        "placements",
        f"Placements on {end:%-d %B %Y}",
        "Placement",
        list(PlacementType.choices),
        [(False, "In area"), (True, "Out of area")],
    )


@dataclass(frozen=True)
class Planning:
    """Every planning figure for a year, as the page shows them."""

    year: int
    months: int
    trends: Series
    hospital: Series
    spend: Series
    placements: Table | None


def planning(user: Any, year: int, today: date, local_authority: int | None = None) -> Planning:
    # The trends and hospital use read each month's admissions and discharges: published once.
    with publications_kept():
        return Planning(
            year=year,
            months=len(months_of(year, today)),
            trends=trends(user, year, today, local_authority),
            hospital=hospital_use(user, year, today, local_authority),
            spend=committed_spend(user, year, today, local_authority),
            placements=placements_table(user, year, today, local_authority),
        )
