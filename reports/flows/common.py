"""What every flow shares (reports.flows): the period and its figures, shares worked out from
published counts, and publishing a flow for every page at once."""

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, CharField, Value, When
from django.utils import timezone

from dsr.deadlines import AgeGroup
from dsr.queries import in_age_group
from dsr.security.scoping import local_authority_ids_for
from reports.disclosure import SHOWN_FROM, SMALL, Family, PageSpec, Publication, Shown, TableSpec
from reports.queries import AGE_GROUPS, moves_over, page_key, published

NOT_SHOWN_HIDDEN = "Not shown, so that a small number cannot be worked out from the others"
# A record of a flow: its area and the age group of its person at the end of the period come
# first (None where not known: a referral's area, an escalation about no one).
AREA, AGE = 0, 1
ONE = "count"  # the one column of a table of a single count


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
