"""The areas, organisations and accounts of the benchmark: one account or more per role, all
with the same known password and authenticator key (recorded in bench/accounts.json)."""

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.demo import GIVEN_NAMES
from dsr.models import LocalAuthority, Organisation, User
from dsr.roles import Role

PASSWORD = "bench-register-password"  # noqa: S105  (benchmark accounts on a loopback database)

# 20 bytes, hex: the key of every benchmark account's authenticator (django-otp's TOTP device).
TOTP_KEY = b"dsr-bench-totp-key-1".hex()

AREAS = [
    ("Norfolk", "E10000020", "NR"),
    ("Suffolk", "E10000029", "IP"),
    ("Cambridgeshire", "E10000003", "CB"),
    ("Essex", "E10000012", "CM"),
    ("Hertfordshire", "E10000015", "SG"),
    ("Kent", "E10000016", "ME"),
    ("Lincolnshire", "E10000019", "LN"),
    ("Nottinghamshire", "E10000024", "NG"),
    ("Derbyshire", "E10000007", "DE"),
    ("Devon", "E10000008", "EX"),
    ("Hampshire", "E10000014", "SO"),
    ("Lancashire", "E10000017", "PR"),
    ("Leicestershire", "E10000018", "LE"),
    ("Staffordshire", "E10000028", "ST"),
    ("Surrey", "E10000030", "GU"),
    ("Warwickshire", "E10000031", "CV"),
]

ICB = "NHS Bench Integrated Care Board"

TRUSTS = ["Bench North NHS Foundation Trust", "Bench South NHS Foundation Trust"]

DOMAIN = "bench.example"

# Register staff accounts: the working day under load (bench/day.py) signs in 40 at once. The
# loader spreads the seeded work (referrals assigned, decisions, entries made) over the first
# CASELOAD_STAFF of them only, so the data, and the page table, are the same as with 10 accounts.
STAFF_ACCOUNTS = 40

CASELOAD_STAFF = 10

# Planning commissioners: the working day signs in 2.
COMMISSIONER_ACCOUNTS = 2

PANEL_ACCOUNTS = 5

REFERRER_ACCOUNTS = 10


@dataclass
class Accounts:
    """The accounts the loader made: by role, their emails (the first is the one to sign in as)
    and ids; the local authorities in order, with their senior manager and trust."""

    emails: dict[str, list[str]]
    ids: dict[str, list[int]]
    areas: list[int]
    area_managers: list[int]
    area_health_managers: list[int]
    icb: int


def _plan(
    icb: Organisation, trusts: list[Organisation], councils: list[Organisation]
) -> list[tuple[Role, str, str, Organisation, str]]:
    """Each account to make: its role, email, name, organisation and job title."""
    plan: list[tuple[Role, str, str, Organisation, str]] = []

    def add(role: Role, email: str, name: str, org: Organisation, title: str) -> None:
        plan.append((role, f"{email}@{DOMAIN}", name, org, title))

    for number in range(STAFF_ACCOUNTS):
        suffix = "" if number == 0 else f"{number + 1:02d}"
        add(
            Role.REGISTER_STAFF,
            f"staff{suffix}",
            f"{GIVEN_NAMES[number]} Staff",
            icb,
            "DSR coordinator",
        )
    add(Role.DSR_LEAD, "lead", "Priya Lead", icb, "DSR lead")
    for number, trust in enumerate(trusts):
        suffix = "" if number == 0 else f"{number + 1:02d}"
        add(
            Role.SENIOR_MANAGER_HEALTH,
            f"health.manager{suffix}",
            f"{GIVEN_NAMES[10 + number]} Health",
            trust,
            "Head of learning disability services",
        )
    for number, council in enumerate(councils):
        suffix = "" if number == 0 else f"{number + 1:02d}"
        add(
            Role.SENIOR_MANAGER_LA,
            f"la.manager{suffix}",
            f"{GIVEN_NAMES[15 + number]} Council",
            council,
            "Assistant director, adult social care",
        )
    add(Role.EXECUTIVE_LEAD, "executive", "Grace Executive", icb, "Executive lead")
    for number in range(PANEL_ACCOUNTS):
        suffix = "" if number == 0 else f"{number + 1:02d}"
        add(
            Role.PANEL_MEMBER,
            f"panel{suffix}",
            f"{GIVEN_NAMES[35 + number]} Panel",
            icb,
            "Expert by experience",
        )
    for number in range(REFERRER_ACCOUNTS):
        suffix = "" if number == 0 else f"{number + 1:02d}"
        add(
            Role.PROFESSIONAL_REFERRER,
            f"referrer{suffix}",
            f"{GIVEN_NAMES[40 + number]} Referrer",
            trusts[number % len(trusts)],
            "Community learning disability nurse",
        )
    for number in range(COMMISSIONER_ACCOUNTS):
        suffix = "" if number == 0 else f"{number + 1:02d}"
        add(
            Role.PLANNING_COMMISSIONER,
            f"commissioner{suffix}",
            f"{GIVEN_NAMES[(50 + number) % len(GIVEN_NAMES)]} Commissioner",
            icb,
            "Commissioning manager",
        )
    add(Role.ADMINISTRATOR, "admin", "Chris Administrator", icb, "Service desk")
    return plan


