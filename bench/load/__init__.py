"""The benchmark's data: a believable register at any size, loaded with set-based SQL.

`load(people=N)` fills an empty database: local authorities and the organisations covering them,
one account per role (a known password and a fixed authenticator key), then N people and
everything around them: consent, register entries with rating histories, admissions, contacts
and needs, referrals with their transitions, meetings with agenda items and actions, C(E)TRs
with their panels, escalations with their transitions and notes, outbox rows, reminders and the
access log. One person (the first) has a long history for the person-page benchmark.

Every table is filled by one `INSERT ... SELECT` over `generate_series` or over small plan tables
(temporary), never row by row, so 100,000 people take about a minute here. Randomness is a hash
of each row's number and the seed (`hashint8extended`), so the same seed gives the same data
whatever the query plan. Each row satisfies the database's constraints and the register's
rules (Blue exactly while in hospital, a rating review date from the rating's cadence, consent by
age, the four-week decision date, a transition row for every status move). History rows
(django-simple-history) are not written for the seeded rows.

`add_referrals(M)` adds M live referrals received over the last 30 days (about half of them due a
reminder), for the deadline sweep's benchmark.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from bench.load import escalations, referrals, register, reviews
from bench.load.accounts import (
    AREAS,
    CASELOAD_STAFF,
    DOMAIN,
    PASSWORD,
    TOTP_KEY,
    Accounts,
    make_accounts,
)
from bench.load.sql import Loader
from dsr.deadlines import decision_due_for, discharge_red_until
from dsr.models import LocalAuthority, Person, User
from dsr.roles import Role
from escalation.queue_order import queue_order_rebuild

__all__ = [
    "MAIN_TABLES",
    "PASSWORD",
    "TOTP_KEY",
    "LoadError",
    "RegisterNotEmpty",
    "Result",
    "add_referrals",
    "analyze",
    "counts",
    "empty_register",
    "load",
]


@dataclass
class Result:
    """What a load did: rows per main table, seconds per step (and per statement), the person
    with the long history and the accounts made."""

    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    long_history_person: int | None = None
    accounts: Accounts | None = None
    statements: list[tuple[float, str]] = field(default_factory=list)


class LoadError(Exception):
    """The database is not in the state the loader needs."""


class RegisterNotEmpty(LoadError):
    """The database already holds people; the loader fills an empty register only."""


MAIN_TABLES = [
    "dsr_localauthority",
    "dsr_organisation",
    "dsr_user",
    "otp_totp_totpdevice",
    "dsr_person",
    "dsr_personcontact",
    "dsr_personneed",
    "dsr_consent",
    "dsr_registerentry",
    "dsr_rating",
    "dsr_admission",
    "dsr_cetrexception",
    "dsr_accessevent",
    "dsr_notification",
    "dsr_reminder",
    "referrals_referral",
    "referrals_referraltransition",
    "referrals_referralcontact",
    "reviews_meeting",
    "reviews_attendee",
    "reviews_agendaitem",
    "reviews_action",
    "reviews_cetr",
    "reviews_panelmember",
    "reviews_oversightvisit",
    "reviews_cetrrequest",
    "escalation_escalation",
    "escalation_escalationtransition",
    "escalation_escalationnote",
    "escalation_queueplace",
]

# Emptied by `empty_register` (--force): every table of the project's apps, the accounts'
# authenticators and sessions; the roles (groups and permissions) and the schema stay.
_EMPTY_PATTERN = r"^(dsr|referrals|reviews|escalation|reports|otp_totp|axes)_|^django_session$"


def counts() -> dict[str, int]:
    """Rows in each of the main tables (MAIN_TABLES, constants)."""
    query = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in MAIN_TABLES)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query)
        found = dict(cursor.fetchall())
    return {table: found[table] for table in MAIN_TABLES}


def empty_register() -> None:
    """Remove every row the loader writes (and any other data of the project's apps)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            " AND tablename ~ %s",
            [_EMPTY_PATTERN],
        )
        tables = [connection.ops.quote_name(name) for (name,) in cursor.fetchall()]
        if tables:
            # Run the foreign-key checks still deferred in this transaction first: PostgreSQL
            # refuses to truncate a table with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def analyze() -> float:
    """Fresh planner statistics for every table (and, outside a transaction, the visibility map
    that index-only scans need). Returns the seconds it took."""
    started = time.monotonic()
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            cursor.execute("ANALYZE")
        else:
            cursor.execute("VACUUM (ANALYZE)")
    return time.monotonic() - started


# --- Accounts and organisations ----------------------------------------------------------------

STEPS: list[tuple[str, Callable[[Loader], list[str]]]] = [
    ("people plan", register.plan),
    ("people", register.people),
    ("consent", register.consent),
    ("register entries and ratings", register.entries_and_ratings),
    ("admissions, contacts, needs", register.admissions_contacts_needs),
    ("meetings, agenda items, actions", reviews.meetings),
    ("C(E)TRs, panels, visits, requests", reviews.cetrs),
    ("referrals, transitions, outbox, reminders", referrals.referrals),
    ("escalations, transitions, notes", escalations.escalations),
    ("access log", register.access_log),
]

PLAN_TABLES = [
    "bench_people",
    "bench_consents",
    "bench_entries",
    "bench_ratings",
    "bench_admissions",
    "bench_meetings",
    "bench_items",
    "bench_cetrs",
    "bench_refs",
    "bench_ref_rows",
    "bench_stages",
    "bench_esc",
    "bench_esc_plan",
    "bench_more_refs",
]


def _deadline_days(today: date, now: datetime) -> dict[str, int]:
    """The deployment's four-week decision days and days Red after a discharge, in days, from
    the register's own deadline functions (dsr.deadlines)."""
    return {
        "decision_days": (decision_due_for(now) - timezone.localdate(now)).days,
        "red_days": (discharge_red_until(today) - today).days,
    }


