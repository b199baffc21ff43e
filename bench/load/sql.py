"""The loader's SQL building blocks: seeded randomness, picks from lists, London times,
NHS numbers and the deadline arithmetic, and the Loader that runs and times the statements."""

# Every statement here is assembled from this package's constants and integers (the seed,
# salts and sizes); every value from outside goes as a query parameter.
# ruff: noqa: S608

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.db import connection

from dsr.deadlines import DEFAULT_REVIEW_CADENCE_DAYS
from dsr.demo import FAMILY_NAMES, GIVEN_NAMES, HOSPITALS, RISK_NOTES
from dsr.models import Need, RiskFactor
from reviews.models import Agency

STREETS = [
    "Church Lane",
    "Station Road",
    "Mill Road",
    "High Street",
    "Queen's Road",
    "Victoria Street",
    "Park Avenue",
    "The Green",
    "Manor Way",
    "Orchard Close",
]

SCHOOLS = [
    "Harbour View Special School",
    "Oak Tree Academy",
    "St Mary's Primary School",
    "Riverside College",
    "Hillcrest Secondary School",
]

ETHNICITIES = ["A"] * 14 + list("BCDEFGHJKLMNPRSZ") + ["99"]

RISK_FACTORS = [factor.value for factor in RiskFactor]

NEEDS = [need.value for need in Need]

AGENCIES = [agency.value for agency in Agency]

ACTIONS = [
    "Arrange a positive behaviour support plan review.",
    "Find a short-break placement for the family.",
    "Refer to the intensive support team.",
    "Book an education, health and care plan review.",
    "Confirm the housing application with the council.",
    "Agree a crisis plan with the family and the provider.",
    "Arrange a medication review with the psychiatrist.",
    "Ask the provider for an updated staffing plan.",
]

REFERRER_ROLES = ["Community nurse", "Social worker", "GP", "Special educational needs lead"]

REFERRER_ORGANISATIONS = [
    "Community learning disability team",
    "Children's social care",
    "Riverside Medical Practice",
    "Harbour View Special School",
]

LOCATIONS = ["Online (Microsoft Teams)", "County Hall, meeting room 2", "ICB offices, room 4"]

LIVE = "('received', 'under_review', 'more_info')"

# The four-week sweep's stages (referrals.sweeps.STAGES): days before the decision is due.
STAGE_DAYS = "CASE s.stage WHEN 'day14' THEN 14 WHEN 'day21' THEN 7 WHEN 'day27' THEN 1 ELSE -1 END"


def r(expr: str, salt: int, seed: int) -> str:
    """SQL for a uniform number in [0, 1) fixed by `expr` (a row's number), `salt` and the seed."""
    salt = seed * 1000 + salt
    return f"((hashint8extended(({expr})::bigint, {salt}) & 2147483647)::float8 / 2147483648.0)"


def pick(array: str, random_sql: str, kind: str = "text") -> str:
    """SQL for one element of the array parameter `array`, chosen by `random_sql`."""
    values = f"%({array})s::{kind}[]"
    return f"({values})[1 + floor({random_sql} * cardinality({values}))::int]"


def sequence(table: str) -> str:
    return f"nextval(pg_get_serial_sequence('{table}', 'id'))"


