"""The figures of days that have ended are counted each night and kept, so that the planning
figures (every month's end) and yesterday's register answer without counting."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.counting import kept_seconds
from reports.queries import SnapshotFilters, snapshot
from reports.tasks import (
    count_report_figures_now,
    count_report_figures_task,
    days_counted_ahead,
    recount_today_task,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)  # frozen_now


def test_counted_figures_are_kept_until_long_after_the_next_count(settings):
    settings.DSR_REPORT_PAST_DAY_SECONDS = 93600
    settings.DSR_REPORT_RECOUNT_MINUTES = 5
    assert kept_seconds() == 93600  # past the next night's count
    settings.DSR_REPORT_RECOUNT_MINUTES = 24 * 60  # a recount once a day: four of them
    assert kept_seconds() == 4 * 24 * 3600


def test_the_nightly_count_covers_yesterday_and_each_months_end_of_the_year():
    assert days_counted_ahead(TODAY) == [
        datetime.date(2026, 1, 31),
        datetime.date(2026, 2, 28),
        datetime.date(2026, 3, 9),
    ]


def test_after_the_nightly_count_those_days_are_read_without_counting(
    make_person, clerk, nothing_counted
):
    for rating in ("RED", "AMBER", "GREEN"):
        make_person(rating, opened_on=datetime.date(2026, 1, 5))

    assert count_report_figures_task() == 4  # three days and the planning amounts
    for day in days_counted_ahead(TODAY):
        with CaptureQueriesContext(connection) as queries:
            tables = snapshot(clerk, SnapshotFilters(on=day))
        assert tables[0].total.value == 3
        read = " ".join(q["sql"] for q in queries.captured_queries)
        assert "dsr_registerentry" not in read, day  # the register was not counted again


def test_counting_everything_at_once_counts_each_days_register_once(
    make_person, nothing_counted, monkeypatch
):
    """The demo loader and `count_report_figures`: the month ends the planning figures read
    are the ones just counted for the night, not counted a second time."""
    import reports.queries.register as register

    make_person("RED", opened_on=datetime.date(2026, 1, 5))
    counted_days = []
    count_register = register.register_on

    def counting_register(on):
        counted_days.append(on)
        return count_register(on)

    monkeypatch.setattr(register, "register_on", counting_register)
    count_report_figures_now()

    # Each day's register family reads the day, then the day before it.
    days = counted_days[::2]
    assert counted_days[1::2] == [day - datetime.timedelta(days=1) for day in days]
    assert sorted(days) == [*days_counted_ahead(TODAY), TODAY]


def test_the_planning_amounts_are_counted_each_night_not_at_each_recount(
    make_person, nothing_counted, monkeypatch
):
    """Bed days and spend cover only months that have ended: counted at night and kept, so
    the recount of today's figures every few minutes does not check them again."""
    import reports.planning as planning

    make_person("RED", opened_on=datetime.date(2026, 1, 5))
    published = []
    publish = planning.publish_amounts

    def counting_publish(cells, **kwargs):
        published.append(len(cells))
        return publish(cells, **kwargs)

    monkeypatch.setattr(planning, "publish_amounts", counting_publish)
    count_report_figures_task()
    assert len(published) == 2  # bed days and spend, each once
    recount_today_task()
    recount_today_task()
    assert len(published) == 2


def pages_made(monkeypatch) -> list:
    """Each planning page made from here on (reports.published), by its arguments."""
    from reports import published

    made = []
    make = published.planning

    def making(*args, **kwargs):
        made.append(args)
        return make(*args, **kwargs)

    monkeypatch.setattr(published, "planning", making)
    return made


def test_a_planning_page_is_kept_through_the_recounts_of_todays_figures(
    settings, make_person, clerk, nothing_counted, monkeypatch, django_capture_on_commit_callbacks
):
    """Every planning figure is of a month that has ended: the reader's page is made once and
    kept while today's figures are counted again every few minutes, not remade after each
    recount (at 100,000 people making it reads eleven months' registers: seconds)."""
    from reports import published

    settings.DSR_REPORT_PAGE_SECONDS = 300
    make_person("RED", opened_on=datetime.date(2026, 1, 5))
    count_report_figures_now()
    made = pages_made(monkeypatch)
    first, _ = published.planning_for(clerk, 2026, TODAY)  # made by the count
    with django_capture_on_commit_callbacks(execute=True) as moved:
        recount_today_task()
    assert moved  # today's figures were counted again: the generation they follow moved on
    again, _ = published.planning_for(clerk, 2026, TODAY)
    assert made == []
    assert again == first

    # Counting the past again (the night's count) makes the page again, once.
    with django_capture_on_commit_callbacks(execute=True):
        count_report_figures_task()
    published.planning_for(clerk, 2026, TODAY)
    published.planning_for(clerk, 2026, TODAY)
    assert len(made) == 1


def test_the_planning_count_makes_each_organisations_page_before_its_readers_ask(
    settings, make_person, organisations, nothing_counted, monkeypatch
):
    """Making a reader's planning page reads every month's register (seconds at 100,000
    people): the count makes each organisation's page as its readers first open it, so the
    first reader of the day reads it as kept."""
    from dsr.roles import Role
    from reports import published
    from reports.forms import planning_years
    from tests.conftest import account

    settings.DSR_REPORT_PAGE_SECONDS = 300
    make_person("RED", opened_on=datetime.date(2026, 1, 5))
    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    count_report_figures_now()
    made = pages_made(monkeypatch)
    figures, _ = published.planning_for(commissioner, planning_years(TODAY)[0], TODAY)
    assert made == []  # made by the count: read as kept
    assert figures.months == 2
