"""The register snapshot at a date (reports.queries): the people on the register that day,
by each detail and rating, for every page at once."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F, OuterRef, Q, Subquery

from dsr.deadlines import AgeGroup
from dsr.models import (
    RAG,
    Diagnosis,
    Ethnicity,
    PlacementType,
    Rating,
    RegisterEntry,
    Sex,
)
from dsr.security.scoping import local_authority_ids_for
from reports.disclosure import Family, Publication, TableSpec
from reports.queries.pages import (
    AGE_GROUPS,
    age_group_on,
    moves_over,
    page_key,
    pages_for,
    published,
)
from reports.queries.tables import RATING_COLOURS, RATINGS, Table, table_from


@dataclass(frozen=True)
class SnapshotFilters:
    on: date
    local_authority: int | None = None
    age_group: str = ""


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
