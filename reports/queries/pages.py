"""Families of pages (reports.queries): every page a reader can ask for (each area, each
organisation's areas together, each age group and all of them), published at once."""

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from django.db.models import Case, CharField, Value, When

from dsr.deadlines import AgeGroup
from dsr.models import LocalAuthority, Organisation
from dsr.queries import in_age_group
from reports.counting import kept_figures
from reports.disclosure import Family, PageSpec, Publication, publish


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


def age_group_on(on: date) -> Case:
    return Case(
        *[When(in_age_group(group, on), then=Value(group.value)) for group in AgeGroup],
        default=Value(""),
        output_field=CharField(),
    )


Build = Callable[[list[int], list[frozenset[int]]], tuple[Family, Counter, Counter | None]]


# Publications already worked out in this piece of work (`publications_kept`): a page that
# reads one family several times (the planning figures read each month's admissions for two
# tables) publishes it once, whether or not the cache keeps it.
_KEPT: ContextVar[dict | None] = ContextVar("reports_publications_kept", default=None)


@contextmanager
def publications_kept() -> Iterator[None]:
    """Within the block, each family is published once however often it is read."""
    token = _KEPT.set({})
    try:
        yield
    finally:
        _KEPT.reset(token)


def published(kind: str, parts: tuple, build: Build) -> tuple[Publication, list[tuple[int, str]]]:
    """Every page of a family published at once, from `build(areas, sets of areas)`'s family
    and records (and the previous day's, if any), with the areas' names; the same for every
    reader whatever their scope, so that no two readers see one page two ways. Counted only in
    the background and read as last counted (reports.counting.kept_figures)."""
    kept_here = _KEPT.get()
    if kept_here is not None and (kind, parts) in kept_here:
        return kept_here[(kind, parts)]

    def compute() -> tuple[Publication, list[tuple[int, str]]]:
        areas = list(LocalAuthority.objects.order_by("name").values_list("pk", "name"))
        ids = [pk for pk, _ in areas]
        family, today, previous = build(ids, area_sets(ids))
        return publish(family, today, previous), areas

    kept = kept_figures(kind, parts, compute)
    if kept_here is not None:
        kept_here[(kind, parts)] = kept
    return kept
