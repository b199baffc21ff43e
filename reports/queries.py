"""Report queries: counts computed in the database (grouped queries), never rows of people.

The register snapshot at a date counts the register entries open on that day, each with the
rating it had that day, taken from the effective-dated, append-only rating rows (so last March's
numbers are last March's, whatever changed since). The other details (diagnosis, area,
ethnicity, ...) are the person's current ones; age group is worked out on the day.

What is shown is decided for every page a reader could ask for at once (each area, each
organisation's areas together, each age group and all of them: reports.disclosure), with the
previous day's, so that no page, set beside the others, gives a small count away (ADR 0005).
"""

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case, CharField, Count, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from dsr.caching import kept_for_a_while
from dsr.deadlines import AgeGroup
from dsr.models import (
    RAG,
    Diagnosis,
    Ethnicity,
    LocalAuthority,
    Need,
    Organisation,
    PersonNeed,
    PlacementType,
    Rating,
    RegisterEntry,
    Sex,
)
from dsr.queries import in_age_group
from dsr.scoping import local_authority_ids_for
from reports.disclosure import (
    SMALL,
    TOTAL,
    WITHHELD_TEXT,
    Family,
    PageSpec,
    Publication,
    Shown,
    TableSpec,
    publish,
)

RATINGS = [RAG.RED, RAG.AMBER, RAG.GREEN, RAG.BLUE]
RATING_COLOURS = {
    RAG.RED: "#d5281b",
    RAG.AMBER: "#ffb81c",
    RAG.GREEN: "#007f3b",
    RAG.BLUE: "#005eb8",
}
CHART_ROW = 24
CHART_LABEL_SPACE = 260
CHART_BAR_SPACE = 400
CHART_LEGEND = 28


@dataclass(frozen=True)
class SnapshotFilters:
    on: date
    local_authority: int | None = None
    age_group: str = ""


@dataclass
class Table:
    """A table of published counts (reports.disclosure): what every output shows."""

    slug: str
    title: str
    row_heading: str
    rows: list[str]
    columns: list[str]
    cells: list[list[Shown]]
    row_totals: list[Shown]
    column_totals: list[Shown]
    total: Shown
    total_label: str = "Total"
    # The colour of each column's part of a bar, where the columns are ratings; otherwise each
    # row's total is one bar.
    colours: list[str] | None = None

    @property
    def withheld(self) -> bool:
        """Nothing of it may be shown (reports.disclosure)."""
        return self.total.withheld

    @property
    def withheld_text(self) -> str:
        return WITHHELD_TEXT

    @property
    def lines(self) -> list[tuple[str, list[Shown], Shown]]:
        return list(zip(self.rows, self.cells, self.row_totals, strict=True))

    @property
    def chart(self) -> dict[str, Any]:
        """A horizontal bar per row, drawn from the same published numbers as the table, split
        by rating where the table is: a count shown as "<8" or hidden has no bar, and a row with
        a hidden part is drawn as its total alone. Positions in SVG user units."""
        if self.colours:
            parts = [[(cell.shown or 0) for cell in cells] for cells in self.cells]
            whole = [
                part if all(not c.hidden for c in cells) else [total.shown or 0]
                for part, cells, total in zip(parts, self.cells, self.row_totals, strict=True)
            ]
        else:
            whole = [[total.shown or 0] for total in self.row_totals]
        largest = max((sum(row) for row in whole), default=0) or 1
        top = CHART_LEGEND if self.colours else 0
        bars = []
        for index, (label, row, total) in enumerate(
            zip(self.rows, whole, self.row_totals, strict=True)
        ):
            y = top + CHART_ROW * index
            x = CHART_LABEL_SPACE
            segments = []
            split = self.colours and len(row) == len(self.colours)
            for column, value in enumerate(row):
                width = round(CHART_BAR_SPACE * value / largest)
                if width:
                    colour = self.colours[column] if split else None
                    segments.append({"x": x, "width": width, "colour": colour})
                x += width
            bars.append(
                {
                    "label": label if len(label) <= 34 else label[:33] + "…",
                    "text": str(total),
                    "y": y,
                    "text_y": y + 15,
                    "segments": segments,
                    "value_x": x + 6,
                }
            )
        legend = []
        if self.colours:
            for index, (name, colour) in enumerate(zip(self.columns, self.colours, strict=True)):
                legend.append(
                    {"x": CHART_LABEL_SPACE + 100 * index, "name": name, "colour": colour}
                )
        return {
            "bars": bars,
            "legend": legend,
            "height": top + CHART_ROW * len(self.rows),
            "view_width": CHART_LABEL_SPACE + CHART_BAR_SPACE + 60,
        }


