"""Every due date the register uses, and the age rules they depend on.

All functions here take dates (or aware datetimes) and return dates, and never look at the
clock. They read their figures at call time through `_setting`: first the value the DSR lead
saved on the settings page (dsr.register_settings, read once a process every few seconds, not
once a call), then the Django setting (so a deployment, or a test using `override_settings`, can
change it), then the default below. Callers pass "today" in explicitly, normally
`django.utils.timezone.localdate()`.

Statutory and local due dates are London calendar dates (`TIME_ZONE` is Europe/London). A due
date is the last day on which the thing is still on time; it is overdue from the day after.

Settings read here, with their defaults:

- `DSR_DECISION_DAYS` (28): calendar days from receipt to the referral decision.
- `DSR_CETR_REQUEST_WORKING_DAYS` (10): working days from receipt to the decision on a request
  for a C(E)TR, as the acknowledgement tells the requester.
- `DSR_POST_ADMISSION_CTR_DAYS_ADULT` (28): calendar days from admission to an adult's
  post-admission CTR.
- `DSR_POST_ADMISSION_CETR_WORKING_DAYS_CHILD` (10): working days from admission to a child's
  post-admission CETR.
- `DSR_POST_ADMISSION_CETR_CHILD_INTERIM` (False): use the interim child figure instead.
- `DSR_POST_ADMISSION_CETR_WORKING_DAYS_CHILD_INTERIM` (5): the interim child figure.
- `DSR_INPATIENT_CETR_MONTHS_CHILD` (3), `DSR_INPATIENT_CETR_MONTHS_ADULT` (6),
  `DSR_INPATIENT_CETR_MONTHS_ADULT_SECURE` (12): months between inpatient C(E)TRs.
- `DSR_REVIEW_CADENCE_DAYS` ({"RED": 7, "AMBER": 14, "GREEN": 91}): days between
  multi-agency reviews, by rating.
- `DSR_CONSENT_REVIEW_MONTHS` (12): months between consent re-checks.
- `DSR_REFERRAL_REMINDER_DAYS` ([14, 7, 1]): days before a referral's decision is due on which
  the three reminders go (the fourth message is the breach, the day after the due date).
- `DSR_AGENDA_LOOKAHEAD_DAYS` (14): how far ahead of a meeting a C(E)TR or visit falling due puts
  someone on its agenda.
- `DSR_DISCHARGE_RED_DAYS` (14): calendar days a discharged person stays rated Red.
- `DSR_VISIT_WEEKS_CHILD` (6), `DSR_VISIT_WEEKS_ADULT` (8): weeks between commissioner
  oversight visits to out-of-area inpatients.

Escalations' clocks are settings of escalation.rules: the working days to acknowledge
(`DSR_ESCALATION_ACK_WORKING_DAYS`), the owners' digest, sent once each working day
(`DSR_ESCALATION_DIGEST`, `DSR_ESCALATION_DIGEST_HOUR`, `DSR_ESCALATION_RED_AT_ONCE`), and the
days before an escalation resolved while its cause remains is raised again
(`DSR_ESCALATION_RERAISE_DAYS`, 28).
"""

import calendar
import datetime as dt
import functools
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

from django.db import models
from django.utils import timezone
from govuk_bank_holidays.bank_holidays import BankHolidays

from dsr import register_settings

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

DEFAULT_DECISION_DAYS = 28
DEFAULT_POST_ADMISSION_CTR_DAYS_ADULT = 28
DEFAULT_CETR_REQUEST_WORKING_DAYS = 10
DEFAULT_POST_ADMISSION_CETR_WORKING_DAYS_CHILD = 10
DEFAULT_POST_ADMISSION_CETR_CHILD_INTERIM = False
DEFAULT_POST_ADMISSION_CETR_WORKING_DAYS_CHILD_INTERIM = 5
DEFAULT_INPATIENT_CETR_MONTHS_CHILD = 3
DEFAULT_INPATIENT_CETR_MONTHS_ADULT = 6
DEFAULT_INPATIENT_CETR_MONTHS_ADULT_SECURE = 12
DEFAULT_REVIEW_CADENCE_DAYS: Mapping[str, int] = MappingProxyType(
    {"RED": 7, "AMBER": 14, "GREEN": 91}
)
DEFAULT_CONSENT_REVIEW_MONTHS = 12
DEFAULT_REFERRAL_REMINDER_DAYS = (14, 7, 1)
DEFAULT_AGENDA_LOOKAHEAD_DAYS = 14
DEFAULT_DISCHARGE_RED_DAYS = 14
DEFAULT_VISIT_WEEKS_CHILD = 6
DEFAULT_VISIT_WEEKS_ADULT = 8

