"""Demo organisations and accounts, one per role (ACCESS.md). Development only."""

from dataclasses import dataclass

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


def _seed_one(rng, today, fields, staff) -> None:
    from datetime import timedelta

    from dsr import services
    from dsr.deadlines import age_on
    from dsr.models import RAG, Admission, Consent, PersonContact, RiskFactor

    person = services.person_create(by=staff, **fields)
    opened = today - timedelta(days=rng.randint(20, 700))
    age = age_on(person.date_of_birth, opened)
    basis = (
        Consent.Basis.PARENTAL_RESPONSIBILITY
        if age < 16
        else rng.choice([Consent.Basis.OWN_CONSENT] * 3 + [Consent.Basis.BEST_INTERESTS])
    )
    services.consent_record(
        person=person,
        basis=basis,
        given_on=opened,
        decision_maker="Dr R Osei, consultant psychiatrist" if basis == "best_interests" else "",
        capacity_assessed_on=opened if basis == "best_interests" else None,
        by=staff,
    )
    factors = [f.value for f in rng.sample(list(RiskFactor), 2)]
    entry = services.register_open(
        person=person,
        rating=rng.choice([RAG.GREEN, RAG.AMBER, RAG.RED]),
        rationale=rng.choice(RISK_NOTES),
        risk_factors=factors,
        opened_on=opened,
        by=staff,
    )
    when = opened
    for _ in range(rng.randint(0, 4)):
        when = min(today, when + timedelta(days=rng.randint(7, 90)))
        services.rating_change(
            entry=entry,
            rating=rng.choice([RAG.GREEN, RAG.AMBER, RAG.AMBER, RAG.RED]),
            rationale=rng.choice(RISK_NOTES),
            risk_factors=[f.value for f in rng.sample(list(RiskFactor), 2)],
            effective_from=when,
            by=staff,
        )
    entry.refresh_from_db()
    if rng.random() < 0.8:
        # Most people were reviewed recently, within their rating's cadence or just past it.
        cadence = {RAG.RED: 7, RAG.AMBER: 14, RAG.GREEN: 91}[entry.rating]
        reviewed = max(entry.rating_since, today - timedelta(days=rng.randint(0, cadence + 2)))
        services.rating_change(
            entry=entry,
            rating=entry.rating,
            rationale="Reviewed at the multi-agency meeting: rating confirmed.",
            effective_from=reviewed,
            by=staff,
        )
        when = reviewed
    if rng.random() < 0.12:
        hospital, code = rng.choice(HOSPITALS)
        admitted = min(today, when + timedelta(days=rng.randint(1, 60)))
        admission = services.admission_record(
            person=person,
            hospital_name=hospital,
            hospital_ods_code=code,
            cqc_rating=rng.choice(list(Admission.CqcRating)),
            admitted_on=admitted,
            ward_security=rng.choice(list(Admission.WardSecurity)[:3]),
            community_cetr_before_admission=rng.random() < 0.7,
            by=staff,
        )
        if rng.random() < 0.4 and admitted < today:
            services.admission_discharge(
                admission=admission,
                discharged_on=min(today, admitted + timedelta(days=rng.randint(10, 80))),
                by=staff,
            )
    if rng.random() < 0.5:
        PersonContact.objects.create(
            person=person,
            role=PersonContact.Role.KEY_WORKER,
            name=f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}",
            organisation="Key worker service",
        )
    if age < 18:
        PersonContact.objects.create(
            person=person,
            role=PersonContact.Role.PARENT_CARER,
            name=f"{rng.choice(GIVEN_NAMES)} {person.family_name}",
            relationship=rng.choice(["Mother", "Father", "Foster carer", "Grandmother"]),
            has_parental_responsibility=True,
        )
    if rng.random() < 0.05 and entry.rating != RAG.BLUE and admission_free(person):
        services.register_close(entry=entry, reason="risk_reduced", note="", by=staff)


# Other apps add their demo data here from AppConfig.ready (dsr never imports them).
DEMO_SEEDERS: list = []


def register_demo_seeder(seeder) -> None:
    if seeder not in DEMO_SEEDERS:
        DEMO_SEEDERS.append(seeder)


def admission_free(person) -> bool:
    return not person.admissions.filter(discharged_on__isnull=True).exists()


@transaction.atomic
def seed_register(count: int = 320, seed: int = 42) -> int:
    """Create `count` synthetic people on the register (DEBUG only; skipped once people exist).

    Every row goes through the register's services, so histories, ratings and constraints are
    exactly what real use produces. Returns the number of people created.
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
    areas = list(LocalAuthority.objects.filter(gss_code__in=[c for _, c in LOCAL_AUTHORITIES]))
    icb = Organisation.objects.get(name=ICB)
    staff = User.objects.get(email="staff@dsr.example")
    for _ in range(count):
        _seed_one(rng, today, _person_fields(rng, today, areas, icb), staff)
    return count
