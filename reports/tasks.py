"""The reports' background jobs: counting the figures a reader will ask for (reports.counting),
so that no page or feed call ever counts them while the reader waits."""

import logging
from datetime import date, timedelta

from celery import shared_task
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from dsr.models import User
from reports.counting import counting_once
from reports.flows import Period, flows
from reports.forms import last_whole_month, planning_years
from reports.planning import count_amounts, months_of, planning
from reports.queries import needs_publication, snapshot_publication

logger = logging.getLogger(__name__)


def days_counted_ahead(today: date) -> list[date]:
    """Yesterday, and the end of each month of the planning year that has ended: the days the
    register on a day and the planning figures' trends read most."""
    days = {today - timedelta(days=1)}
    days |= {end for _start, end in months_of(planning_years(today)[0], today)}
    return sorted(days)


def count(report: str, *args: str | int, past_days_too: bool = False) -> bool:
    """Count one report's families and keep them (reports.counting): "snapshot" or "needs" of
    a day, "flows" of a first and last day, "planning" of a year as on a day, the planning
    "amounts" (bed days and spend) as on a day (days as ISO text, as a task's arguments are).
    Every page of each family is counted at once (for nobody's scope in particular). False
    when the same count was already running."""
    days = [date.fromisoformat(a) if isinstance(a, str) else a for a in args]
    with counting_once(report, *args, past_days_too=past_days_too) as held:
        if not held:
            logger.info("report figures already being counted report=%s", report)
            return False
        if report == "snapshot":
            snapshot_publication(days[0])
        elif report == "needs":
            needs_publication(days[0])
        elif report == "flows":
            flows(AnonymousUser(), Period(start=days[0], end=days[1]))
        elif report == "planning":
            planning(AnonymousUser(), days[0], days[1])
        elif report == "amounts":
            count_amounts(days[0])
        else:
            raise ValueError(report)
    if report == "planning":
        make_planning_pages(days[0], days[1])
    return True


def make_planning_pages(year: int, today: date) -> int:
    """Each organisation's planning page as its readers first open it (every area it covers),
    made from the figures last counted, so that no reader waits seconds for it: making it reads
    every month's register. A page already kept (reports.published: until the days that have
    ended are counted again) is only read. Returns how many organisations' pages are ready."""
    from reports.counting import CacheDown, NotCounted
    from reports.published import planning_for

    # Roles are groups (dsr.roles): whoever holds a role that may read the reports.
    readers = User.objects.filter(
        is_active=True,
        organisation__isnull=False,
        groups__permissions__codename="view_reports",
        groups__permissions__content_type__app_label="dsr",
    )
    first_of_each = {}
    for reader in readers.order_by("pk"):
        first_of_each.setdefault(reader.organisation_id, reader)
    ready = 0
    for reader in first_of_each.values():
        try:
            planning_for(reader, year, today)
        except (NotCounted, CacheDown) as missing:
            logger.info("planning page not made: %s", type(missing).__name__)
            continue
        ready += 1
    return ready


def today_reports(today: date) -> list[tuple[str, ...]]:
    """What the pages and the feed read when a reader chooses nothing: the register and the
    needs today, the flows of the last whole month, the planning figures of the latest year."""
    start, end = last_whole_month(today)
    return [
        ("snapshot", today.isoformat()),
        ("needs", today.isoformat()),
        ("flows", start.isoformat(), end.isoformat()),
        ("planning", planning_years(today)[0], today.isoformat()),
    ]


def count_report_figures_now() -> int:
    """Today's reports and the days counted each night, counted at once (the demo loader):
    how many were counted."""
    today = timezone.localdate()
    # The days that have ended first: today's planning figures then read their month ends as
    # kept, instead of counting each twice.
    counted = count_days_ahead(today)
    return counted + sum(count(*report) for report in today_reports(today))


@shared_task(ignore_result=True)
def count_figures_task(report: str, *args: str | int) -> bool:
    """Count what a reader asked for and found not counted (reports.counting.queue_count)."""
    return count(report, *args)


@shared_task(ignore_result=True)
def recount_today_task() -> int:
    """Every DSR_REPORT_RECOUNT_MINUTES (beat): count today's figures again, replacing the last
    count. Returns how many reports were counted (one already being counted is left to run)."""
    counted = sum(count(*report) for report in today_reports(timezone.localdate()))
    logger.info("today's report figures counted reports=%s", counted)
    return counted


@shared_task(ignore_result=True)
def count_report_figures_task() -> int:
    """Each night: count those days' figures again, so that the past days read most are kept
    (reports.counting.kept_seconds) before anyone asks, with the planning amounts. Returns how
    many were counted."""
    counted = count_days_ahead(timezone.localdate())
    logger.info("report figures counted ahead days=%s", counted)
    return counted


def count_days_ahead(today: date) -> int:
    """Count again, and keep, the register on each day counted ahead and the planning amounts
    (bed days and committed spend of every month that has ended): how many were counted."""
    counted = 0
    for day in days_counted_ahead(today):
        counted += count("snapshot", day.isoformat(), past_days_too=True)
    return counted + count("amounts", today.isoformat(), past_days_too=True)