# Blue (an inpatient) has no review cadence of its own: it follows the inpatient C(E)TR and
# oversight-visit cycle (DOMAIN section 7).
BLUE = "BLUE"

# Age bands of DOMAIN section 10: a child is under 18, a young person 18 to 25, an adult 26 and
# over. These are definitions rather than local choices, so they are not settings.
YOUNG_PERSON_FROM_AGE = 18
ADULT_FROM_AGE = 26


def _setting(name: str, default: _T) -> _T:
    """The value the DSR lead saved for `name`, else the Django setting, else `default`."""
    return register_settings.setting(name, default)


# --- Calendar helpers -------------------------------------------------------------------------


def months_later(d: dt.date, months: int) -> dt.date:
    """The same day of the month `months` calendar months after `d` (before it, if negative).

    When the target month is shorter, the result is that month's last day: 31 January plus one
    month is 28 February (29 in a leap year), and 29 February 2028 plus 12 months is
    28 February 2029. Clamping keeps a due date inside the month it belongs to, rather than
    spilling into the next one.
    """
    year, month_index = divmod(d.year * 12 + (d.month - 1) + months, 12)
    month = month_index + 1
    last_day = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(d.day, last_day))


@functools.cache
def _bank_holidays() -> frozenset[dt.date]:
    """England and Wales bank holidays, loaded once from the package's shipped list.

    `use_cached_holidays=True` reads the JSON file inside the package and makes no network call.
    The shipped list only runs a couple of years ahead (to 2028 in version 0.19); a date beyond
    it is treated as a working day unless it falls at a weekend, which makes a working-day due
    date at worst one day early, never late. Upgrading the package extends the list.
    """
    holidays = BankHolidays(use_cached_holidays=True).get_holidays(
        division=BankHolidays.ENGLAND_AND_WALES
    )
    return frozenset(holiday["date"] for holiday in holidays)


