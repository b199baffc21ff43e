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
    return ACCOUNTS
