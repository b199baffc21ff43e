"""Demo organisations and accounts, one per role (ACCESS.md). Development only."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from random import Random
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.models import LocalAuthority, Organisation, User
from dsr.roles import Role

DEMO_PASSWORD = "demo-register-password"  # noqa: S105  (demo only; seed_demo refuses without DEBUG)
# One shared 20-byte key (hex) so a single authenticator entry serves every demo account.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"

LOCAL_AUTHORITIES = [("Norfolk", "E10000020"), ("Suffolk", "E10000029")]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    organisation: str
    role: Role
    job_title: str


ICB = "NHS Norfolk and Waveney Integrated Care Board"
NORFOLK = "Norfolk County Council"
SUFFOLK = "Suffolk County Council"
TRUST = "Norfolk and Suffolk NHS Foundation Trust"

ORGANISATIONS = [
    (ICB, Organisation.Kind.ICB, "QMM", ["Norfolk", "Suffolk"]),
    (NORFOLK, Organisation.Kind.LOCAL_AUTHORITY, "", ["Norfolk"]),
    (SUFFOLK, Organisation.Kind.LOCAL_AUTHORITY, "", ["Suffolk"]),
    (TRUST, Organisation.Kind.NHS_TRUST, "RMY", ["Norfolk", "Suffolk"]),
]

ACCOUNTS = [
    DemoAccount("staff@dsr.example", "Sam Okafor", ICB, Role.REGISTER_STAFF, "DSR coordinator"),
    DemoAccount("lead@dsr.example", "Priya Shah", ICB, Role.DSR_LEAD, "DSR lead"),
    DemoAccount(
        "health.manager@dsr.example",
        "Helen Baptiste",
        TRUST,
        Role.SENIOR_MANAGER_HEALTH,
        "Head of learning disability services",
    ),
    DemoAccount(
        "la.manager@dsr.example",
        "Tom Lindqvist",
        NORFOLK,
        Role.SENIOR_MANAGER_LA,
        "Assistant director, adult social care",
    ),
    DemoAccount(
        "executive@dsr.example",
        "Grace Adeyemi",
        ICB,
        Role.EXECUTIVE_LEAD,
        "Executive lead for learning disability and autism",
    ),
    DemoAccount("panel@dsr.example", "Ruth Evans", ICB, Role.PANEL_MEMBER, "Expert by experience"),
    DemoAccount(
        "referrer@dsr.example",
        "Daniel Kowalski",
        TRUST,
        Role.PROFESSIONAL_REFERRER,
        "Community learning disability nurse",
    ),
    DemoAccount(
        "commissioner@dsr.example",
        "Aisha Rahman",
        ICB,
        Role.PLANNING_COMMISSIONER,
        "Commissioning manager",
    ),
    DemoAccount("admin@dsr.example", "Chris Moore", ICB, Role.ADMINISTRATOR, "Service desk"),
]


def demo_code() -> str:
    """The current six-digit code of the demo authenticator key."""
    return f"{totp(bytes.fromhex(DEMO_TOTP_KEY)):06d}"


@transaction.atomic
def seed_demo() -> list[DemoAccount]:
    """Create (or reset) the demo organisations and accounts. Refused unless DEBUG is on."""
    if not settings.DEBUG:
        raise ImproperlyConfigured("Demo data is for development only: DEBUG is off.")

    authorities = {}
    for name, code in LOCAL_AUTHORITIES:
        authorities[name], _ = LocalAuthority.objects.update_or_create(
            gss_code=code, defaults={"name": name}
        )
    organisations = {}
    for name, kind, ods, covers in ORGANISATIONS:
        org, _ = Organisation.objects.update_or_create(
            name=name, defaults={"kind": kind, "ods_code": ods}
        )
        org.local_authorities.set([authorities[n] for n in covers])
        organisations[name] = org

    for account in ACCOUNTS:
        user, _ = User.objects.update_or_create(
            email=account.email,
            defaults={
                "full_name": account.full_name,
                "organisation": organisations[account.organisation],
                "job_title": account.job_title,
                "is_active": True,
                "is_staff": account.role == Role.ADMINISTRATOR,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        user.groups.set([Group.objects.get(name=account.role.label)])
        TOTPDevice.objects.filter(user=user).delete()
        TOTPDevice.objects.create(
            user=user, name="Demo authenticator", key=DEMO_TOTP_KEY, confirmed=True
        )
    _seed_team_contact(organisations[ICB])
    return ACCOUNTS


def _seed_team_contact(icb: Organisation) -> None:
    """The DSR team's contact details, as the DSR lead would set them (a drama phone number),
    at the demo ICB (its name read from its row, so the two always agree)."""
    from dsr.services.team import team_contact_save

    team_contact_save(
        by=User.objects.get(email="lead@dsr.example"),
        phone="01632 960 001",
        email="dsr.team@dsr.example",
        address=f"Dynamic support register team\n{icb.name}\n1 Example Street\nNorwich",
        postcode="NR1 2DH",
        opening_hours="Monday to Friday, 9am to 5pm (not bank holidays)",
        complaints="If you are unhappy with a decision, or with how we made it, tell the DSR team "
        "and ask us to look at it again. We will reply within 10 working days.\n"
        "To make a complaint, write to us or email us and say what went wrong.",
    )


# --- A believable register -------------------------------------------------------------------

GIVEN_NAMES = [
    "Aaliyah",
    "Alfie",
    "Amara",
    "Archie",
    "Ava",
    "Ben",
    "Callum",
    "Chloe",
    "Daisy",
    "Dylan",
    "Ella",
    "Ethan",
    "Evie",
    "Finley",
    "Freya",
    "George",
    "Grace",
    "Harry",
    "Isla",
    "Jack",
    "Jacob",
    "Jade",
    "Kai",
    "Keira",
    "Leo",
    "Lily",
    "Logan",
    "Maya",
    "Mia",
    "Mohammed",
    "Noah",
    "Olivia",
    "Oscar",
    "Poppy",
    "Priya",
    "Reuben",
    "Rosie",
    "Ruby",
    "Sam",
    "Sofia",
    "Theo",
    "Tyler",
    "Zara",
    "Zain",
    "Imran",
    "Kezia",
    "Marek",
    "Niamh",
    "Tomasz",
    "Yusuf",
]
FAMILY_NAMES = [
    "Adams",
    "Ahmed",
    "Ali",
    "Baker",
    "Barnes",
    "Bell",
    "Brown",
    "Chapman",
    "Clarke",
    "Cole",
    "Davies",
    "Dawson",
    "Edwards",
    "Evans",
    "Fisher",
    "Fletcher",
    "Green",
    "Hall",
    "Harris",
    "Hughes",
    "Hussain",
    "Jackson",
    "James",
    "Khan",
    "King",
    "Kowalczyk",
    "Lee",
    "Lewis",
    "Marsh",
    "Mason",
    "Mills",
    "Moore",
    "Nowak",
    "Okafor",
    "Parker",
    "Patel",
    "Price",
    "Reid",
    "Roberts",
    "Shaw",
    "Singh",
    "Smith",
    "Taylor",
    "Thomas",
    "Turner",
    "Walker",
    "Ward",
    "Watson",
    "White",
    "Wright",
]
RISK_NOTES = [
    "Placement under strain after staff changes; two incidents this month.",
    "Family carer unwell; respite not yet in place.",
    "Transition from children's services due in the spring.",
    "Crisis team called twice in the last month.",
    "Settled at home with a consistent support team.",
    "School placement at risk of breaking down.",
]
HOSPITALS = [("Hellesdon Hospital", "RMY01"), ("Woodlands Unit", "RMY07"), ("The Priory", "NHQ23")]

# Placements and care packages, and what they cost a week (£, low and high) by type: a package
# of support at home for someone living with their family, the rest a placement.
PLACEMENT_COSTS = {
    "family_home": (250, 1200),
    "supported_living": (1500, 4200),
    "residential_care": (2500, 6500),
    "residential_school_38": (3500, 6500),
    "residential_school_52": (5500, 9500),
    "foster_care": (500, 1400),
}
PROVIDERS = [
    "Broadland Support Services",
    "Waveney Supported Living",
    "Breckland Care Homes",
    "East Coast Residential School",
    "Fenland Foster Care",
    "Yare Valley Homes",
]
FUNDERS = (("local_authority", 40), ("joint", 30), ("icb", 25), ("other", 5))
# How often the ICB has the weekly cost of a package on the register, by local authority: one
# shares its costs as a rule, the other now and then, so some of the planning figures' cost
# totals have too few people in them to be shown.
COSTS_KNOWN = {"E10000020": 0.65, "E10000029": 0.15}
# The chance a review finds the person moved to another placement.
MOVES_AT_REVIEW = 0.02


def _nhs_number(rng) -> str:
    from dsr.nhsuk.validators import nhs_number_check_digit

    while True:
        first_nine = f"{rng.randint(400_000_000, 499_999_999)}"
        check = nhs_number_check_digit(first_nine)
        if check != 10:
            return f"{first_nine}{check}"


def _person_fields(rng, today, areas, icb):
    from datetime import timedelta

    from dsr.models import Diagnosis, DiagnosisStatus, Ethnicity, PlacementType, Sex

    band = rng.random()
    age_days = (
        rng.randint(6 * 365, 17 * 365)
        if band < 0.35
        else rng.randint(18 * 365, 25 * 365)
        if band < 0.6
        else rng.randint(26 * 365, 64 * 365)
    )
    born = today - timedelta(days=age_days)
    return {
        "given_name": rng.choice(GIVEN_NAMES),
        "family_name": rng.choice(FAMILY_NAMES),
        "date_of_birth": born,
        "nhs_number": _nhs_number(rng),
        "sex": rng.choice([Sex.MALE, Sex.MALE, Sex.FEMALE, Sex.FEMALE, Sex.NOT_KNOWN]),
        "ethnicity": rng.choice(list(Ethnicity)),
        "postcode": rng.choice(["NR1 2DH", "NR30 1BT", "IP1 2AX", "NR32 1PL", "PE30 1EX"]),
        "local_authority": rng.choice(areas),
        "responsible_icb": icb,
        "diagnosis": rng.choice(list(Diagnosis)),
        "diagnosis_status": rng.choice(
            [DiagnosisStatus.CONFIRMED] * 4 + [DiagnosisStatus.CLINICALLY_UNDERSTOOD]
        ),
        "has_ehcp": age_days < 25 * 365 and rng.random() < 0.6,
        "placement_type": rng.choice(list(PlacementType)[:6]),
        "out_of_area": rng.random() < 0.08,
        "at_objection": rng.random() < 0.05,
    }


# --- A year of the register in use -----------------------------------------------------------
#
# The demo walks the clock (time-machine, a development dependency) through the register's past
# day by day and does each working day's work through the services, as a team would: people
# join, are reviewed at their rating's cadence (a few late, a handful lost track of for weeks),
# are admitted and discharged, have their consent re-checked, and leave the register. Each other
# app's daily step (registered with its seeder) runs after the day's register work: the
# escalation sweeps, meetings and actions, referrals. Everything is stamped on the day it was
# done, so the history, the queues and the kept counts read as a register in use for a year.

YEAR = 365
# The share of people already on the register when the demo's year began; they joined up to
# EARLIEST days ago, and their reviews before the year are coarse (the history is not shown).
ALREADY_ON = 0.55
EARLIEST = 700
# How a rating moves at a review (weights): red eases within weeks, amber within months.
NEXT_RATING = {
    "RED": (("RED", 80), ("AMBER", 17), ("GREEN", 3)),
    "AMBER": (("AMBER", 80), ("GREEN", 14), ("RED", 6)),
    "GREEN": (("GREEN", 80), ("AMBER", 18), ("RED", 2)),
}
FIRST_RATING = (("GREEN", 35), ("AMBER", 47), ("RED", 18))
# The chance a review finds the person admitted instead (per review, by rating).
ADMITTED_AT_REVIEW = {"RED": 0.03, "AMBER": 0.004}
# The chance a green person leaves the register at a review (risk reduced, or moved away).
LEAVES_AT_REVIEW = 0.03
# In the year: the chance a review is late by a few days, or lost track of for weeks.
LATE_REVIEW, LOST_REVIEW = 0.05, 0.01
# The share of people whose yearly consent check is always weeks late.
SLOW_CONSENT = 0.04
CONFIRMED = "Reviewed at the multi-agency meeting: rating confirmed."


@dataclass(frozen=True)
class DemoDay:
    """One working day of the demo's year, handed to each app's daily step. `at(hour, minute)`
    moves the clock on to that time of the day (never back); `today` is the real today, where the
    walk ends."""

    day: date
    today: date
    rng: Random
    at: Callable[..., None]


@dataclass
class _Plan:
    """One synthetic person's course through the walk (the register holds the truth; this only
    says what happens next)."""

    fields: dict
    opens_on: date
    first_rating: str
    consent_late_by: int
    person: Any = None
    entry: Any = None
    rating: str = ""
    next_review: date | None = None
    red_until: date | None = None
    consent_due: date | None = None
    admission: Any = None
    discharge_on: date | None = None
    closed: bool = False
    # Placements and costs draw on their own generator, so the register's course is the same
    # with or without them.
    costs: Random | None = None
    placement: Any = None


def _pick(rng: Random, weights: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([value for value, _ in weights], [weight for _, weight in weights])[0]


def _moment(day: date, hour: int, minute: int = 0) -> datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _factors(rng: Random) -> list[str]:
    from dsr.models import RiskFactor

    return [factor.value for factor in rng.sample(list(RiskFactor), 2)]


def _consent(rng: Random, plan: _Plan, day: date, staff: User) -> None:
    """Record (or re-check) consent on `day`, on the basis the person's age then allows."""
    from dsr import services
    from dsr.deadlines import age_on
    from dsr.models import Consent

    age = age_on(plan.person.date_of_birth, day)
    basis = (
        Consent.Basis.PARENTAL_RESPONSIBILITY
        if age < 16
        else rng.choice([Consent.Basis.OWN_CONSENT] * 3 + [Consent.Basis.BEST_INTERESTS])
    )
    best_interests = basis == Consent.Basis.BEST_INTERESTS
    consent = services.consent_record(
        person=plan.person,
        basis=basis,
        given_on=day,
        decision_maker="Dr R Osei, consultant psychiatrist" if best_interests else "",
        capacity_assessed_on=day if best_interests else None,
        by=staff,
    )
    plan.consent_due = consent.review_due