def table_from(
    publication: Publication,
    page: Hashable,
    slug: str,
    title: str,
    row_heading: str,
    rows: list[tuple[Hashable, str]],
    columns: list[tuple[Hashable, str]],
    **options: Any,
) -> Table:
    """The page's table `slug` as published. A page nobody can be on (an organisation that
    covers no area, or an area outside the reader's) is all "<8"."""

    def get(row: Hashable, column: Hashable) -> Shown:
        return publication.figures.get((page, slug, row, column)) or Shown(0, SMALL)

    return Table(
        slug=slug,
        title=title,
        row_heading=row_heading,
        rows=[label for _, label in rows],
        columns=[label for _, label in columns],
        cells=[[get(row, column) for column, _ in columns] for row, _ in rows],
        row_totals=[get(row, TOTAL) for row, _ in rows],
        column_totals=[get(TOTAL, column) for column, _ in columns],
        total=get(TOTAL, TOTAL),
        **options,
    )


# --- Families of pages -----------------------------------------------------------------------


def area_sets(areas: Iterable[int]) -> list[frozenset[int]]:
    """The sets of areas a reader can ask about: each area, and each organisation's areas
    together (what "all areas" means for its staff). One query."""
    areas = sorted(areas)
    sets = [frozenset([area]) for area in areas]
    covered: dict[int, set[int]] = {}
    for organisation, area in Organisation.local_authorities.through.objects.values_list(
        "organisation_id", "localauthority_id"
    ):
        covered.setdefault(organisation, set()).add(area)
    for scope in sorted({frozenset(s) for s in covered.values() if len(s) > 1}, key=sorted):
        sets.append(scope)
    return sets


AGE_GROUPS = [group.value for group in AgeGroup]


def page_key(areas: Iterable[int], age_group: str) -> tuple[frozenset[int], str]:
    return (frozenset(areas), age_group or "")


def pages_for(
    sets: list[frozenset[int]], area_of: int, age_of: int, row_filters: dict[str, int]
) -> tuple[PageSpec, ...]:
    """A page for every set of areas and every age group (and all of them). A record's area
    is at `area_of`, its age group at `age_of`; `row_filters` names the tables whose rows are
    areas or age groups (a page shows only its own)."""
    pages = []
    for areas in sets:
        for age in ["", *AGE_GROUPS]:
            ages = (age,) if age else tuple(AGE_GROUPS)

            def includes(record: tuple, areas: frozenset = areas, ages: tuple = ages) -> bool:
                return record[area_of] in areas and record[age_of] in ages

            rows = {}
            for slug, index in row_filters.items():
                rows[slug] = tuple(sorted(areas)) if index == area_of else ages
            pages.append(PageSpec(page_key(areas, age), includes, rows))
    return tuple(pages)


def moves_over(domains: list[tuple[int, list[Hashable]]]):
    """A record's moves: each detail changed to each other value, in the order given."""

    def moves(record: tuple) -> Iterable[tuple]:
        for index, values in domains:
            for value in values:
                if value != record[index]:
                    yield (*record[:index], value, *record[index + 1 :])

    return moves


# --- The register snapshot -------------------------------------------------------------------

# A person on the register on a day: (area, age group, rating) that day, and current details.
AREA, AGE, RATING = 0, 1, 2


@dataclass(frozen=True)
class Dimension:
    slug: str
    title: str
    row_heading: str
    field: Any  # the database expression, from a register entry
    choices: list[tuple[Any, str]]


