"""Personas (one per role of ACCESS.md, plus the awkward ones), signed-in clients and the clock."""

import datetime
import math
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from dsr.roles import Role
from tests import hazards
from tests.dsr.factories import (
    LocalAuthorityFactory,
    OrganisationFactory,
    TOTPDeviceFactory,
    UserFactory,
)
from tests.figures import FIGURES
from tests.identity_provider import (  # noqa: F401  (fixtures: a real OpenID Connect provider)
    identity_provider,
    nhs_identity,
    provider_keys,
    service_server,
    spoiled_id_token,
)

PASSWORD = "correct-horse-battery"

# persona name -> (role, organisation key)
ROLE_PERSONAS: dict[str, tuple[Role, str]] = {
    "register_staff": (Role.REGISTER_STAFF, "icb"),
    "dsr_lead": (Role.DSR_LEAD, "icb"),
    "senior_manager_health": (Role.SENIOR_MANAGER_HEALTH, "trust"),
    "senior_manager_la": (Role.SENIOR_MANAGER_LA, "north_council"),
    "senior_manager_la_other": (Role.SENIOR_MANAGER_LA, "south_council"),
    "executive_lead": (Role.EXECUTIVE_LEAD, "icb"),
    "panel_member": (Role.PANEL_MEMBER, "icb"),
    "professional_referrer": (Role.PROFESSIONAL_REFERRER, "trust"),
    "professional_referrer_other": (Role.PROFESSIONAL_REFERRER, "trust"),
    "planning_commissioner": (Role.PLANNING_COMMISSIONER, "icb"),
    "administrator": (Role.ADMINISTRATOR, "icb"),
}
# Signed in with a password but no verified second factor; signed in through an NHS identity
# provider that did not record a multi-factor authentication (so no second factor yet either);
# and an account switched off.
SPECIAL_PERSONAS = ["anonymous", "password_only", "provider_single_factor", "deactivated"]
ALL_PERSONAS = SPECIAL_PERSONAS + list(ROLE_PERSONAS)


def forget_register_settings(monkeypatch) -> None:
    """No stored settings (dsr.register_settings) kept from earlier: a read reads them afresh."""
    from dsr import register_settings

    monkeypatch.setattr(register_settings._Kept, "values", {})
    monkeypatch.setattr(register_settings._Kept, "until", math.inf)


def count_report_figures_first(monkeypatch, own_cache) -> None:
    """Figures not counted yet are counted when first read, into `own_cache`."""
    from django.utils import timezone

    from reports import counting

    def counted_first(kind, parts, compute, key):
        return (compute(), timezone.now())

    monkeypatch.setattr(counting, "not_counted", counted_first)
    monkeypatch.setattr(counting, "figures_cache", lambda: own_cache)


@pytest.fixture(autouse=True)
def _register_settings_afresh(monkeypatch):
    """Each test starts with no stored settings (dsr.register_settings), as its database does,
    never with what an earlier test in this process saved: a save through the service reads
    them afresh. Without a read at the start, query counts and tests without the database are
    as they were."""
    forget_register_settings(monkeypatch)


@pytest.fixture(autouse=True)
def _report_figures_counted_first(request, monkeypatch):
    """Tests of what the reports show find their figures counted: a family of figures not
    counted yet is counted when first read, as the background count (reports.tasks) would have
    counted it before the reader asked. What a count keeps goes to a cache of the test's own,
    so no test reads figures another counted. The tests of the counting itself ask for
    `nothing_counted`: the service as it runs."""
    from django.core.cache.backends.locmem import LocMemCache

    if "nothing_counted" in request.fixturenames:
        yield
        return

    own = LocMemCache(f"report-figures-{request.node.nodeid}", {})
    count_report_figures_first(monkeypatch, own)
    yield
    own.clear()


