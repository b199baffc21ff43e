"""Report queries: counts computed in the database (grouped queries), never rows of people.

The register snapshot at a date counts the register entries open on that day, each with the
rating it had that day, taken from the effective-dated, append-only rating rows (so last March's
numbers are last March's, whatever changed since). The other dimensions (diagnosis, area,
ethnicity, ...) are the person's current details; age group is worked out on the day.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Case, CharField, Count, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from dsr.deadlines import AgeGroup
from dsr.models import (
    RAG,
    Diagnosis,
    Ethnicity,
    LocalAuthority,
    PlacementType,
    Rating,
    RegisterEntry,
    Sex,
)
from dsr.queries import in_age_group
from dsr.scoping import local_authority_ids_for
from reports.suppression import WITHHELD_TEXT, Cell, suppress_table

RATINGS = [RAG.RED, RAG.AMBER, RAG.GREEN, RAG.BLUE]
CHART_ROW = 24
CHART_LABEL_SPACE = 260
CHART_BAR_SPACE = 400


@dataclass(frozen=True)
class SnapshotFilters:
    on: date
    local_authority: int | None = None
    age_group: str = ""


@dataclass
class Table:
    """A table of counts with its suppression decided: what every output shows."""

    slug: str
    title: str
    row_heading: str
    rows: list[str]
    columns: list[str]
    cells: list[list[Cell]]
    row_totals: list[Cell]
    column_totals: list[Cell]
    total: Cell
    total_label: str = "Total"

    @property
    def withheld(self) -> bool:
        """Too few people to show any of it (reports.suppression)."""
        return self.total.withheld

    @property
    def withheld_text(self) -> str:
        return WITHHELD_TEXT

    @property
    def lines(self) -> list[tuple[str, list[Cell], Cell]]:
        return list(zip(self.rows, self.cells, self.row_totals, strict=True))

    @property
    def chart(self) -> dict[str, Any]:
        """A horizontal bar per row, drawn from the same suppressed totals as the table: a
        hidden total has no bar, only "<5". Positions in SVG user units."""
        shown = [total.shown or 0 for total in self.row_totals]
        largest = max(shown, default=0) or 1
        bars = []
        for index, (label, total) in enumerate(zip(self.rows, self.row_totals, strict=True)):
            width = round(CHART_BAR_SPACE * (total.shown or 0) / largest)
            bars.append(
                {
                    "label": label if len(label) <= 34 else label[:33] + "…",
                    "text": str(total),
                    "y": CHART_ROW * index,
                    "text_y": CHART_ROW * index + 15,
                    "width": width,
                    "value_x": CHART_LABEL_SPACE + width + 6,
                }
            )
        return {
            "bars": bars,
            "height": CHART_ROW * len(self.rows),
            "bar_x": CHART_LABEL_SPACE,
            "view_width": CHART_LABEL_SPACE + CHART_BAR_SPACE + 60,
        }


def _table(slug: str, title: str, row_heading: str, labels: list[tuple[Any, str]], counts: dict):
    grid = [[counts.get((key, rating), 0) for rating in RATINGS] for key, _ in labels]
    cells, row_totals, column_totals, total = suppress_table(grid)
    return Table(
        slug=slug,
        title=title,
        row_heading=row_heading,
        rows=[label for _, label in labels],
        columns=[RAG(r).label for r in RATINGS],
        cells=cells,
        row_totals=row_totals,
        column_totals=column_totals,
        total=total,
    )


def entries_on(user: Any, filters: SnapshotFilters) -> Any:
    """The register entries open on the day, in the user's areas, each with the rating it had
    that day (`rating_on`)."""
    on = filters.on
    rating_on = Subquery(
        Rating.objects.filter(entry=OuterRef("pk"), effective_from__lte=on)
        .order_by("-effective_from", "-set_at", "-id")
        .values("rating")[:1]
    )
    entries = (
        RegisterEntry.objects.filter(
            opened_on__lte=on, person__local_authority_id__in=local_authority_ids_for(user)
        )
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=on))
        .annotate(rating_on=rating_on)
        .filter(rating_on__isnull=False)
    )
    if filters.local_authority:
        entries = entries.filter(person__local_authority_id=filters.local_authority)
    if filters.age_group:
        entries = entries.filter(in_age_group(AgeGroup(filters.age_group), on))
    return entries


def _age_group_on(on: date) -> Case:
    return Case(
        *[When(in_age_group(group, on), then=Value(group.value)) for group in AgeGroup],
        default=Value(""),
        output_field=CharField(),
    )


def _grouped(entries: Any, keys: list[Any]) -> list[dict[tuple[Any, str], int]]:
    """Counts by (key, rating on the day) for each of `keys`, from one grouped query over all
    of them together: the rating on the day is worked out once per entry, not once per table."""
    names = [f"k{index}" for index in range(len(keys))]
    rows = (
        entries.annotate(**dict(zip(names, keys, strict=True)))
        .values(*names, "rating_on")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: list[dict[tuple[Any, str], int]] = [{} for _ in keys]
    for row in rows:
        for index, name in enumerate(names):
            key = (row[name], row["rating_on"])
            counts[index][key] = counts[index].get(key, 0) + row["n"]
    return counts


def snapshot(user: Any, filters: SnapshotFilters) -> list[Table]:
    """The register on the day, by rating and by each dimension: one grouped query for all the
    tables (and one for the local authorities' names), whatever the size of the register."""
    entries = entries_on(user, filters)
    from django.db.models import F

    areas = list(
        LocalAuthority.objects.filter(pk__in=local_authority_ids_for(user)).order_by("name")
    )
    specs: list[tuple[str, str, str, Any, list[tuple[Any, str]]]] = [
        ("age-group", "By age group", "Age group", _age_group_on(filters.on), AgeGroup.choices),
        ("diagnosis", "By diagnosis", "Diagnosis", F("person__diagnosis"), Diagnosis.choices),
        (
            "local-authority",
            "By local authority",
            "Local authority",
            F("person__local_authority_id"),
            [(area.pk, area.name) for area in areas],
        ),
        ("ethnicity", "By ethnicity", "Ethnicity", F("person__ethnicity"), Ethnicity.choices),
        ("sex", "By sex", "Sex", F("person__sex"), Sex.choices),
        (
            "placement",
            "By where they live",
            "Placement",
            F("person__placement_type"),
            PlacementType.choices,
        ),
        (
            "ehcp",
            "By education, health and care plan",
            "EHCP",
            F("person__has_ehcp"),
            [(True, "Has an EHCP"), (False, "No EHCP")],
        ),
        (
            "out-of-area",
            "By placement in or out of area",
            "Placed",
            F("person__out_of_area"),
            [(False, "In area"), (True, "Out of area")],
        ),
    ]
    counts = _grouped(entries, [key for _slug, _title, _heading, key, _labels in specs])
    return [
        _table(slug, title, heading, labels, grouped)
        for (slug, title, heading, _key, labels), grouped in zip(specs, counts, strict=True)
    ]


TABLES = [
    "age-group",
    "diagnosis",
    "local-authority",
    "ethnicity",
    "sex",
    "placement",
    "ehcp",
    "out-of-area",
]


def needs_table(user: Any, local_authority: int | None = None, age_group: str = "") -> Table:
    """Unmet needs and barriers of the people on the register now, by need and local
    authority: one grouped query (and one for the areas' names)."""
    from dsr.models import Need, PersonNeed

    scope = local_authority_ids_for(user)
    if local_authority:
        scope = scope & {local_authority}
    areas = list(LocalAuthority.objects.filter(pk__in=scope).order_by("name"))
    needs = PersonNeed.objects.filter(
        met_on__isnull=True,
        person__local_authority_id__in=[a.pk for a in areas],
        person__register_entries__status=RegisterEntry.Status.OPEN,
    )
    if age_group:
        needs = needs.filter(in_age_group(AgeGroup(age_group), timezone.localdate()))
    rows = (
        needs.values("need", "person__local_authority_id")
        .annotate(n=Count("person", distinct=True))
        .order_by()
    )
    counts = {(row["need"], row["person__local_authority_id"]): row["n"] for row in rows}
    grid = [[counts.get((need, area.pk), 0) for area in areas] for need, _ in Need.choices]
    cells, row_totals, column_totals, total = suppress_table(grid)
    return Table(
        slug="needs",
        title="Unmet needs and barriers, by local authority",
        total_label="All needs (a person may have several)",
        row_heading="Need",
        rows=[label for _, label in Need.choices],
        columns=[area.name for area in areas],
        cells=cells,
        row_totals=row_totals,
        column_totals=column_totals,
        total=total,
    )