def dimensions() -> list[Dimension]:
    """The details each snapshot table counts by, in page order (the age group and the area
    come first, worked out by the snapshot itself)."""
    return [
        Dimension(
            "diagnosis", "By diagnosis", "Diagnosis", F("person__diagnosis"), Diagnosis.choices
        ),
        Dimension(
            "ethnicity", "By ethnicity", "Ethnicity", F("person__ethnicity"), Ethnicity.choices
        ),
        Dimension("sex", "By sex", "Sex", F("person__sex"), Sex.choices),
        Dimension(
            "placement",
            "By where they live",
            "Placement",
            F("person__placement_type"),
            PlacementType.choices,
        ),
        Dimension(
            "ehcp",
            "By education, health and care plan",
            "EHCP",
            F("person__has_ehcp"),
            [(True, "Has an EHCP"), (False, "No EHCP")],
        ),
        Dimension(
            "out-of-area",
            "By placement in or out of area",
            "Placed",
            F("person__out_of_area"),
            [(False, "In area"), (True, "Out of area")],
        ),
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


def snapshot_family(areas: list[int], sets: list[frozenset[int]]) -> Family:
    """Every snapshot page a reader can ask for on a day: each table by rating, for every set
    of areas and age group."""
    details = dimensions()
    tables = [
        TableSpec("age-group", tuple(AGE_GROUPS), tuple(RATINGS), lambda r: [(r[AGE], r[RATING])]),
        TableSpec(
            "local-authority", tuple(areas), tuple(RATINGS), lambda r: [(r[AREA], r[RATING])]
        ),
    ]
    for index, detail in enumerate(details, start=3):
        tables.append(
            TableSpec(
                detail.slug,
                tuple(value for value, _ in detail.choices),
                tuple(RATINGS),
                lambda r, index=index: [(r[index], r[RATING])],
            )
        )
    domains = [(index, [v for v, _ in d.choices]) for index, d in enumerate(details, start=3)]
    domains += [(RATING, list(RATINGS)), (AGE, AGE_GROUPS), (AREA, areas)]
    pages = pages_for(sets, AREA, AGE, {"local-authority": AREA, "age-group": AGE})
    return Family(pages, tuple(tables), moves_over(domains))


def age_group_on(on: date) -> Case:
    return Case(
        *[When(in_age_group(group, on), then=Value(group.value)) for group in AgeGroup],
        default=Value(""),
        output_field=CharField(),
    )


def register_on(on: date) -> Counter:
    """The people on the register on the day, in every area, as records (area, age group and
    rating that day, then each detail of `dimensions()`), counted: one grouped query."""
    rating_on = Subquery(
        Rating.objects.filter(entry=OuterRef("pk"), effective_from__lte=on)
        .order_by("-effective_from", "-set_at", "-id")
        .values("rating")[:1]
    )
    fields = {
        "k_area": F("person__local_authority_id"),
        "k_age": age_group_on(on),
        "k_rating": rating_on,
    }
    fields |= {f"k{index}": detail.field for index, detail in enumerate(dimensions())}
    rows = (
        RegisterEntry.objects.filter(opened_on__lte=on)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=on))
        .annotate(**fields)
        .filter(k_rating__isnull=False)
        .values_list(*fields)
        .annotate(n=Count("id"))
        .order_by()
    )
    return Counter({tuple(row[:-1]): row[-1] for row in rows})


Build = Callable[[list[int], list[frozenset[int]]], tuple[Family, Counter, Counter | None]]


def published(kind: str, parts: tuple, build: Build) -> tuple[Publication, list[tuple[int, str]]]:
    """Every page of a family published at once, from `build(areas, sets of areas)`'s family
    and records (and the previous day's, if any), with the areas' names; kept for a while, the
    same for every reader whatever their scope, so that no two readers see one page two ways."""

    def compute() -> tuple[Publication, list[tuple[int, str]]]:
        areas = list(LocalAuthority.objects.order_by("name").values_list("pk", "name"))
        ids = [pk for pk, _ in areas]
        family, today, previous = build(ids, area_sets(ids))
        return publish(family, today, previous), areas

    kept, _counted_at = kept_for_a_while(
        kind, None, parts, compute, settings.DSR_REPORT_CACHE_SECONDS
    )
    return kept


def snapshot_publication(on: date) -> tuple[Publication, list[tuple[int, str]]]:
    """Every snapshot page for the day, with the previous day's. Four queries."""

    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter, Counter]:
        return snapshot_family(areas, sets), register_on(on), register_on(on - timedelta(days=1))

    return published("snapshot-family", (on,), build)