def _drop_plan_tables() -> None:
    with connection.cursor() as cursor:
        for table in PLAN_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _fast_session() -> None:
    """For this transaction only: no wait for the WAL flush at commit, room for the sorts, and
    no JIT (compiling these wide expressions takes seconds and saves nothing at this size)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO off")
        cursor.execute("SET LOCAL jit TO off")
        cursor.execute("SET LOCAL work_mem TO '256MB'")


def register_in_use() -> dict[str, int]:
    """What the database already holds that the loader would add to (empty: nothing)."""
    held = {
        "people": Person.objects.count(),
        "local authorities": LocalAuthority.objects.count(),
        "accounts": User.objects.count(),
    }
    return {name: count for name, count in held.items() if count}


def load(*, people: int, seed: int = 42, areas: int = 12, force: bool = False) -> Result:
    """Fill an empty database with `people` people and everything around them. With `force`,
    empty the project's tables first; without it, refuse a database that holds anything."""
    from django.conf import settings

    from escalation import rules

    if not 1 <= areas <= len(AREAS):
        raise ValueError(f"areas must be between 1 and {len(AREAS)}.")
    if people < 1:
        raise ValueError("people must be 1 or more.")
    result = Result()
    started = time.monotonic()
    with transaction.atomic():
        if force:
            empty_register()
        in_use = register_in_use()
        if in_use:
            held = ", ".join(f"{count:,} {name}" for name, count in in_use.items())
            raise RegisterNotEmpty(f"The database already holds {held}.")
        _fast_session()
        accounts = make_accounts(areas)
        ld = Loader(seed, timezone.localdate(), timezone.now())
        ids = accounts.ids
        ld.p.update(
            people=people,
            areas=areas,
            area_ids=accounts.areas,
            area_names=[name for name, _, _ in AREAS[:areas]],
            prefixes=[prefix for _, _, prefix in AREAS[:areas]],
            icb=accounts.icb,
            staff=ids[Role.REGISTER_STAFF.value][:CASELOAD_STAFF],
            lead=ids[Role.DSR_LEAD.value][0],
            executive=ids[Role.EXECUTIVE_LEAD.value][0],
            area_managers=accounts.area_managers,
            area_health_managers=accounts.area_health_managers,
            panel=ids[Role.PANEL_MEMBER.value],
            referrers=ids[Role.PROFESSIONAL_REFERRER.value],
            viewers=ids[Role.REGISTER_STAFF.value][:CASELOAD_STAFF] + ids[Role.DSR_LEAD.value],
            action_owners=ids[Role.REGISTER_STAFF.value][:CASELOAD_STAFF]
            + accounts.area_managers
            + ids[Role.SENIOR_MANAGER_HEALTH.value],
            team_email=settings.DSR_TEAM_EMAIL or f"dsr-team@{DOMAIN}",
            level_names=[rules.level_name(level) for level in range(1, rules.top_level() + 1)],
            amber_days=rules.rule("amber_unreviewed").days,
            **_deadline_days(ld.p["today"], ld.p["now"]),
        )
        ld.timings["accounts"] = round(time.monotonic() - started, 2)
        for name, build in STEPS:
            ld.step(name, lambda build=build: build(ld))
        # The escalations were written in SQL: the queue's order is worked out from them, as
        # the hourly check would (escalation.queue_order).
        step_started = time.monotonic()
        queue_order_rebuild()
        ld.timings["escalation queue order"] = round(time.monotonic() - step_started, 2)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM bench_people WHERE n = 1")
            result.long_history_person = cursor.fetchone()[0]
        _drop_plan_tables()
    result.timings = ld.timings
    result.statements = ld.statements
    result.timings["load (all statements, committed)"] = round(time.monotonic() - started, 2)
    result.timings["analyze"] = round(analyze(), 2)
    result.accounts = accounts
    result.counts = counts()
    return result


def add_referrals(*, count: int, seed: int = 42) -> Result:
    """Add `count` live referrals received over the last 30 days (about half of them in a
    reminder stage, some past four weeks), with their "received" transitions, to a loaded
    database: for the deadline sweep's benchmark."""
    if count < 1:
        raise ValueError("count must be 1 or more.")
    result = Result()
    started = time.monotonic()
    with transaction.atomic():
        areas = list(LocalAuthority.objects.order_by("pk").values_list("pk", "name"))
        staff = list(
            User.objects.filter(groups__name=Role.REGISTER_STAFF.label)
            .order_by("pk")
            .values_list("pk", flat=True)[:CASELOAD_STAFF]
        )
        referrers = list(
            User.objects.filter(groups__name=Role.PROFESSIONAL_REFERRER.label)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not areas or not staff or not referrers:
            raise LoadError("Load the register first: there are no areas or accounts yet.")
        _fast_session()
        ld = Loader(seed, timezone.localdate(), timezone.now())
        ld.p.update(
            **_deadline_days(ld.p["today"], ld.p["now"]),
            count=count,
            area_ids=[pk for pk, _ in areas],
            area_names=[name for _, name in areas],
            staff=staff,
            referrers=referrers,
        )
        ld.step("referrals", lambda: referrals.more_referrals(ld))
        _drop_plan_tables()
    result.timings = ld.timings
    result.statements = ld.statements
    result.statements = ld.statements
    result.timings["load (all statements, committed)"] = round(time.monotonic() - started, 2)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE referrals_referral")
        cursor.execute("ANALYZE referrals_referraltransition")
    result.timings["analyze"] = round(time.monotonic() - started, 2)
    result.counts = counts()
    return result
