"""The reports as a reader gets them, for the pages, their CSV files and the read feed alike:
counted for the reader's scope and filters, and kept a while (settings.DSR_REPORT_CACHE_SECONDS)
for everyone with the same scope."""

from datetime import date, datetime
from typing import Any

from django.conf import settings

from dsr.caching import kept_for_a_while
from reports.flows import Flows, Period, flows
from reports.planning import Planning, planning
from reports.queries import SnapshotFilters, Table, snapshot


def snapshot_for(user: Any, filters: SnapshotFilters) -> tuple[list[Table], datetime]:
    parts = (filters.on, filters.local_authority, filters.age_group)
    return kept_for_a_while(
        "snapshot", user, parts, lambda: snapshot(user, filters), settings.DSR_REPORT_CACHE_SECONDS
    )


def flows_for(user: Any, period: Period) -> tuple[Flows, datetime]:
    parts = (period.start, period.end, period.local_authority, period.age_group)
    return kept_for_a_while(
        "flows", user, parts, lambda: flows(user, period), settings.DSR_REPORT_CACHE_SECONDS
    )


def planning_for(
    user: Any, year: int, today: date, local_authority: int | None = None
) -> tuple[Planning, datetime]:
    """The planning figures for a year (reports.planning): trends, hospital use, placements and
    committed spend, each a published figure; plain data a feed can serialise too."""
    parts = (year, today, local_authority)
    return kept_for_a_while(
        "planning",
        user,
        parts,
        lambda: planning(user, year, today, local_authority),
        settings.DSR_REPORT_CACHE_SECONDS,
    )