def make_accounts(areas: int) -> Accounts:
    """Local authorities, the ICB, councils and trusts, and the accounts (ORM: a few dozen rows)."""
    now = timezone.now()
    authorities = LocalAuthority.objects.bulk_create(
        [LocalAuthority(name=name, gss_code=code) for name, code, _ in AREAS[:areas]]
    )
    icb = Organisation.objects.create(name=ICB, kind=Organisation.Kind.ICB, ods_code="QBN")
    icb.local_authorities.set(authorities)
    councils = []
    for authority in authorities:
        council = Organisation.objects.create(
            name=f"{authority.name} County Council", kind=Organisation.Kind.LOCAL_AUTHORITY
        )
        council.local_authorities.set([authority])
        councils.append(council)
    half = (len(authorities) + 1) // 2
    trusts = []
    for number, (name, covered) in enumerate(
        zip(TRUSTS, [authorities[:half], authorities[half:]], strict=True)
    ):
        trust = Organisation.objects.create(
            name=name, kind=Organisation.Kind.NHS_TRUST, ods_code=f"RB{number + 1}"
        )
        trust.local_authorities.set(covered)
        trusts.append(trust)

    plan = _plan(icb, trusts, councils)

    # One hash for every account: the password is the same, and hashing it once saves seconds.
    password = make_password(PASSWORD)
    users = User.objects.bulk_create(
        [
            User(
                email=email,
                full_name=name,
                organisation=org,
                job_title=title,
                password=password,
                is_staff=role == Role.ADMINISTRATOR,
                date_joined=now,
            )
            for role, email, name, org, title in plan
        ]
    )
    groups = {group.name: group for group in Group.objects.all()}
    memberships = User.groups.through
    memberships.objects.bulk_create(
        [
            memberships(user_id=user.pk, group_id=groups[role.label].pk)
            for user, (role, *_) in zip(users, plan, strict=True)
        ]
    )
    TOTPDevice.objects.bulk_create(
        [
            TOTPDevice(user=user, name="Authenticator app", key=TOTP_KEY, confirmed=True)
            for user in users
        ]
    )
    emails: dict[str, list[str]] = {}
    ids: dict[str, list[int]] = {}
    for user, (role, *_) in zip(users, plan, strict=True):
        emails.setdefault(role.value, []).append(user.email)
        ids.setdefault(role.value, []).append(user.pk)
    health = ids[Role.SENIOR_MANAGER_HEALTH.value]
    return Accounts(
        emails=emails,
        ids=ids,
        areas=[authority.pk for authority in authorities],
        area_managers=ids[Role.SENIOR_MANAGER_LA.value],
        area_health_managers=[
            health[0] if i < half else health[-1] for i in range(len(authorities))
        ],
        icb=icb.pk,
    )


# --- The loader --------------------------------------------------------------------------------
