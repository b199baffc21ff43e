"""Unmet needs and barriers (reports.queries): the needs noted and not yet met of the people
on the register on a day, by need and area, for every page at once."""

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from dsr.models import Need, PersonNeed, RegisterEntry
from dsr.security.scoping import local_authority_ids_for
from reports.disclosure import Family, PageSpec, Publication, TableSpec
from reports.queries.pages import (
    AGE_GROUPS,
    age_group_on,
    moves_over,
    page_key,
    pages_for,
    published,
)
from reports.queries.register import AGE, AREA
from reports.queries.tables import Table, table_from

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