@pytest.fixture
def nothing_counted():
    """The service as it runs: a page or feed call reads only what the background count kept
    (reports.counting), never counting (the autouse `_report_figures_counted_first` is off),
    from an empty cache; the cache is emptied again after."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# A module whose tests take the personas as they are marks itself
# `pytest.mark.usefixtures(PERSONAS_BUILT_ONCE)`: its areas, organisations and personas are made
# and signed in once, before its first test, in a transaction rolled back after its last; each
# test runs, as ever, in a transaction of its own inside it, rolled back after it. So every test
# starts from the same rows, with its own copies of the objects and fresh clients holding the
# personas' sessions. (Its tests then see the personas' accounts whether they ask for them or
# not, and must not make them again, as `staff_user` would.)
PERSONAS_BUILT_ONCE = "personas_built_once_per_module"


@pytest.fixture(scope="module")
def personas_built_once_per_module(django_db_setup, django_db_blocker):
    from importlib import import_module

    from django.conf import settings
    from django.core.cache import caches
    from django.db import transaction

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            areas = build_areas()
            organisations = build_organisations(areas)
            personas = build_personas(organisations)
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    sessions = {
        name: client.cookies[settings.SESSION_COOKIE_NAME].value
        for name, client in personas["clients"].items()
        if name != "anonymous"
    }
    # The sessions' copies in the cache as signing in left them (dsr.security.sessions).
    store = import_module(settings.SESSION_ENGINE).SessionStore
    session_cache = caches[settings.SESSION_CACHE_ALIAS]
    cached = {
        store(session_key=key).cache_key: session_cache.get(store(session_key=key).cache_key)
        for key in sessions.values()
    }
    built = {"areas": areas, "organisations": organisations, "users": personas["users"]}
    yield built, sessions, cached
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def _personas_as_built(request, db):
    """This test's own copies of what the module made once (see PERSONAS_BUILT_ONCE), and a
    client per persona holding the persona's session."""
    import copy

    from django.conf import settings
    from django.core.cache import caches

    from dsr.security.signed_in import account_changed

    built, sessions, cached = request.getfixturevalue(PERSONAS_BUILT_ONCE)
    # The cache outlives the rollback: the sessions' copies go back to what signing in left
    # (not what an earlier test made of them), and the accounts' version moves on, as making
    # the accounts moved it, so no copy of an account an earlier test changed is read
    # (dsr.security.sessions, dsr.security.signed_in).
    session_cache = caches[settings.SESSION_CACHE_ALIAS]
    for key, data in cached.items():
        if data is None:
            session_cache.delete(key)
        else:
            session_cache.set(key, data, settings.SESSION_COOKIE_AGE)
    account_changed(None)
    objects = copy.deepcopy(built)
    clients = {"anonymous": Client()}
    for name, key in sessions.items():
        clients[name] = Client()
        clients[name].cookies[settings.SESSION_COOKIE_NAME] = key
    return {**objects, "clients": clients}


@pytest.fixture
def areas(request, db):
    if PERSONAS_BUILT_ONCE in request.fixturenames:
        return request.getfixturevalue("_personas_as_built")["areas"]
    return build_areas()


def build_areas() -> dict:
    north = LocalAuthorityFactory(name="Northshire", gss_code="E10000901")
    south = LocalAuthorityFactory(name="Southshire", gss_code="E10000902")
    return {"north": north, "south": south}


@pytest.fixture
def organisations(request, areas):
    if PERSONAS_BUILT_ONCE in request.fixturenames:
        return request.getfixturevalue("_personas_as_built")["organisations"]
    return build_organisations(areas)


def build_organisations(areas) -> dict:
    both = [areas["north"], areas["south"]]
    return {
        "icb": OrganisationFactory(name="Test ICB", local_authorities=both),
        "trust": OrganisationFactory(
            name="Test NHS Trust", kind="nhs_trust", local_authorities=both
        ),
        "north_council": OrganisationFactory(
            name="Northshire Council", kind="local_authority", local_authorities=[areas["north"]]
        ),
        "south_council": OrganisationFactory(
            name="Southshire Council", kind="local_authority", local_authorities=[areas["south"]]
        ),
    }


def make_persona(name: str, organisations) -> "UserFactory":
    if name in ROLE_PERSONAS:
        role, org = ROLE_PERSONAS[name]
        user = UserFactory(
            email=f"{name}@nhs.example",
            full_name=name.replace("_", " ").title(),
            organisation=organisations[org],
            roles=[role],
            is_staff=role == Role.ADMINISTRATOR,
        )
    elif name == "password_only":
        user = UserFactory(
            email="password_only@nhs.example",
            organisation=organisations["icb"],
            roles=[Role.REGISTER_STAFF],
        )
    elif name == "provider_single_factor":
        user = UserFactory(
            email="provider_single_factor@nhs.example",
            organisation=organisations["icb"],
            roles=[Role.REGISTER_STAFF],
        )
    elif name == "deactivated":
        user = UserFactory(
            email="deactivated@nhs.example",
            organisation=organisations["icb"],
            roles=[Role.REGISTER_STAFF],
            is_active=False,
        )
    else:
        raise ValueError(name)
    TOTPDeviceFactory(user=user)
    return user


def signed_in_client(user, *, verified: bool = True) -> Client:
    """A client signed in as `user`, with the second factor verified unless told otherwise."""
    client = Client()
    client.force_login(user)
    if verified:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = user.totpdevice_set.get().persistent_id
        session.save()
    return client


