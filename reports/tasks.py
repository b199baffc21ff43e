"""The reports' background job: counting ahead the figures a commissioner will ask for."""

import logging
from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from reports.forms import planning_years
from reports.planning import months_of
from reports.queries.register import snapshot_publication

logger = logging.getLogger(__name__)


def days_counted_ahead(today: date) -> list[date]:
    """Yesterday, and the end of each month of the planning year that has ended: the days the
    register on a day and the planning figures' trends read most."""
    days = {today - timedelta(days=1)}
    days |= {end for _start, end in months_of(planning_years(today)[0], today)}
    return sorted(days)


@shared_task(ignore_result=True)
def count_report_figures_task() -> int:
    """Publish those days' figures now, so they are kept (reports.queries.pages.keep_seconds)
    before anyone asks. Returns how many days were counted."""
    days = days_counted_ahead(timezone.localdate())
    for day in days:
        snapshot_publication(day)
    logger.info("report figures counted ahead days=%s", len(days))
    return len(days)