def snapshot(user: Any, filters: SnapshotFilters) -> list[Table]:
    """The tables of the user's page for the day (their areas, or the one chosen, and the age
    group chosen), as published."""
    publication, areas = snapshot_publication(filters.on)
    scope = local_authority_ids_for(user)
    chosen = {filters.local_authority} & scope if filters.local_authority else scope
    page = page_key(chosen, filters.age_group)
    names = dict(areas)
    ratings = [(r, RAG(r).label) for r in RATINGS]
    colours = [RATING_COLOURS[r] for r in RATINGS]
    age_rows = [(g, label) for g, label in AgeGroup.choices]
    if filters.age_group:
        age_rows = [(g, label) for g, label in age_rows if g == filters.age_group]
    area_rows = [(pk, names[pk]) for pk, _ in areas if pk in chosen]
    tables = [
        table_from(
            publication,
            page,
            "age-group",
            "By age group",
            "Age group",
            age_rows,
            ratings,
            colours=colours,
        ),
    ]
    details = {d.slug: d for d in dimensions()}
    for slug in TABLES[1:]:
        if slug == "local-authority":
            tables.append(
                table_from(
                    publication,
                    page,
                    slug,
                    "By local authority",
                    "Local authority",
                    area_rows,
                    ratings,
                    colours=colours,
                )
            )
            continue
        detail = details[slug]
        tables.append(
            table_from(
                publication,
                page,
                slug,
                detail.title,
                detail.row_heading,
                detail.choices,
                ratings,
                colours=colours,
            )
        )
    return tables


# --- Unmet needs and barriers ----------------------------------------------------------------

NEEDS = 3  # a person: (area, age group, 0, the needs not met on the day)


def needs_on(on: date) -> Counter:
    """The people on the register on the day, each with the needs noted and not yet met by
    then, as records (area, age group, 0, needs): two queries."""
    open_on = (
        RegisterEntry.objects.filter(opened_on__lte=on)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=on))
        .values_list("person_id", "person__local_authority_id")
        .annotate(k_age=age_group_on(on))
        .distinct()
    )
    people = {person: (area, age) for person, area, age in open_on}
    unmet: dict[int, set[str]] = {}
    for person, need in (
        PersonNeed.objects.filter(person_id__in=list(people), noted_on__lte=on)
        .filter(Q(met_on__isnull=True) | Q(met_on__gt=on))
        .values_list("person_id", "need")
    ):
        unmet.setdefault(person, set()).add(need)
    return Counter(
        (area, age, 0, frozenset(unmet.get(person, ()))) for person, (area, age) in people.items()
    )


def needs_family(areas: list[int], sets: list[frozenset[int]]) -> Family:
    """Every needs page a reader can ask for: needs by area, for every set of areas and age
    group. A person's moves: one need more or fewer, then their age group, then their area."""
    needs = tuple(value for value, _ in Need.choices)
    table = TableSpec("needs", needs, tuple(areas), lambda r: [(n, r[AREA]) for n in r[NEEDS]])
    pages = []
    for page in pages_for(sets, AREA, AGE, {}):
        areas_of_page = tuple(sorted(page.key[0]))
        pages.append(PageSpec(page.key, page.includes, None, {"needs": areas_of_page}))
    others = moves_over([(AGE, AGE_GROUPS), (AREA, areas)])

    def moves(record: tuple) -> Iterable[tuple]:
        for need in needs:
            yield (*record[:NEEDS], record[NEEDS] ^ {need})
        yield from others(record)

    return Family(tuple(pages), (table,), moves)


def needs_publication(on: date) -> tuple[Publication, list[tuple[int, str]]]:
    """Every needs page for the day, with the previous day's."""

    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter, Counter]:
        return needs_family(areas, sets), needs_on(on), needs_on(on - timedelta(days=1))

    return published("needs-family", (on,), build)


def needs_table(user: Any, local_authority: int | None = None, age_group: str = "") -> Table:
    """Unmet needs and barriers of the people on the register today, by need and local
    authority, as published."""
    publication, areas = needs_publication(timezone.localdate())
    scope = local_authority_ids_for(user)
    chosen = {local_authority} & scope if local_authority else scope
    page = page_key(chosen, age_group)
    columns = [(pk, name) for pk, name in areas if pk in chosen]
    rows = list(Need.choices)
    return table_from(
        publication,
        page,
        "needs",
        "Unmet needs and barriers, by local authority",
        "Need",
        rows,
        columns,
        total_label="All needs (a person may have several)",
    )
