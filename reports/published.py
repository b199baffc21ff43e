"""The reports as a reader gets them, for the pages, their CSV files and the read feed alike:
the reader's page of the figures last counted (reports.counting), with when they were counted.
Raises reports.counting.NotCounted (or CacheDown) when they cannot be read: nothing is counted
here."""

from datetime import date, datetime
from typing import Any

from django.utils import timezone

from reports.counting import times_read
from reports.flows import Flows, Period, flows
from reports.planning import Planning, planning
from reports.queries import SnapshotFilters, Table, needs_table, snapshot


def snapshot_for(user: Any, filters: SnapshotFilters) -> tuple[list[Table], datetime]:
    with times_read() as times:
        tables = snapshot(user, filters)
    return tables, min(times, default=timezone.now())


def flows_for(user: Any, period: Period) -> tuple[Flows, datetime]:
    with times_read() as times:
        result = flows(user, period)
    return result, min(times, default=timezone.now())


def needs_for(user: Any, local_authority: int | None, age_group: str) -> tuple[Table, datetime]:
    with times_read() as times:
        table = needs_table(user, local_authority, age_group)
    return table, min(times, default=timezone.now())


def planning_for(
    user: Any, year: int, today: date, local_authority: int | None = None
) -> tuple[Planning, datetime]:
    """The planning figures for a year (reports.planning): trends, hospital use, placements and
    committed spend, each a published figure; plain data a feed can serialise too."""
    with times_read() as times:
        figures = planning(user, year, today, local_authority)
    return figures, min(times, default=timezone.now())
