"""The figures of days that have ended are counted each night and kept, so that the planning
figures (every month's end) and yesterday's register answer without counting."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.queries import SnapshotFilters, snapshot
from reports.queries.pages import keep_seconds
from reports.tasks import count_report_figures_task, days_counted_ahead

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)  # frozen_now


def test_a_day_that_has_ended_is_kept_longer_than_today(settings):
    settings.DSR_REPORT_CACHE_SECONDS = 300
    settings.DSR_REPORT_PAST_DAY_SECONDS = 93600
    assert keep_seconds((TODAY,)) == 300
    assert keep_seconds((TODAY - datetime.timedelta(days=1),)) == 93600
    assert keep_seconds(("not a day",)) == 300
    # A period is kept long only once its last day has ended, not from its first.
    month_so_far = (datetime.date(2026, 3, 1), TODAY)
    assert keep_seconds(month_so_far) == 300
    assert keep_seconds((datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))) == 93600
    settings.DSR_REPORT_CACHE_SECONDS = 0  # keeping nothing keeps nothing, past days too
    assert keep_seconds((TODAY - datetime.timedelta(days=1),)) == 0


def test_the_nightly_count_covers_yesterday_and_each_months_end_of_the_year():
    assert days_counted_ahead(TODAY) == [
        datetime.date(2026, 1, 31),
        datetime.date(2026, 2, 28),
        datetime.date(2026, 3, 9),
    ]


def test_after_the_nightly_count_those_days_are_read_without_counting(make_person, clerk, settings):
    settings.DSR_REPORT_CACHE_SECONDS = 300
    cache.clear()
    for rating in ("RED", "AMBER", "GREEN"):
        make_person(rating, opened_on=datetime.date(2026, 1, 5))

    assert count_report_figures_task() == 3
    for day in days_counted_ahead(TODAY):
        with CaptureQueriesContext(connection) as queries:
            tables = snapshot(clerk, SnapshotFilters(on=day))
        assert tables[0].total.value == 3
        read = " ".join(q["sql"] for q in queries.captured_queries)
        assert "dsr_registerentry" not in read, day  # the register was not counted again
    cache.clear()