def provider_signed_in_client(user, *, provider: str = "cis2", multi_factor: bool) -> Client:
    """A client signed in as `user` through an NHS identity provider, as the provider's return
    leaves a session (dsr.views.identity.provider_return): the identity linked, the session
    noted under the provider's session, verified by the identity only when the provider recorded
    a multi-factor authentication."""
    from dsr.accounts.identity_providers import SESSION_KEY
    from dsr.models import ProviderIdentity, ProviderSession

    identity = ProviderIdentity.objects.create(
        user=user, provider=provider, subject=f"subject-{user.pk}", name=provider
    )
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = {"provider": provider, "sub": identity.subject, "sid": "sid-1"}
    if multi_factor:
        session[DEVICE_ID_SESSION_KEY] = identity.persistent_id
    session.save()
    ProviderSession.objects.create(
        session_id=session.session_key, provider=provider, subject=identity.subject, sid="sid-1"
    )
    return client


@pytest.fixture
def personas(request, organisations):
    """Every persona's user (None for anonymous) and client."""
    if PERSONAS_BUILT_ONCE in request.fixturenames:
        built = request.getfixturevalue("_personas_as_built")
        return {"users": built["users"], "clients": built["clients"]}
    return build_personas(organisations)


def build_personas(organisations) -> dict:
    users = {"anonymous": None}
    clients = {"anonymous": Client()}
    for name in ALL_PERSONAS[1:]:
        users[name] = make_persona(name, organisations)
        verified = name in ROLE_PERSONAS
        if name == "deactivated":
            # Signed in while active, then switched off: the live session must stop working.
            users[name].is_active = True
            users[name].save()
            clients[name] = signed_in_client(users[name])
            users[name].is_active = False
            users[name].save()
        elif name == "provider_single_factor":
            clients[name] = provider_signed_in_client(users[name], multi_factor=False)
        else:
            clients[name] = signed_in_client(users[name], verified=verified)
    return {"users": users, "clients": clients}


# A family name planted on the people of the route matrix: it must never appear in a refusal.
SENTINEL = "Zyxwvutsentinel"


@pytest.fixture
def register_objects(organisations, areas):
    """People in each area and state, put on the register through the real services."""
    return build_register_objects(organisations, areas)


def build_register_objects(organisations, areas) -> dict:
    from dsr.models import Admission, PersonContact
    from dsr.services import admission_record, placement_record
    from tests.dsr.factories import PersonFactory, on_register

    clerk = UserFactory(organisation=organisations["icb"])
    icb = organisations["icb"]

    def person(area, rating, name):
        someone = PersonFactory(
            local_authority=area, responsible_icb=icb, family_name=f"{SENTINEL}{name}"
        )
        on_register(someone, rating=rating, by=clerk, opened_on=datetime.date(2026, 1, 5))
        return someone

    north_red = person(areas["north"], "RED", "Red")
    north_blue = person(areas["north"], "AMBER", "Blue")
    admission_record(
        person=north_blue,
        hospital_name="Hospital",
        hospital_ods_code="RMY01",
        cqc_rating=Admission.CqcRating.GOOD,
        admitted_on=datetime.date(2026, 1, 6),
        ward_security=Admission.WardSecurity.GENERAL,
        community_cetr_before_admission=True,
        by=clerk,
    )
    from tests.referrals.factories import ReferralAttachmentFactory, ReferralFactory

    referral = ReferralFactory(
        local_authority=areas["north"], family_name=f"{SENTINEL}Referral", contact=False
    )
    from dsr.models import Notification

    notification = Notification.objects.create(
        subject_type="referrals.referral",
        subject_id=referral.pk,
        local_authority=areas["north"],
        kind="referral_outcome",
        recipient_key="person",
        recipient_name=f"{SENTINEL} Letter",
        channel="letter",
        postal_address="1 High Street",
        status="letter_ready",
        context={"reference": referral.reference, "outcome": "withdrawn"},
    )
    return {
        "notification": notification,
        "referral": referral,
        "referral_contact": referral.contacts.create(
            role="person", name=f"{SENTINEL} Contact", email="contact@example.org"
        ),
        "attachment": ReferralAttachmentFactory(referral=referral),
        "north_red": north_red,
        "north_blue": north_blue,
        "south_green": person(areas["south"], "GREEN", "Green"),
        "north_contact": PersonContact.objects.create(
            person=north_red, role="key_worker", name="Kim Keyworker"
        ),
        "north_placement": placement_record(
            person=north_red,
            placement_type="supported_living",
            started_on=datetime.date(2026, 1, 5),
            weekly_cost=Decimal("1800.00"),
            funder="joint",
            by=clerk,
        ),
    }


