"""The reports as a reader gets them, for the pages, their CSV files and the read feed alike:
the reader's page of the figures last counted (reports.counting), with when they were counted.
Raises reports.counting.NotCounted (or CacheDown) when they cannot be read: nothing is counted
here."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from dsr.caching import kept_for_a_while
from reports.counting import (
    FIGURES_COUNTED,
    PAST_FIGURES_COUNTED,
    kept_seconds,
    times_read,
)
from reports.flows import Flows, Period, flows
from reports.planning import Planning, planning
from reports.queries import SnapshotFilters, Table, needs_table, snapshot


def _reader_page(
    kind: str, user: Any, parts: tuple, build: Callable[[], Any], *, past_only: bool = False
) -> Any:
    """The reader's page of the last counted figures, with when they were counted (the oldest
    figures it read). Made once for everyone with the same scope and choices and kept until a
    count keeps new figures (FIGURES_COUNTED moves on), at most DSR_REPORT_PAGE_SECONDS: a page
    is worked out from whole counted families (every scope's pages), which is too much to
    unpack on every request. A page that reads only figures of days that have ended
    (`past_only`) is kept until those are counted again (PAST_FIGURES_COUNTED), as long as they
    are kept themselves: the recount of today's figures every few minutes leaves it."""

    def page() -> tuple[Any, datetime]:
        with times_read() as times:
            result = build()
        return result, min(times, default=timezone.now())

    seconds = settings.DSR_REPORT_PAGE_SECONDS
    following = (FIGURES_COUNTED,)
    if past_only and seconds:
        seconds, following = kept_seconds(), (PAST_FIGURES_COUNTED,)
    kept, _made_at = kept_for_a_while(kind, user, parts, page, seconds, following=following)
    return kept


def snapshot_for(user: Any, filters: SnapshotFilters) -> tuple[list[Table], datetime]:
    parts = (filters.on, filters.local_authority, filters.age_group)
    past = filters.on < timezone.localdate()
    return _reader_page("snapshot", user, parts, lambda: snapshot(user, filters), past_only=past)


def flows_for(user: Any, period: Period) -> tuple[Flows, datetime]:
    parts = (period.start, period.end, period.local_authority, period.age_group)
    past = period.end < timezone.localdate()
    return _reader_page("flows", user, parts, lambda: flows(user, period), past_only=past)


def needs_for(user: Any, local_authority: int | None, age_group: str) -> tuple[Table, datetime]:
    parts = (timezone.localdate(), local_authority, age_group)
    return _reader_page("needs", user, parts, lambda: needs_table(user, local_authority, age_group))


def planning_for(
    user: Any, year: int, today: date, local_authority: int | None = None
) -> tuple[Planning, datetime]:
    """The planning figures for a year (reports.planning): trends, hospital use, placements and
    committed spend, each a published figure; plain data a feed can serialise too. Every
    figure is of a month that has ended."""
    parts = (year, today, local_authority)
    return _reader_page(
        "planning",
        user,
        parts,
        lambda: planning(user, year, today, local_authority),
        past_only=True,
    )