def is_working_day(d: dt.date) -> bool:
    """True if `d` is Monday to Friday and not an England and Wales bank holiday."""
    return d.weekday() < 5 and d not in _bank_holidays()


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The `days`-th working day after `start`; `start` itself never counts.

    So 10 working days from a Friday admission end on the Friday two weeks later, unless a bank
    holiday intervenes. `days=0` returns `start` unchanged. Raises `ValueError` if `days` is
    negative.
    """
    if days < 0:
        raise ValueError("days must not be negative.")
    current = start
    remaining = days
    while remaining:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


# --- Referrals --------------------------------------------------------------------------------


def decision_due_for(received_at: dt.datetime) -> dt.date:
    """The last London date on which a referral received at `received_at` is decided in time.

    It is the London calendar date of receipt plus `DSR_DECISION_DAYS` (28) calendar days.
    Norfolk and Waveney's rule is four weeks from receipt (DOMAIN section 4); the clock does not
    pause while more information is requested. Raises `ValueError` if `received_at` is naive.
    """
    # DST: the date of receipt is taken in London time first, so a referral sent at 23:30 UTC on
    # a summer evening (00:30 BST the next day) counts from the next day, as the referrer sees
    # it. Adding days to that date, not 28 * 24 hours to the instant, keeps the due date on the
    # same weekday even when a clock change falls inside the four weeks.
    received_on = timezone.localdate(received_at)
    return received_on + dt.timedelta(days=_setting("DSR_DECISION_DAYS", DEFAULT_DECISION_DAYS))


def cetr_request_decision_due(received_at: dt.datetime) -> dt.date:
    """The date the requester of a C(E)TR is told to expect the ICB's decision by:
    `DSR_CETR_REQUEST_WORKING_DAYS` (10) working days after the London date of receipt. No
    national time limit was found (DOMAIN section 2); two weeks is the local default, a setting
    so an ICB can match its own."""
    return add_working_days(
        timezone.localdate(received_at),
        _setting("DSR_CETR_REQUEST_WORKING_DAYS", DEFAULT_CETR_REQUEST_WORKING_DAYS),
    )


# --- C(E)TRs ----------------------------------------------------------------------------------


def post_admission_cetr_due(admitted_on: dt.date, *, is_child: bool) -> dt.date:
    """The due date of a post-admission C(E)TR for someone admitted on `admitted_on`.

    Only owed when no community C(E)TR happened before admission (DOMAIN rule 7). Adults: the
    admission date plus `DSR_POST_ADMISSION_CTR_DAYS_ADULT` (28) calendar days. Children:
    `DSR_POST_ADMISSION_CETR_WORKING_DAYS_CHILD` (10) working days after admission, or
    `DSR_POST_ADMISSION_CETR_WORKING_DAYS_CHILD_INTERIM` (5) while
    `DSR_POST_ADMISSION_CETR_CHILD_INTERIM` is on.
    """
    if not is_child:
        days = _setting("DSR_POST_ADMISSION_CTR_DAYS_ADULT", DEFAULT_POST_ADMISSION_CTR_DAYS_ADULT)
        return admitted_on + dt.timedelta(days=days)
    # Policy sources disagree on the children's figure (DOMAIN section 13): 2 weeks in the 2017
    # policy update, 10 working days, and an interim 5 working days for children and young
    # people. Both working-day figures are settings; the switch picks one.
    if _setting("DSR_POST_ADMISSION_CETR_CHILD_INTERIM", DEFAULT_POST_ADMISSION_CETR_CHILD_INTERIM):
        working_days = _setting(
            "DSR_POST_ADMISSION_CETR_WORKING_DAYS_CHILD_INTERIM",
            DEFAULT_POST_ADMISSION_CETR_WORKING_DAYS_CHILD_INTERIM,
        )
    else:
        working_days = _setting(
            "DSR_POST_ADMISSION_CETR_WORKING_DAYS_CHILD",
            DEFAULT_POST_ADMISSION_CETR_WORKING_DAYS_CHILD,
        )
    return add_working_days(admitted_on, working_days)


def inpatient_cetr_next_due(last: dt.date, *, is_child: bool, secure: bool) -> dt.date:
    """The due date of the next inpatient C(E)TR after one held on `last`.

    Children every `DSR_INPATIENT_CETR_MONTHS_CHILD` (3) months whatever the ward; adults every
    `DSR_INPATIENT_CETR_MONTHS_ADULT` (6) months, or `DSR_INPATIENT_CETR_MONTHS_ADULT_SECURE`
    (12) in secure services (DOMAIN rule 8). Months are counted with `months_later`.
    """
    if is_child:
        months = _setting("DSR_INPATIENT_CETR_MONTHS_CHILD", DEFAULT_INPATIENT_CETR_MONTHS_CHILD)
    elif secure:
        months = _setting(
            "DSR_INPATIENT_CETR_MONTHS_ADULT_SECURE", DEFAULT_INPATIENT_CETR_MONTHS_ADULT_SECURE
        )
    else:
        months = _setting("DSR_INPATIENT_CETR_MONTHS_ADULT", DEFAULT_INPATIENT_CETR_MONTHS_ADULT)
    return months_later(last, months)


# --- Register reviews, consent, discharge and visits --------------------------------------------


def rating_review_due(rating: str, last_reviewed: dt.date) -> dt.date | None:
    """When a person with `rating` next needs a multi-agency review, or None for Blue.

    The cadence is `DSR_REVIEW_CADENCE_DAYS`, by default Red weekly, Amber fortnightly and Green
    quarterly (91 days); no national cadence exists, so this is a local default (DOMAIN
    section 7). Blue returns None: an inpatient's reviews follow the inpatient C(E)TR and
    oversight-visit cycle instead. `rating` is matched without regard to case. Raises
    `ValueError` for a rating that is neither Blue nor in the cadence.
    """
    key = rating.upper()
    if key == BLUE:
        return None
    cadence = _setting("DSR_REVIEW_CADENCE_DAYS", DEFAULT_REVIEW_CADENCE_DAYS)
    try:
        days = cadence[key]
    except KeyError:
        raise ValueError(f"No review cadence for rating {rating!r}.") from None
    return last_reviewed + dt.timedelta(days=days)


def consent_review_due(given_on: dt.date) -> dt.date:
    """When consent given (or last re-checked) on `given_on` is next re-checked.

    `DSR_CONSENT_REVIEW_MONTHS` (12) months later, clamped to the month's end, so consent given
    on 29 February is re-checked on 28 February of a common year: early rather than late.
    """
    months = _setting("DSR_CONSENT_REVIEW_MONTHS", DEFAULT_CONSENT_REVIEW_MONTHS)
    return months_later(given_on, months)


def referral_reminder_days() -> tuple[int, int, int]:
    """The days before a referral's decision is due on which its three reminders go, furthest
    first (`DSR_REFERRAL_REMINDER_DAYS`, 14, 7 and 1: at day 14, day 21 and day 27 of the
    four weeks)."""
    first, second, third = _setting("DSR_REFERRAL_REMINDER_DAYS", DEFAULT_REFERRAL_REMINDER_DAYS)
    return int(first), int(second), int(third)


def agenda_lookahead_days() -> int:
    """How many days ahead of a meeting a C(E)TR or visit falling due puts someone on its agenda
    (`DSR_AGENDA_LOOKAHEAD_DAYS`, 14: the time a C(E)TR needs to be arranged)."""
    return int(_setting("DSR_AGENDA_LOOKAHEAD_DAYS", DEFAULT_AGENDA_LOOKAHEAD_DAYS))


def discharge_red_until(discharged_on: dt.date) -> dt.date:
    """The last day a person discharged on `discharged_on` must stay rated at least Red.

    DOMAIN rule 5: discharge forces re-rating, by local default Red for at least two weeks
    (`DSR_DISCHARGE_RED_DAYS`, 14 days).
    """
    days = _setting("DSR_DISCHARGE_RED_DAYS", DEFAULT_DISCHARGE_RED_DAYS)
    return discharged_on + dt.timedelta(days=days)


def oversight_visit_due(last: dt.date, *, is_child: bool) -> dt.date:
    """When the next on-site oversight visit to an out-of-area inpatient is due.

    DOMAIN rule 12: every `DSR_VISIT_WEEKS_CHILD` (6) weeks for a child, every
    `DSR_VISIT_WEEKS_ADULT` (8) weeks for an adult, counted from the last visit on `last`.
    """
    if is_child:
        weeks = _setting("DSR_VISIT_WEEKS_CHILD", DEFAULT_VISIT_WEEKS_CHILD)
    else:
        weeks = _setting("DSR_VISIT_WEEKS_ADULT", DEFAULT_VISIT_WEEKS_ADULT)
    return last + dt.timedelta(weeks=weeks)


# --- Ages ---------------------------------------------------------------------------------------


class AgeGroup(models.TextChoices):
    CHILD = "child", "Child (under 18)"
    YOUNG_PERSON = "young_person", "Young person (18 to 25)"
    ADULT = "adult", "Adult (26 and over)"


def age_on(date_of_birth: dt.date, on: dt.date) -> int:
    """Age in whole years on the day `on`.

    A birthday counts from the start of the day. Someone born on 29 February has their birthday
    on 1 March in a common year, as in UK law, so they turn 18 on 1 March, not 28 February.
    Raises `ValueError` if `on` is before `date_of_birth`.
    """
    if on < date_of_birth:
        raise ValueError("The day is before the date of birth.")
    # Comparing (month, day) pairs gives the UK rule for 29 February for free: on 28 February of
    # a common year, (2, 28) < (2, 29), so the birthday has not yet come; on 1 March it has.
    birthday_not_yet_reached = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - birthday_not_yet_reached


def age_group_on(date_of_birth: dt.date, on: dt.date) -> AgeGroup:
    """The age group of someone born on `date_of_birth`, on the day `on`.

    Under 18 is a child, 18 to 25 a young person, 26 and over an adult. Raises `ValueError` if
    `on` is before `date_of_birth`.
    """
    age = age_on(date_of_birth, on)
    if age < YOUNG_PERSON_FROM_AGE:
        return AgeGroup.CHILD
    if age < ADULT_FROM_AGE:
        return AgeGroup.YOUNG_PERSON
    return AgeGroup.ADULT


def _latest_birth_date_for_age(age: int, on: dt.date) -> dt.date:
    """The latest date of birth of someone who is at least `age` years old on `on`."""
    # Exactly `age` years before `on`, clamped. The clamp matters only when `on` is 29 February
    # and the birth year is a common year: nobody was born on that day, and someone born on
    # 1 March of that year has their birthday after `on`, so 28 February is the latest.
    return months_later(on, -12 * age)


def birth_date_bounds(group: AgeGroup, on: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The (earliest, latest) dates of birth, both inclusive, of people in `group` on `on`.

    None means unbounded. For use in a database filter, e.g.
    `date_of_birth__gte=earliest, date_of_birth__lte=latest`, so that the age group of every
    row is worked out in one query. Agrees with `age_group_on` for every date of birth on or
    before `on`; a child's latest date of birth is `on` itself, so a date of birth in the future
    is in no group.
    """
    young_person_latest = _latest_birth_date_for_age(YOUNG_PERSON_FROM_AGE, on)
    adult_latest = _latest_birth_date_for_age(ADULT_FROM_AGE, on)
    one_day = dt.timedelta(days=1)
    if group == AgeGroup.CHILD:
        return young_person_latest + one_day, on
    if group == AgeGroup.YOUNG_PERSON:
        return adult_latest + one_day, young_person_latest
    if group == AgeGroup.ADULT:
        return None, adult_latest
    raise ValueError(f"Unknown age group {group!r}.")


def birthday(date_of_birth: dt.date, years: int) -> dt.date:
    """The day someone turns `years`; a 29 February birthday falls on 1 March in other years."""
    day = months_later(date_of_birth, years * 12)
    return day if age_on(date_of_birth, day) >= years else day + dt.timedelta(days=1)