@pytest.fixture(scope="session")
def route_sweep(django_db_setup, django_db_blocker):
    """Every route of the route matrix asked once as every persona, with what the matrix and
    the security tests check about each answer (tests/security/sweep.py). Its people and
    objects are made afresh and rolled back before the first test that asks for it runs, with
    the settings and patches each test runs with."""
    from django.core.cache import cache
    from django.core.cache.backends.locmem import LocMemCache
    from django.test import override_settings

    from tests.security.sweep import run_sweep
    from tests.test_route_matrix import NOTIFY_TOKEN

    own = LocMemCache("report-figures-route-sweep", {})
    cache.clear()
    with (
        django_db_blocker.unblock(),
        pytest.MonkeyPatch.context() as patch,
        override_settings(NOTIFY_CALLBACK_TOKEN=NOTIFY_TOKEN),
    ):
        forget_register_settings(patch)
        count_report_figures_first(patch, own)
        sweep = run_sweep()
    own.clear()
    cache.clear()
    return sweep


@pytest.fixture
def staff_user(request, organisations):
    if PERSONAS_BUILT_ONCE in request.fixturenames:
        # The same account as make_persona makes, made once for the module.
        return request.getfixturevalue("personas")["users"]["register_staff"]
    return make_persona("register_staff", organisations)


@pytest.fixture
def staff_client(request, staff_user):
    if PERSONAS_BUILT_ONCE in request.fixturenames:
        return request.getfixturevalue("personas")["clients"]["register_staff"]
    return signed_in_client(staff_user)


@pytest.fixture
def frozen_now():
    """Pin the clock (time-machine, no ticking); yields the traveller to move it."""
    with time_machine.travel("2026-03-10 09:30:00+00:00", tick=False) as traveller:
        yield traveller


COLLECTED: set[str] = set()


def pytest_collection_finish(session):
    COLLECTED.update(item.nodeid.split("[")[0] for item in session.items)


def pytest_runtest_logreport(report):
    hazards.note_outcome(report)


def pytest_sessionfinish(session, exitstatus):
    """I-1: how many hazards had every test their controls name pass. A run that collected all
    of them (a full run) fails if any of them did not pass, skipped included."""
    named = {test for hazard in hazards.hazards() for test in hazards.named_tests(hazard)}
    verified, unverified, not_run = hazards.verification()
    if named & COLLECTED:
        FIGURES["I-1 hazards with passing tests"] = (
            f"{len(verified)} of {len(verified) + len(unverified)}"
            + (f" ({len(not_run)} named tests not in this run)" if not_run else "")
        )
    if named <= COLLECTED and unverified and session.exitstatus == 0:
        FIGURES["I-1 hazards NOT verified"] = ", ".join(unverified)
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if FIGURES:
        terminalreporter.section("figures")
        for name, value in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{name}: {value}")


# --- People and accounts for the review tests, made through the real services ---------------


def account(organisation, role, **fields):
    """A user holding `role`, with an authenticator app (so a test client can sign in)."""
    user = UserFactory(organisation=organisation, roles=[role], **fields)
    TOTPDeviceFactory(user=user)
    return user


@pytest.fixture
def clerk(organisations):
    return account(organisations["icb"], Role.REGISTER_STAFF)


@pytest.fixture
def make_person(organisations, areas, clerk):
    """make_person("RED", area="north", opened_on=..., **person fields) -> a person on the
    register (a 30-year-old adult unless date_of_birth says otherwise)."""
    from tests.dsr.factories import PersonFactory, on_register

    def make(rating="GREEN", *, area="north", opened_on=datetime.date(2026, 1, 5), **fields):
        person = PersonFactory(
            local_authority=areas[area], responsible_icb=organisations["icb"], **fields
        )
        on_register(person, rating=rating, by=clerk, opened_on=opened_on)
        return person

    return make


@pytest.fixture
def admit(clerk):
    from dsr.models import Admission
    from dsr.services import admission_record

    def admit(person, on, *, community_cetr=False, secure=False):
        return admission_record(
            person=person,
            hospital_name="Riverside Hospital",
            hospital_ods_code="RMY01",
            cqc_rating=Admission.CqcRating.GOOD,
            admitted_on=on,
            ward_security=Admission.WardSecurity.MEDIUM
            if secure
            else Admission.WardSecurity.GENERAL,
            community_cetr_before_admission=community_cetr,
            by=clerk,
        )

    return admit


