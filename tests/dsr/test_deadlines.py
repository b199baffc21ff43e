"""Due dates and age rules of dsr/deadlines.py.

Expected dates are worked out by hand from a calendar, not by the code under test. England and
Wales bank holidays used below: Christmas Day Fri 25 Dec 2026, Boxing Day (substitute) Mon
28 Dec 2026, New Year's Day Fri 1 Jan 2027, Good Friday 26 Mar 2027, Easter Monday
29 Mar 2027, Christmas Day (substitute) Mon 27 Dec 2027, Boxing Day (substitute) Tue 28 Dec 2027.
Clock changes: 01:00 UTC on Sun 29 Mar 2026 (GMT to BST) and Sun 25 Oct 2026 (BST to GMT).
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from dsr.deadlines import (
    AgeGroup,
    add_working_days,
    age_group_on,
    age_on,
    birth_date_bounds,
    consent_review_due,
    decision_due_for,
    discharge_red_until,
    inpatient_cetr_next_due,
    is_working_day,
    months_later,
    oversight_visit_due,
    post_admission_cetr_due,
    rating_review_due,
)

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
D = dt.date


def london(*args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON, fold=fold)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --- months_later -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2026, 5, 15), 0, D(2026, 5, 15)),
        (D(2026, 11, 15), 3, D(2027, 2, 15)),
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2026, 8, 31), 1, D(2026, 9, 30)),
        (D(2026, 12, 31), 12, D(2027, 12, 31)),
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2028, 3, 31), -1, D(2028, 2, 29)),
        (D(2026, 1, 15), -1, D(2025, 12, 15)),
        (D(2026, 5, 31), -24, D(2024, 5, 31)),
    ],
)
def test_months_later_keeps_day_of_month_and_clamps_to_month_end(start, months, expected):
    assert months_later(start, months) == expected


# --- Referral decision ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "expected"),
    [
        pytest.param(london(2026, 1, 31, 10, 0), D(2026, 2, 28), id="31-jan-to-28-feb"),
        pytest.param(london(2028, 2, 1, 10, 0), D(2028, 2, 29), id="leap-1-feb-to-29-feb"),
        pytest.param(london(2028, 2, 2, 10, 0), D(2028, 3, 1), id="leap-2-feb-to-1-mar"),
        pytest.param(london(2026, 12, 10, 9, 0), D(2027, 1, 7), id="across-new-year"),
        # Winter: London is on UTC, so 23:30 UTC is still the same London day.
        pytest.param(utc(2026, 1, 30, 23, 30), D(2026, 2, 27), id="gmt-2330-utc-same-day"),
        # Summer: 23:30 UTC is 00:30 BST the next London day, and that day is the day of receipt.
        pytest.param(utc(2026, 6, 30, 23, 30), D(2026, 7, 29), id="bst-2330-utc-next-day"),
        pytest.param(london(2026, 7, 1, 0, 30), D(2026, 7, 29), id="bst-0030-london"),
        # One second before midnight: in London time, and in UTC (00:59:59 BST the next day).
        pytest.param(london(2026, 6, 30, 23, 59, 59), D(2026, 7, 28), id="bst-235959-london"),
        pytest.param(utc(2026, 6, 30, 23, 59, 59), D(2026, 7, 29), id="bst-235959-utc"),
        pytest.param(london(2026, 1, 15, 23, 59, 59), D(2026, 2, 12), id="gmt-235959-london"),
        pytest.param(utc(2026, 1, 15, 23, 59, 59), D(2026, 2, 12), id="gmt-235959-utc"),
        # Clocks go forward at 01:00 UTC on 29 March 2026.
        pytest.param(utc(2026, 3, 28, 23, 30), D(2026, 4, 25), id="spring-night-before-gmt"),
        pytest.param(london(2026, 3, 29, 0, 30), D(2026, 4, 26), id="spring-0030-still-gmt"),
        pytest.param(london(2026, 3, 29, 3, 0), D(2026, 4, 26), id="spring-0300-bst"),
        pytest.param(utc(2026, 3, 29, 23, 30), D(2026, 4, 27), id="spring-2330-utc-is-next-day"),
        # Clocks go back at 01:00 UTC on 25 October 2026; 01:30 London happens twice.
        pytest.param(utc(2026, 10, 24, 22, 59, 59), D(2026, 11, 21), id="autumn-235959-bst"),
        pytest.param(utc(2026, 10, 24, 23, 30), D(2026, 11, 22), id="autumn-2330-utc-next-day"),
        pytest.param(london(2026, 10, 25, 0, 30), D(2026, 11, 22), id="autumn-0030-bst"),
        pytest.param(london(2026, 10, 25, 1, 30, fold=0), D(2026, 11, 22), id="autumn-0130-bst"),
        pytest.param(london(2026, 10, 25, 1, 30, fold=1), D(2026, 11, 22), id="autumn-0130-gmt"),
        pytest.param(utc(2026, 10, 25, 23, 30), D(2026, 11, 22), id="autumn-2330-utc-same-day"),
    ],
)
def test_decision_is_due_28_days_after_the_london_date_of_receipt(received_at, expected):
    assert decision_due_for(received_at) == expected


def test_decision_due_keeps_the_weekday_when_the_clocks_change_within_the_four_weeks():
    received_at = london(2026, 3, 14, 9, 0)  # a Saturday, 15 days before the clocks go forward

    due = decision_due_for(received_at)

    assert due == D(2026, 4, 11)
    assert due.weekday() == received_at.weekday()


def test_decision_due_does_not_move_for_weekends_or_bank_holidays():
    # 28 calendar days from Monday 30 November 2026 lands on Monday 28 December, a bank holiday.
    assert decision_due_for(london(2026, 11, 30, 12, 0)) == D(2026, 12, 28)


def test_decision_due_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        decision_due_for(dt.datetime(2026, 1, 31, 10, 0))  # noqa: DTZ001


@override_settings(DSR_DECISION_DAYS=20)
def test_decision_due_follows_the_decision_days_setting():
    assert decision_due_for(london(2026, 1, 31, 10, 0)) == D(2026, 2, 20)


# --- Working days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 6, 12), True),  # Friday
        (D(2026, 6, 13), False),  # Saturday
        (D(2026, 6, 14), False),  # Sunday
        (D(2026, 6, 15), True),  # Monday
        (D(2026, 12, 24), True),  # Christmas Eve is not a bank holiday
        (D(2026, 12, 25), False),  # Christmas Day
        (D(2026, 12, 26), False),  # Boxing Day, a Saturday
        (D(2026, 12, 28), False),  # substitute Boxing Day
        (D(2026, 12, 29), True),
        (D(2027, 1, 1), False),  # New Year's Day
        (D(2027, 1, 4), True),
        (D(2027, 3, 25), True),  # Maundy Thursday
        (D(2027, 3, 26), False),  # Good Friday
        (D(2027, 3, 29), False),  # Easter Monday
        (D(2027, 3, 30), True),
        (D(2027, 12, 27), False),  # substitute Christmas Day
        (D(2027, 12, 28), False),  # substitute Boxing Day
    ],
)
def test_is_working_day_excludes_weekends_and_england_and_wales_bank_holidays(day, expected):
    assert is_working_day(day) is expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        pytest.param(D(2026, 6, 10), 0, D(2026, 6, 10), id="zero-days-is-start"),
        pytest.param(D(2026, 6, 10), 1, D(2026, 6, 11), id="midweek"),
        pytest.param(D(2026, 6, 12), 1, D(2026, 6, 15), id="friday-over-weekend"),
        pytest.param(D(2026, 6, 13), 1, D(2026, 6, 15), id="saturday-start-not-counted"),
        pytest.param(D(2026, 6, 11), 2, D(2026, 6, 15), id="thursday-plus-two"),
        pytest.param(D(2026, 6, 12), 5, D(2026, 6, 19), id="one-week"),
        pytest.param(D(2026, 6, 12), 10, D(2026, 6, 26), id="two-weeks"),
        pytest.param(D(2026, 12, 24), 1, D(2026, 12, 29), id="over-christmas-2026"),
        pytest.param(D(2026, 12, 23), 5, D(2027, 1, 4), id="over-christmas-and-new-year"),
        pytest.param(D(2027, 3, 25), 1, D(2027, 3, 30), id="over-easter-2027"),
        pytest.param(D(2027, 3, 24), 3, D(2027, 3, 31), id="into-easter-2027"),
        pytest.param(D(2027, 3, 26), 1, D(2027, 3, 30), id="good-friday-start"),
        pytest.param(D(2027, 12, 24), 1, D(2027, 12, 29), id="over-christmas-2027"),
    ],
)
def test_add_working_days_counts_working_days_after_start(start, days, expected):
    assert add_working_days(start, days) == expected


def test_add_working_days_refuses_negative_days():
    with pytest.raises(ValueError, match="days must not be negative"):
        add_working_days(D(2026, 6, 12), -1)


# --- Post-admission C(E)TR ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("admitted_on", "expected"),
    [
        (D(2026, 6, 12), D(2026, 7, 10)),
        (D(2026, 1, 31), D(2026, 2, 28)),
        (D(2026, 12, 18), D(2027, 1, 15)),  # calendar days: bank holidays do not matter
    ],
)
def test_post_admission_ctr_for_an_adult_is_due_28_calendar_days_after_admission(
    admitted_on, expected
):
    assert post_admission_cetr_due(admitted_on, is_child=False) == expected


@pytest.mark.parametrize(
    ("admitted_on", "expected"),
    [
        (D(2026, 6, 12), D(2026, 6, 26)),
        # 21, 22, 23, 24, 29, 30, 31 December, then 4, 5, 6 January.
        (D(2026, 12, 18), D(2027, 1, 6)),
    ],
)
def test_post_admission_cetr_for_a_child_is_due_10_working_days_after_admission(
    admitted_on, expected
):
    assert post_admission_cetr_due(admitted_on, is_child=True) == expected


@pytest.mark.parametrize(
    ("admitted_on", "expected"),
    [
        (D(2026, 6, 12), D(2026, 6, 19)),
        # 25 March, then (after Good Friday, the weekend and Easter Monday) 30, 31 March,
        # 1 and 2 April.
        (D(2027, 3, 24), D(2027, 4, 2)),
    ],
)
@override_settings(DSR_POST_ADMISSION_CETR_CHILD_INTERIM=True)
def test_post_admission_cetr_for_a_child_is_due_in_5_working_days_under_the_interim_rule(
    admitted_on, expected
):
    assert post_admission_cetr_due(admitted_on, is_child=True) == expected


@override_settings(DSR_POST_ADMISSION_CETR_CHILD_INTERIM=True)
def test_interim_rule_does_not_change_the_adult_post_admission_ctr():
    assert post_admission_cetr_due(D(2026, 6, 12), is_child=False) == D(2026, 7, 10)


@override_settings(
    DSR_POST_ADMISSION_CTR_DAYS_ADULT=14,
    DSR_POST_ADMISSION_CETR_WORKING_DAYS_CHILD=7,
)
def test_post_admission_due_dates_follow_their_settings():
    assert post_admission_cetr_due(D(2026, 6, 12), is_child=False) == D(2026, 6, 26)
    assert post_admission_cetr_due(D(2026, 6, 12), is_child=True) == D(2026, 6, 23)


@override_settings(
    DSR_POST_ADMISSION_CETR_CHILD_INTERIM=True,
    DSR_POST_ADMISSION_CETR_WORKING_DAYS_CHILD_INTERIM=3,
)
def test_interim_child_figure_follows_its_setting():
    assert post_admission_cetr_due(D(2026, 6, 12), is_child=True) == D(2026, 6, 17)


# --- Inpatient C(E)TR -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "is_child", "secure", "expected"),
    [
        pytest.param(D(2026, 5, 14), True, False, D(2026, 8, 14), id="child-3-months"),
        pytest.param(D(2026, 5, 14), True, True, D(2026, 8, 14), id="child-secure-still-3"),
        pytest.param(D(2026, 1, 31), True, False, D(2026, 4, 30), id="child-clamped-to-30-apr"),
        pytest.param(D(2027, 11, 30), True, False, D(2028, 2, 29), id="child-clamped-leap-feb"),
        pytest.param(D(2026, 5, 14), False, False, D(2026, 11, 14), id="adult-6-months"),
        pytest.param(D(2026, 8, 31), False, False, D(2027, 2, 28), id="adult-clamped-to-28-feb"),
        pytest.param(D(2026, 5, 14), False, True, D(2027, 5, 14), id="adult-secure-12-months"),
        pytest.param(D(2028, 2, 29), False, True, D(2029, 2, 28), id="adult-secure-from-leap-day"),
    ],
)
def test_inpatient_cetr_next_due_by_age_and_security(last, is_child, secure, expected):
    assert inpatient_cetr_next_due(last, is_child=is_child, secure=secure) == expected


@override_settings(
    DSR_INPATIENT_CETR_MONTHS_CHILD=2,
    DSR_INPATIENT_CETR_MONTHS_ADULT=4,
    DSR_INPATIENT_CETR_MONTHS_ADULT_SECURE=9,
)
def test_inpatient_cetr_intervals_follow_their_settings():
    last = D(2026, 1, 31)

    assert inpatient_cetr_next_due(last, is_child=True, secure=False) == D(2026, 3, 31)
    assert inpatient_cetr_next_due(last, is_child=False, secure=False) == D(2026, 5, 31)
    assert inpatient_cetr_next_due(last, is_child=False, secure=True) == D(2026, 10, 31)


# --- Review cadence, consent, discharge, visits ---------------------------------------------------


@pytest.mark.parametrize(
    ("rating", "expected"),
    [
        ("RED", D(2026, 6, 19)),
        ("AMBER", D(2026, 6, 26)),
        ("GREEN", D(2026, 9, 11)),
        ("BLUE", None),
        ("red", D(2026, 6, 19)),
        ("blue", None),
    ],
)
def test_rating_review_due_by_rating(rating, expected):
    assert rating_review_due(rating, D(2026, 6, 12)) == expected


def test_rating_review_due_refuses_an_unknown_rating():
    with pytest.raises(ValueError, match="No review cadence for rating 'PURPLE'."):
        rating_review_due("PURPLE", D(2026, 6, 12))


@override_settings(DSR_REVIEW_CADENCE_DAYS={"RED": 3, "AMBER": 28, "GREEN": 182})
def test_rating_review_cadence_follows_its_setting():
    last = D(2026, 6, 12)

    assert rating_review_due("RED", last) == D(2026, 6, 15)
    assert rating_review_due("AMBER", last) == D(2026, 7, 10)
    assert rating_review_due("GREEN", last) == D(2026, 12, 11)
    assert rating_review_due("BLUE", last) is None


@pytest.mark.parametrize(
    ("given_on", "expected"),
    [
        (D(2026, 6, 12), D(2027, 6, 12)),
        (D(2027, 2, 28), D(2028, 2, 28)),  # into a leap year: stays on the 28th
        (D(2027, 3, 1), D(2028, 3, 1)),
        (D(2028, 2, 29), D(2029, 2, 28)),  # from a leap day: clamped, so early, not late
        (D(2028, 3, 1), D(2029, 3, 1)),
    ],
)
def test_consent_review_is_due_12_months_after_consent(given_on, expected):
    assert consent_review_due(given_on) == expected


@override_settings(DSR_CONSENT_REVIEW_MONTHS=6)
def test_consent_review_follows_its_setting():
    assert consent_review_due(D(2026, 8, 31)) == D(2027, 2, 28)


def test_discharge_red_lasts_14_days_after_discharge():
    assert discharge_red_until(D(2026, 12, 20)) == D(2027, 1, 3)


@override_settings(DSR_DISCHARGE_RED_DAYS=28)
def test_discharge_red_period_follows_its_setting():
    assert discharge_red_until(D(2026, 12, 20)) == D(2027, 1, 17)


def test_oversight_visits_are_due_every_6_weeks_for_a_child_and_8_for_an_adult():
    last = D(2026, 3, 20)

    assert oversight_visit_due(last, is_child=True) == D(2026, 5, 1)
    assert oversight_visit_due(last, is_child=False) == D(2026, 5, 15)


@override_settings(DSR_VISIT_WEEKS_CHILD=4, DSR_VISIT_WEEKS_ADULT=12)
def test_oversight_visit_intervals_follow_their_settings():
    last = D(2026, 3, 20)

    assert oversight_visit_due(last, is_child=True) == D(2026, 4, 17)
    assert oversight_visit_due(last, is_child=False) == D(2026, 6, 12)


# --- Ages -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date_of_birth", "on", "age", "group"),
    [
        pytest.param(D(2026, 6, 15), D(2026, 6, 15), 0, AgeGroup.CHILD, id="day-of-birth"),
        # 18th birthday on 15 June 2026.
        pytest.param(D(2008, 6, 15), D(2026, 6, 14), 17, AgeGroup.CHILD, id="day-before-18"),
        pytest.param(D(2008, 6, 15), D(2026, 6, 15), 18, AgeGroup.YOUNG_PERSON, id="on-18th"),
        pytest.param(D(2008, 6, 15), D(2026, 6, 16), 18, AgeGroup.YOUNG_PERSON, id="after-18th"),
        # 26th birthday on 15 June 2026.
        pytest.param(D(2000, 6, 15), D(2026, 6, 14), 25, AgeGroup.YOUNG_PERSON, id="before-26"),
        pytest.param(D(2000, 6, 15), D(2026, 6, 15), 26, AgeGroup.ADULT, id="on-26th"),
        pytest.param(D(2000, 6, 15), D(2026, 6, 16), 26, AgeGroup.ADULT, id="after-26th"),
        # Born on 29 February: the birthday is 1 March in a common year.
        pytest.param(D(2008, 2, 29), D(2026, 2, 28), 17, AgeGroup.CHILD, id="leapling-28-feb"),
        pytest.param(D(2008, 2, 29), D(2026, 3, 1), 18, AgeGroup.YOUNG_PERSON, id="leapling-18"),
        pytest.param(D(2000, 2, 29), D(2026, 2, 28), 25, AgeGroup.YOUNG_PERSON, id="leapling-25"),
        pytest.param(D(2000, 2, 29), D(2026, 3, 1), 26, AgeGroup.ADULT, id="leapling-26"),
        # ...and 29 February itself in a leap year.
        pytest.param(D(2004, 2, 29), D(2028, 2, 28), 23, AgeGroup.YOUNG_PERSON, id="leap-28-feb"),
        pytest.param(D(2004, 2, 29), D(2028, 2, 29), 24, AgeGroup.YOUNG_PERSON, id="leap-29-feb"),
        # Born on 28 February or 1 March: unaffected by leap years.
        pytest.param(D(2010, 2, 28), D(2028, 2, 28), 18, AgeGroup.YOUNG_PERSON, id="28-feb-born"),
        pytest.param(D(2010, 3, 1), D(2028, 2, 29), 17, AgeGroup.CHILD, id="1-mar-born"),
    ],
)
def test_age_and_age_group_across_birthdays(date_of_birth, on, age, group):
    assert age_on(date_of_birth, on) == age
    assert age_group_on(date_of_birth, on) == group


def test_age_on_refuses_a_day_before_birth():
    with pytest.raises(ValueError, match="The day is before the date of birth."):
        age_on(D(2026, 6, 15), D(2026, 6, 14))


def test_birth_date_bounds_on_a_leap_day():
    on = D(2028, 2, 29)

    assert birth_date_bounds(AgeGroup.CHILD, on) == (D(2010, 3, 1), on)
    assert birth_date_bounds(AgeGroup.YOUNG_PERSON, on) == (D(2002, 3, 1), D(2010, 2, 28))
    assert birth_date_bounds(AgeGroup.ADULT, on) == (None, D(2002, 2, 28))


def test_birth_date_bounds_put_a_future_date_of_birth_in_no_group():
    on = D(2026, 6, 15)
    tomorrow = D(2026, 6, 16)

    for group in AgeGroup:
        earliest, latest = birth_date_bounds(group, on)
        assert not _within(tomorrow, earliest, latest)


def _within(day: dt.date, earliest: dt.date | None, latest: dt.date | None) -> bool:
    return (earliest is None or earliest <= day) and (latest is None or day <= latest)


@pytest.mark.parametrize(
    "on",
    [
        D(2026, 2, 28),
        D(2026, 3, 1),
        D(2027, 2, 28),
        D(2027, 3, 1),
        D(2028, 2, 28),
        D(2028, 2, 29),
        D(2028, 3, 1),
        D(2026, 6, 15),
        D(2026, 12, 31),
        D(2027, 1, 1),
    ],
)
def test_birth_date_bounds_agree_with_age_group_on_for_every_date_of_birth(on):
    bounds = {group: birth_date_bounds(group, on) for group in AgeGroup}
    date_of_birth = D(on.year - 30, 1, 1)  # past both the 18th and the 26th birthdays

    checked = 0
    while date_of_birth <= on:
        groups = {group for group, (lo, hi) in bounds.items() if _within(date_of_birth, lo, hi)}
        assert groups == {age_group_on(date_of_birth, on)}, date_of_birth
        date_of_birth += dt.timedelta(days=1)
        checked += 1

    assert checked > 365 * 30


def test_deadline_oracle_size_is_reported():
    """G-7: how many hand-written boundary cases the deadline functions are checked against."""
    import sys

    from tests.figures import record

    module = sys.modules[__name__]
    cases = sum(
        len(mark.args[1])
        for function in vars(module).values()
        if callable(function) and getattr(function, "__name__", "").startswith("test_")
        for mark in getattr(function, "pytestmark", [])
        if mark.name == "parametrize"
    )
    record("G-7 deadline boundary cases checked against hand-written tables", cases)
    assert cases >= 50