def _schedule(rng: Random, plan: _Plan, day: date, start: date) -> None:
    """The next review after one on `day`: at the rating's cadence in the year (now and then
    late, rarely lost track of); before it, coarse, but within cadence when the year begins."""
    from dsr.deadlines import rating_review_due

    due = rating_review_due(plan.rating, day)
    cadence = (due - day).days
    if day < start:
        if day < start - timedelta(days=cadence):
            due = min(
                day + timedelta(days=rng.randint(30, 100)),
                start - timedelta(days=rng.randint(1, cadence)),
            )
    else:
        roll = rng.random()
        if roll < LOST_REVIEW:
            due += timedelta(days=rng.randint(30, 75))
        elif roll < LOST_REVIEW + LATE_REVIEW:
            due += timedelta(days=rng.randint(1, 9))
    plan.next_review = due


def _join(rng: Random, plan: _Plan, day: date, start: date, staff: User) -> None:
    from dsr import services
    from dsr.deadlines import age_on
    from dsr.models import PersonContact

    plan.person = services.person_create(by=staff, **plan.fields)
    _consent(rng, plan, day, staff)
    plan.rating = plan.first_rating
    plan.entry = services.register_open(
        person=plan.person,
        rating=plan.rating,
        rationale=rng.choice(RISK_NOTES),
        risk_factors=_factors(rng),
        opened_on=day,
        by=staff,
    )
    _schedule(rng, plan, day, start)
    _place(
        plan, plan.fields["placement_type"], day - timedelta(days=plan.costs.randint(0, 400)), staff
    )
    person = plan.person
    if rng.random() < 0.5:
        PersonContact.objects.create(
            person=person,
            role=PersonContact.Role.KEY_WORKER,
            name=f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}",
            organisation="Key worker service",
        )
    if age_on(person.date_of_birth, day) < 18:
        PersonContact.objects.create(
            person=person,
            role=PersonContact.Role.PARENT_CARER,
            name=f"{rng.choice(GIVEN_NAMES)} {person.family_name}",
            relationship=rng.choice(["Mother", "Father", "Foster carer", "Grandmother"]),
            has_parental_responsibility=True,
        )