@pytest.fixture
def matrix_objects(personas, register_objects):
    """The register's objects, and a meeting, an action, a C(E)TR and a C(E)TR request about
    the Red person in Northshire, made through the services."""
    return build_matrix_objects(personas, register_objects)


def build_matrix_objects(personas, register_objects) -> dict:
    import datetime
    import uuid

    from django.utils import timezone

    from dsr.models import ProviderIdentity, User
    from reviews import services
    from reviews.models import Agency, Cetr, PanelMember

    users = {u.email.split("@")[0]: u for u in User.objects.all()}
    clerk = users["register_staff"]
    person = register_objects["north_red"]
    meeting = services.meeting_create(
        kind="dsr_review", held_at=timezone.now(), chair=clerk, by=clerk
    )
    item = meeting.items.get(person=person)
    action = services.action_create(
        person=person,
        agenda_item=item,
        description="Arrange respite.",
        owner=services.Owner(user=users["senior_manager_health"]),
        agency=Agency.SOCIAL_CARE,
        due_on=timezone.localdate(),
        by=clerk,
    )
    cetr = services.cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    seat = services.panel_member_save(
        member=PanelMember(
            cetr=cetr, role="expert_by_experience", name="Panel", user=users["panel_member"]
        ),
        by=clerk,
    )
    services.cetr_consent_record(
        cetr=cetr,
        basis="own_consent",
        evidence="Signed form.",
        recorded_on=timezone.localdate(),
        by=clerk,
    )
    from dsr.services import person_update

    blue = register_objects["north_blue"]
    person_update(person=blue, by=clerk, out_of_area=True)
    visit = services.visit_record(
        person=blue,
        visited_on=timezone.localdate(),
        visited_by="Case manager",
        findings="Settled.",
        concerns=False,
        by=clerk,
    )
    from escalation.services import escalation_raise

    escalation, _ = escalation_raise(
        reason="red_rating",
        trigger_type="dsr.rating",
        trigger_id=person.register_entries.get().ratings.get().pk,
        person=person,
        level=2,
    )
    request = services.cetr_request_submit(
        fields={
            "relationship": "family",
            "requester_name": f"{SENTINEL} Requester",
            "requester_email": "family@example.org",
            "contact_by": "email",
            "given_name": "Ellis",
            "family_name": f"{SENTINEL}Request",
            "date_of_birth": datetime.date(2010, 1, 1),
            "local_authority": person.local_authority,
            "in_hospital": "no",
            "reason": "Harder at home.",
            "person_knows": True,
        },
        channel="online",
        submission_token=uuid.uuid4(),
    )
    from dsr.accounts import invitation_create

    invitation = invitation_create(
        email="invitee@trust.example",
        full_name="Ina Invitee",
        organisation=users["professional_referrer"].organisation,
        roles=["professional_referrer"],
        by=users["administrator"],
    )
    from reports.api.tokens import token_issue

    api_token, api_secret = token_issue(
        name="Route matrix BI tool",
        organisation=users["planning_commissioner"].organisation,
        days=90,
        by=users["administrator"],
    )
    partner_action = services.action_create(
        person=person,
        agenda_item=item,
        description="Confirm school transport.",
        owner=services.Owner(name="Jo Patel", organisation="Short breaks"),
        agency=Agency.EDUCATION,
        due_on=timezone.localdate(),
        by=clerk,
    )
    from reviews.services.links import action_link_send

    partner_link = action_link_send(
        action=partner_action,
        summary="Confirm the school transport.",
        email="jo@example.org",
        by=clerk,
    )
    from dsr.models import RegisterImport

    register_import = RegisterImport.objects.create(
        uploaded_by=users["dsr_lead"],
        file_name=f"{SENTINEL}.csv",
        checksum="0" * 64,
        file_kind="csv",
        sheet_name="CSV",
        headers=["NHS Number", "Forename"],
        sheets=[{"name": "CSV", "score": 2, "header_index": 0, "data_rows": 0}],
        status=RegisterImport.Status.CHECKED,
    )
    return {
        **register_objects,
        "register_import": register_import,
        "invitation": invitation,
        "api_token": api_token,
        "api_secret": api_secret,
        "partner_action": partner_action,
        "partner_link": partner_link,
        "meeting": meeting,
        "attendee": meeting.attendees.create(name="Ann", agency=Agency.HEALTH),
        "item": item,
        "action": action,
        "cetr": cetr,
        "seat": seat,
        "cetr_request": request,
        "visit": visit,
        "escalation": escalation,
        # The provider-signed-in persona's link to its NHS identity (the admin's removal page).
        "provider_identity": ProviderIdentity.objects.get(
            user=personas["users"]["provider_single_factor"]
        ),
    }