class Loader:
    """Runs the loading statements in order, timing each; `self.p` holds their parameters."""

    def __init__(self, seed: int, today: date, now: datetime) -> None:
        self.seed = seed
        self.timings: dict[str, float] = {}
        # (seconds, the statement's start) of every statement run, for `bench_load -v 2`.
        self.statements: list[tuple[float, str]] = []
        self.p: dict[str, Any] = {
            "today": today,
            "now": now,
            "given": GIVEN_NAMES,
            "family": FAMILY_NAMES,
            "streets": STREETS,
            "schools": SCHOOLS,
            "ethnicities": ETHNICITIES,
            "notes": RISK_NOTES,
            "factors": RISK_FACTORS,
            "needs": NEEDS,
            "agencies": AGENCIES,
            "actions": ACTIONS,
            "hospital_names": [name for name, _ in HOSPITALS],
            "hospital_codes": [code for _, code in HOSPITALS],
            "referrer_roles": REFERRER_ROLES,
            "referrer_orgs": REFERRER_ORGANISATIONS,
            "locations": LOCATIONS,
        }

    def r(self, expr: str, salt: int) -> str:
        return r(expr, salt, self.seed)

    def run(self, name: str, *statements: str) -> None:
        started = time.monotonic()
        with connection.cursor() as cursor:
            for sql in statements:
                before = time.monotonic()
                cursor.execute(sql, self.p)
                first_line = " ".join(sql.split())[:90]
                self.statements.append((round(time.monotonic() - before, 2), first_line))
        self.timings[name] = round(self.timings.get(name, 0) + time.monotonic() - started, 2)

    def step(self, name: str, build: Callable[[], list[str]]) -> None:
        self.run(name, *build())

    # The helpers below return SQL fragments used by several statements.

    def staff(self, random_sql: str) -> str:
        return pick("staff", random_sql, "bigint")

    def owner(self, level: str, la_idx: str, random_sql: str) -> str:
        """The owner of an escalation at `level` for the area numbered `la_idx` (1-based)."""
        return (
            f"CASE WHEN {level} = 1 OR {la_idx} IS NULL THEN %(lead)s::bigint"
            f" WHEN {level} = 2 THEN CASE WHEN {random_sql} < 0.5"
            f" THEN (%(area_managers)s::bigint[])[{la_idx}]"
            f" ELSE (%(area_health_managers)s::bigint[])[{la_idx}] END"
            " ELSE %(executive)s::bigint END"
        )


def cadence(rating: str) -> str:
    """SQL for the days between reviews at `rating` (DSR_REVIEW_CADENCE_DAYS); NULL for Blue."""
    from django.conf import settings

    days = getattr(settings, "DSR_REVIEW_CADENCE_DAYS", DEFAULT_REVIEW_CADENCE_DAYS)
    whens = " ".join(f"WHEN '{key}' THEN {int(value)}" for key, value in days.items())
    return f"(CASE upper({rating}) {whens} END)"


def local_time(day: str, clock: str) -> str:
    """SQL for the London time `clock` on the date `day`, as a timestamp with time zone."""
    return f"(({day}) + time '{clock}') AT TIME ZONE 'Europe/London'"


def nhs_number(nine: str) -> str:
    """SQL for the NHS number with nine first digits `nine` (a bigint), or NULL where the
    modulus 11 check digit would be 10 (no valid number starts so)."""
    weighted = " + ".join(f"mod({nine} / {10 ** (9 - i)}, 10) * {11 - i}" for i in range(1, 10))
    check = f"(11 - mod({weighted}, 11))"
    return (
        f"CASE WHEN {check} = 10 THEN NULL"
        f" ELSE ({nine})::text || (CASE WHEN {check} = 11 THEN 0 ELSE {check} END)::text END"
    )


def birthday(dob: str, years: int) -> str:
    """SQL for the day someone born on `dob` turns `years` (29 February: 1 March)."""
    day = f"({dob} + interval '{years} years')::date"
    leap_day = f"to_char({dob}, 'MM-DD') = '02-29' AND to_char({day}, 'MM-DD') <> '02-29'"
    return f"({day} + CASE WHEN {leap_day} THEN 1 ELSE 0 END)"


def working_days_after(day: str, days: str) -> str:
    """SQL for the `days`-th working day (Monday to Friday) after `day`."""
    return (
        f"(SELECT d::date FROM generate_series({day} + 1, {day} + 14, interval '1 day') AS d"
        f" WHERE extract(isodow FROM d) < 6 ORDER BY d OFFSET ({days}) - 1 LIMIT 1)"
    )