def _weekly_cost(plan: _Plan, low: int, high: int) -> tuple[Decimal | None, str]:
    """A weekly cost (to the £10) and its funder, where the person's area records costs."""
    costs = plan.costs
    if costs.random() >= COSTS_KNOWN.get(plan.fields["local_authority"].gss_code, 0):
        return None, ""
    return Decimal(costs.randint(low // 10, high // 10) * 10), _pick(costs, FUNDERS)


def _place(plan: _Plan, kind: str, started_on: date, staff: User) -> None:
    """Record where the person lives from `started_on` as a placement (nearly always for a
    placement, now and then a care package at home), with its cost where known."""
    from dsr import services

    costs = plan.costs
    if costs.random() >= (0.3 if kind == "family_home" else 0.9):
        return
    weekly_cost, funder = _weekly_cost(plan, *PLACEMENT_COSTS[kind])
    plan.placement = services.placement_record(
        person=plan.person,
        placement_type=kind,
        out_of_area=plan.fields["out_of_area"] if kind != "family_home" else False,
        provider_name="" if kind == "family_home" else costs.choice(PROVIDERS),
        started_on=started_on,
        weekly_cost=weekly_cost,
        funder=funder,
        by=staff,
    )


def _move(plan: _Plan, day: date, staff: User) -> None:
    """The person moved on `day`: the placement they had ends the day before, another starts."""
    from dsr import services

    if plan.placement is None or plan.placement.started_on >= day:
        return
    services.placement_end(placement=plan.placement, ended_on=day - timedelta(days=1), by=staff)
    plan.placement = None
    kind = plan.costs.choice([k for k in PLACEMENT_COSTS if k != "family_home"])
    plan.fields["out_of_area"] = plan.costs.random() < 0.15
    _place(plan, kind, day, staff)


def _admit(rng: Random, plan: _Plan, day: date, staff: User) -> None:
    from dsr import services
    from dsr.models import RAG, Admission

    hospital, code = rng.choice(HOSPITALS)
    plan.admission = services.admission_record(
        person=plan.person,
        hospital_name=hospital,
        hospital_ods_code=code,
        cqc_rating=rng.choice(
            [Admission.CqcRating.GOOD] * 6
            + [Admission.CqcRating.REQUIRES_IMPROVEMENT] * 3
            + [Admission.CqcRating.OUTSTANDING, Admission.CqcRating.INADEQUATE]
        ),
        admitted_on=day,
        ward_security=rng.choice(list(Admission.WardSecurity)[:3]),
        community_cetr_before_admission=rng.random() < 0.75,
        by=staff,
        **_admission_cost(plan),
    )
    plan.rating = RAG.BLUE
    plan.red_until = None
    plan.discharge_on = day + timedelta(days=rng.randint(14, 200))


def _admission_cost(plan: _Plan) -> dict:
    """A hospital stay's weekly cost, paid by the ICB or NHS England's specialised
    commissioning, where the person's area records costs."""
    weekly_cost, _ = _weekly_cost(plan, 4500, 9500)
    if weekly_cost is None:
        return {}
    funder = "nhs_england" if plan.costs.random() < 0.4 else "icb"
    return {"weekly_cost": weekly_cost, "funder": funder}


def _review(rng: Random, plan: _Plan, day: date, start: date, staff: User) -> None:
    from dsr import services
    from dsr.models import RAG

    if plan.rating == RAG.GREEN and rng.random() < LEAVES_AT_REVIEW:
        services.register_close(
            entry=plan.entry,
            reason=rng.choice(["risk_reduced", "risk_reduced", "moved_area"]),
            note="Agreed at the multi-agency meeting.",
            closed_on=day,
            by=staff,
        )
        plan.closed = True
        return
    if rng.random() < ADMITTED_AT_REVIEW.get(plan.rating, 0):
        _admit(rng, plan, day, staff)
        return
    held_red = plan.red_until is not None and day <= plan.red_until
    rating = RAG.RED if held_red else _pick(rng, NEXT_RATING[plan.rating])
    services.rating_change(
        entry=plan.entry,
        rating=rating,
        rationale=CONFIRMED if rating == plan.rating else rng.choice(RISK_NOTES),
        risk_factors=_factors(rng),
        effective_from=day,
        by=staff,
    )
    plan.rating = rating
    _schedule(rng, plan, day, start)
    if day >= start and plan.costs.random() < MOVES_AT_REVIEW:
        _move(plan, day, staff)


def _day_of(rng: Random, plan: _Plan, day: date, start: date, staff: User) -> None:
    """One person's register work on `day`: a discharge, a review, a consent check."""
    from dsr import services
    from dsr.deadlines import discharge_red_until
    from dsr.models import RAG

    if plan.admission is not None:
        if day >= plan.discharge_on:
            services.admission_discharge(admission=plan.admission, discharged_on=day, by=staff)
            plan.admission = None
            plan.rating = RAG.RED
            plan.red_until = discharge_red_until(day)
            _schedule(rng, plan, day, start)
    elif day >= plan.next_review:
        _review(rng, plan, day, start, staff)
    if plan.closed:
        return
    if day >= plan.consent_due + timedelta(days=plan.consent_late_by) and rng.random() < 0.5:
        _consent(rng, plan, day, staff)


# Other apps add their demo data here from AppConfig.ready (dsr never imports them).
DEMO_SEEDERS: list = []


# Their daily steps, run on each working day of the demo's year (a seeder's `each_day`).
DEMO_DAYS: list = []


def register_demo_seeder(seeder) -> None:
    """Add an app's demo seeder, run after the register; if it has an `each_day` step (a
    callable taking a DemoDay), that runs on each working day of the register's year."""
    if seeder not in DEMO_SEEDERS:
        DEMO_SEEDERS.append(seeder)
    step = getattr(seeder, "each_day", None)
    if step is not None and step not in DEMO_DAYS:
        DEMO_DAYS.append(step)


def _walk(rng: Random, plans: list[_Plan], start: date, today: date, staff: User) -> None:
    """Walk the clock from the first person's joining day to today, working days only."""
    import time_machine  # a development dependency, like the demo itself
    from django.utils import timezone

    now = timezone.now()

    def move(on: date, hour: int, minute: int = 0) -> None:
        # Forward only, and never past the real now: today's work is done by the time the demo
        # is loaded. (Each app's step picks its hours; a later step asking for an earlier hour
        # carries on where the clock is.)
        clock.move_to(max(min(_moment(on, hour, minute), now), timezone.now()))

    day = min(plan.opens_on for plan in plans)
    with time_machine.travel(_moment(day, 9), tick=False) as clock:
        while day <= today:
            if day.weekday() < 5:
                move(day, 9)
                for plan in plans:
                    if plan.closed:
                        continue
                    if plan.person is None:
                        if plan.opens_on == day:
                            _join(rng, plan, day, start, staff)
                        continue
                    _day_of(rng, plan, day, start, staff)
                if day >= start:
                    moment = DemoDay(
                        day=day,
                        today=today,
                        rng=rng,
                        at=lambda hour, minute=0, on=day: move(on, hour, minute),
                    )
                    for step in DEMO_DAYS:
                        step(moment)
            day += timedelta(days=1)


@transaction.atomic
def seed_register(count: int = 320, seed: int = 42) -> int:
    """Create `count` synthetic people on the register and a year of its use (DEBUG only;
    skipped once people exist): see "A year of the register in use" above.

    Every row goes through the services with the clock moved to the day it was done, so
    histories, ratings and constraints are exactly what real use produces. Returns the number of
    people created.
    """
    import random

    from django.utils import timezone

    from dsr.models import Person

    if not settings.DEBUG:
        raise ImproperlyConfigured("Demo data is for development only: DEBUG is off.")
    if Person.objects.exists():
        return 0
    rng = random.Random(seed)  # noqa: S311  (repeatable synthetic data, not security)
    today = timezone.localdate()
    start = today - timedelta(days=YEAR)
    areas = list(LocalAuthority.objects.filter(gss_code__in=[c for _, c in LOCAL_AUTHORITIES]))
    icb = Organisation.objects.get(name=ICB)
    staff = User.objects.get(email="staff@dsr.example")
    plans = []
    for _ in range(count):
        fields = _person_fields(rng, today, areas, icb)
        ago = rng.randint(YEAR + 1, EARLIEST) if rng.random() < ALREADY_ON else rng.randint(3, YEAR)
        plans.append(
            _Plan(
                fields=fields,
                opens_on=_weekday(today - timedelta(days=ago)),
                first_rating=_pick(rng, FIRST_RATING),
                consent_late_by=rng.randint(35, 90) if rng.random() < SLOW_CONSENT else 0,
                costs=random.Random(seed * 1000 + len(plans)),  # noqa: S311  (as above)
            )
        )
    _walk(rng, plans, start, today, staff)
    return count
