"""The route matrix (RELIABILITY.md A-1, A-2): every named route, as every persona.

A-1: every named route must have a row here, or the test fails. A-2: each row is requested as
every persona (each role of ACCESS.md, anonymous, a password-only session and a deactivated
account) and the answer must be the one the row expects. Later issues add their rows.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dsr.accounts import invitation_token
from reviews.services.links import action_link_token
from tests.conftest import ALL_PERSONAS, ROLE_PERSONAS
from tests.figures import record

SIGN_IN = "sign-in"  # redirect to the sign-in page
VERIFY = "verify"  # redirect to the second-factor page
ELSEWHERE = "redirect"  # any other redirect


@dataclass(frozen=True)
class Row:
    """One route: how to request it and what each persona must get.

    `kwargs` is either the URL's arguments, or a function of the seeded objects returning them;
    `request` is what else the request carries (a body, headers), for a route called by a
    machine rather than a browser.
    """

    expect: dict[str, int | str]
    kwargs: dict[str, str] | Callable[[dict], dict] = field(default_factory=dict)
    method: str = "get"
    request: dict = field(default_factory=dict)

    def url(self, name: str, objects: dict) -> str:
        kwargs = self.kwargs(objects) if callable(self.kwargs) else self.kwargs
        return reverse(name, kwargs=kwargs)


def _everyone(answer: int | str) -> dict[str, int | str]:
    return dict.fromkeys(ALL_PERSONAS, answer)


def _closed(verified: dict[str, int | str]) -> dict[str, int | str]:
    """A page behind sign-in and second factor; `verified` gives each role's answer."""
    return {
        "anonymous": SIGN_IN,
        "deactivated": SIGN_IN,
        "password_only": VERIFY,
        "provider_single_factor": VERIFY,
        **verified,
    }


def _roles(allowed: set[str], *, yes: int | str = 200, no: int | str = 403) -> dict:
    return {name: (yes if name in allowed else no) for name in ROLE_PERSONAS}


def _password_step(
    password_only: int | str, verified: int | str, *, anonymous: int | str = SIGN_IN
) -> dict[str, int | str]:
    return {
        "anonymous": anonymous,
        "deactivated": anonymous,
        "password_only": password_only,
        "provider_single_factor": password_only,
        **dict.fromkeys(ROLE_PERSONAS, verified),
    }


PUBLIC = _everyone(200)
ALL_ROLES = set(ROLE_PERSONAS)
ADMINISTRATORS = {"administrator"}
REGISTER_TEAM = {"register_staff", "dsr_lead"}
SENIOR_MANAGERS = {"senior_manager_health", "senior_manager_la", "senior_manager_la_other"}
REGISTER_ONLY = _closed(_roles(REGISTER_TEAM))
ADMINISTRATORS_ONLY = _closed(_roles(ADMINISTRATORS))


LEAD_ONLY = _closed(_roles({"dsr_lead"}))


def _register_import(objects: dict) -> dict:
    return {"pk": objects["register_import"].pk}


def _person(key: str) -> Callable[[dict], dict]:
    return lambda objects: {"pk": objects[key].pk}


def _contact(objects: dict) -> dict:
    return {"pk": objects["north_red"].pk, "contact_pk": objects["north_contact"].pk}


def _placement(objects: dict) -> dict:
    return {"pk": objects["north_red"].pk, "placement_pk": objects["north_placement"].pk}


def _referral(objects: dict) -> dict:
    return {"pk": objects["referral"].pk}


REFERRERS = {"professional_referrer", "professional_referrer_other"}


def _meeting(objects: dict) -> dict:
    return {"pk": objects["meeting"].pk}


def _item(objects: dict) -> dict:
    return {"pk": objects["meeting"].pk, "item_pk": objects["item"].pk}


def _action(objects: dict) -> dict:
    return {"pk": objects["action"].pk}


def _cetr(objects: dict) -> dict:
    return {"pk": objects["cetr"].pk}


def _seat(objects: dict) -> dict:
    return {"pk": objects["cetr"].pk, "member_pk": objects["seat"].pk}


# A Red person in Northshire: the register team and the senior managers covering Northshire see
# them; the Southshire manager gets 404 (out of scope); roles that never see people get 403.
RED_IN_NORTH = _closed(
    {
        **_roles(REGISTER_TEAM | SENIOR_MANAGERS),
        "senior_manager_la_other": 404,
        # The executive lead reads only the people behind top-level escalations.
        "executive_lead": 404,
    }
)


def _escalation(objects: dict) -> dict:
    return {"pk": objects["escalation"].pk}


ESCALATION_READERS = _closed(
    {
        **_roles(REGISTER_TEAM | SENIOR_MANAGERS | {"executive_lead"}),
        "senior_manager_la_other": 404,
        "executive_lead": 404,
    }
)
# Level 2: its owners act. Roles that act on escalations but not on this one (the DSR lead owns
# level 1, the executive lead level 3, the other council's manager another area) get 404, as for
# a missing id; roles that never act on escalations, 403.
ESCALATION_ACTORS = _closed(
    {
        **_roles(SENIOR_MANAGERS | {"executive_lead"}),
        "senior_manager_la_other": 404,
        "executive_lead": 404,
        "dsr_lead": 404,
    }
)

# GOV.UK Notify's bearer token, set for the matrix's request to the delivery receipt callback.
NOTIFY_TOKEN = "route-matrix-notify-token"  # noqa: S105
# A receipt about no message we hold: answered 204 (so Notify does not send it again).
NOTIFY_RECEIPT = {
    "data": '{"id": "not-ours", "reference": "", "status": "delivered"}',
    "content_type": "application/json",
    "headers": {"Authorization": f"Bearer {NOTIFY_TOKEN}"},
}

# The read feed for BI tools: a machine's call with a token and no session. Only the persona
# holding a token ("api_client", added by the matrix test) is answered; a signed-in browser
# session is no key to it (401 for everyone else, never a redirect to sign in).
API_FEED = {**_everyone(401), "api_client": 200}

MATRIX: dict[str, Row] = {
    # Public pages.
    "pages:start": Row(PUBLIC),
    "pages:privacy": Row(PUBLIC),
    "pages:accessibility": Row(PUBLIC),
    "pages:cookies": Row(PUBLIC),
    "pages:deciding": Row(PUBLIC),
    "pages:deciding-easy-read": Row(PUBLIC),
    "pages:next-easy-read": Row(PUBLIC),
    "health": Row(PUBLIC),
    # Public too; 503 here because no worker or scheduler runs beside this test.
    "health-background": Row(_everyone(503)),
    # Signing in.
    "accounts:sign-in": Row(PUBLIC),
    "accounts:password-reset": Row(PUBLIC),
    "accounts:password-reset-sent": Row(PUBLIC),
    "accounts:password-reset-confirm": Row(PUBLIC, kwargs={"uidb64": "MQ", "token": "set-pw"}),
    "accounts:password-reset-complete": Row(PUBLIC),
    # Part-way through signing in: every persona here already has an authenticator app, so the
    # set-up pages send them on, and a verified user has nothing left to verify.
    "accounts:verify": Row(_password_step(200, ELSEWHERE)),
    "accounts:setup": Row(_password_step(VERIFY, VERIFY)),
    "accounts:setup-qr": Row(_password_step(404, 404)),
    "accounts:sign-out": Row(_password_step(405, 405)),
    # An invitation's link is public (the token is the key); "stay signed in" extends any
    # signed-in session, the set-up pages' included, and answers 204.
    "accounts:invitation-accept": Row(
        PUBLIC, kwargs=lambda o: {"token": invitation_token(o["invitation"])}
    ),
    "accounts:session-extend": Row(_password_step(204, 204), method="post"),
    # Signing in through an NHS identity provider (dsr.views.identity), as every persona: the
    # start sends anyone to the provider (here 503: the test settings' provider does not
    # answer); a return without a state this session kept, and a back-channel call without a
    # logout token, are refused alike; our public keys are public.
    "accounts:provider-start": Row(_everyone(503), kwargs={"provider": "cis2"}),
    "accounts:provider-return": Row(_everyone(400), kwargs={"provider": "cis2"}),
    "accounts:back-channel-logout": Row(_everyone(400), kwargs={"provider": "cis2"}, method="post"),
    "accounts:jwks": Row(PUBLIC),
    # Signed in.
    "dsr:home": Row(_closed(_roles(ALL_ROLES))),
    # The register.
    "dsr:register-dashboard": Row(REGISTER_ONLY),
    "dsr:register-list": Row(REGISTER_ONLY),
    "dsr:register-search": Row(REGISTER_ONLY),
    "dsr:register-export": Row(REGISTER_ONLY),
    "dsr:person-create": Row(REGISTER_ONLY),
    "dsr:person-detail": Row(RED_IN_NORTH, kwargs=_person("north_red")),
    # What happened before, one click from the person page: the timeline as the person page's
    # readers; every placement for the register team (who see the page's placements section).
    "dsr:person-history": Row(RED_IN_NORTH, kwargs=_person("north_red")),
    "dsr:person-placements": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    "dsr:person-edit": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    "dsr:person-register": Row(REGISTER_ONLY, kwargs=_person("south_green")),
    "dsr:person-rating": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    "dsr:person-consent": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    "dsr:person-consent-withdraw": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    "dsr:person-admission": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    "dsr:person-placement": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    "dsr:person-placement-end": Row(REGISTER_ONLY, kwargs=_placement),
    "dsr:person-discharge": Row(REGISTER_ONLY, kwargs=_person("north_blue")),
    "dsr:person-rca": Row(REGISTER_ONLY, kwargs=_person("north_blue")),
    "dsr:person-contact-add": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    "dsr:person-contact-edit": Row(REGISTER_ONLY, kwargs=_contact),
    "dsr:person-contact-remove": Row(REGISTER_ONLY, kwargs=_contact),
    "dsr:person-close": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    "dsr:person-cetr-exception": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    "dsr:person-keyworker-referral": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    # Records: the subject access export (its GET asks why; the download is a POST) for the
    # register team; the retention runs for administrators and the DSR lead.
    "dsr:person-export": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    "dsr:retention-runs": Row(_closed(_roles({"dsr_lead", "administrator"}))),
    # The DSR lead's settings page, and what people are told: the DSR team's contact details,
    # kept by the DSR lead.
    "dsr:settings": Row(_closed(_roles({"dsr_lead"}))),
    "dsr:team-contact": Row(_closed(_roles({"dsr_lead"}))),
    # Importing a register from a spreadsheet: the DSR lead only (ACCESS.md).
    "dsr:import-list": Row(LEAD_ONLY),
    "dsr:import-upload": Row(LEAD_ONLY),
    "dsr:import-detail": Row(LEAD_ONLY, kwargs=_register_import),
    "dsr:import-columns": Row(LEAD_ONLY, kwargs=_register_import),
    "dsr:import-values": Row(LEAD_ONLY, kwargs=_register_import),
    "dsr:import-check": Row(LEAD_ONLY, kwargs=_register_import),
    "dsr:import-report": Row(LEAD_ONLY, kwargs=_register_import),
    "dsr:import-start": Row({**LEAD_ONLY, "dsr_lead": 405}, kwargs=_register_import),
    "dsr:import-progress": Row(LEAD_ONLY, kwargs=_register_import),
    "dsr:import-undo": Row(LEAD_ONLY, kwargs=_register_import),
    # The outbox.
    # Accounts: administrators only (ACCESS.md), the DSR lead included in the refusals.
    "dsr:invitation-list": Row(ADMINISTRATORS_ONLY),
    "dsr:invitation-create": Row(ADMINISTRATORS_ONLY),
    "dsr:invitation-resend": Row(
        {**ADMINISTRATORS_ONLY, "administrator": 405}, kwargs=lambda o: {"pk": o["invitation"].pk}
    ),
    "dsr:invitation-revoke": Row(ADMINISTRATORS_ONLY, kwargs=lambda o: {"pk": o["invitation"].pk}),
    "dsr:account-review": Row(ADMINISTRATORS_ONLY),
    "dsr:account-review-csv": Row(ADMINISTRATORS_ONLY),
    "dsr:outbox": Row(REGISTER_ONLY),
    "dsr:service-status": Row(_closed(_roles(REGISTER_TEAM | ADMINISTRATORS))),
    "dsr:outbox-resend": Row(
        {**REGISTER_ONLY, "register_staff": 405, "dsr_lead": 405},
        kwargs=lambda o: {"pk": o["notification"].pk},
    ),
    "dsr:outbox-posted": Row(
        {**REGISTER_ONLY, "register_staff": 405, "dsr_lead": 405},
        kwargs=lambda o: {"pk": o["notification"].pk},
    ),
    "dsr:outbox-letter": Row(REGISTER_ONLY, kwargs=lambda o: {"pk": o["notification"].pk}),
    "dsr:outbox-dealt-with": Row(REGISTER_ONLY, kwargs=lambda o: {"pk": o["notification"].pk}),
    # GOV.UK Notify's delivery receipts: public and POST only, a machine's call with no session;
    # the bearer token is its key (without it, 401: tests/dsr/test_notify_receipts.py).
    "dsr:notify-receipts": Row(_everyone(204), method="post", request=NOTIFY_RECEIPT),
    # The read feed for BI tools (reports.api) and its tokens, issued by administrators.
    "reports:api-register": Row(API_FEED),
    "reports:api-flows": Row(API_FEED),
    "reports:api-needs": Row(API_FEED),
    "reports:api-planning": Row(API_FEED),
    "reports:api-areas": Row(API_FEED),
    "reports:api-schema": Row(API_FEED),
    "reports:api-tokens": Row(ADMINISTRATORS_ONLY),
    "reports:api-token-create": Row(ADMINISTRATORS_ONLY),
    "reports:api-token-withdraw": Row(
        ADMINISTRATORS_ONLY, kwargs=lambda o: {"pk": o["api_token"].pk}
    ),
    # Referrals: the public side, for anyone. The check page needs answers first.
    "referrals:start": Row(PUBLIC),
    "referrals:who": Row(PUBLIC),
    "referrals:printable": Row(PUBLIC),
    "referrals:step": Row(PUBLIC, kwargs={"kind": "self", "step": "about-you"}),
    "referrals:check": Row(_everyone(ELSEWHERE)),
    "referrals:confirmation": Row(PUBLIC),
    "referrals:easy-read-start": Row(PUBLIC),
    "referrals:easy-read-step": Row(PUBLIC, kwargs={"step": "name"}),
    "referrals:easy-read-check": Row(_everyone(ELSEWHERE)),
    "referrals:easy-read-confirmation": Row(PUBLIC),
    # Referrals: the staff side.
    "referrals:queue": Row(REGISTER_ONLY),
    "referrals:create": Row(REGISTER_ONLY),
    "referrals:mine": Row(_closed(_roles(REFERRERS))),
    "referrals:detail": Row(REGISTER_ONLY, kwargs=_referral),
    "referrals:start-review": Row(REGISTER_ONLY, kwargs=_referral),
    "referrals:request-info": Row(REGISTER_ONLY, kwargs=_referral),
    "referrals:review": Row(REGISTER_ONLY, kwargs=_referral),
    "referrals:assign": Row(REGISTER_ONLY, kwargs=_referral),
    "referrals:decide": Row(REGISTER_ONLY, kwargs=_referral),
    "referrals:area": Row(REGISTER_ONLY, kwargs=_referral),
    "referrals:recipient-add": Row(REGISTER_ONLY, kwargs=_referral),
    "referrals:recipient-change": Row(
        REGISTER_ONLY,
        kwargs=lambda o: {"pk": o["referral"].pk, "contact_pk": o["referral_contact"].pk},
    ),
    "referrals:attachment": Row(
        REGISTER_ONLY,
        kwargs=lambda o: {"pk": o["referral"].pk, "attachment_pk": o["attachment"].pk},
    ),
    # Meetings: the register team only (a meeting lists many people).
    "reviews:meeting-list": Row(REGISTER_ONLY),
    "reviews:meeting-create": Row(REGISTER_ONLY),
    "reviews:meeting-detail": Row(REGISTER_ONLY, kwargs=_meeting),
    "reviews:meeting-edit": Row(REGISTER_ONLY, kwargs=_meeting),
    "reviews:meeting-refresh": Row(
        {**REGISTER_ONLY, "register_staff": 405, "dsr_lead": 405}, kwargs=_meeting
    ),
    "reviews:meeting-slots": Row(REGISTER_ONLY, kwargs=_meeting),
    "reviews:attendee-add": Row(REGISTER_ONLY, kwargs=_meeting),
    "reviews:attendees-from-last": Row(REGISTER_ONLY, kwargs=_meeting),
    "reviews:attendee-edit": Row(
        REGISTER_ONLY, kwargs=lambda o: {"pk": o["meeting"].pk, "attendee_pk": o["attendee"].pk}
    ),
    "reviews:item-discuss": Row(REGISTER_ONLY, kwargs=_item),
    "reviews:item-remove": Row(REGISTER_ONLY, kwargs=_item),
    "reviews:item-action-add": Row(REGISTER_ONLY, kwargs=_item),
    "reviews:meeting-held": Row(REGISTER_ONLY, kwargs=_meeting),
    "reviews:meeting-cancel": Row(REGISTER_ONLY, kwargs=_meeting),
    "reviews:meeting-minutes": Row(REGISTER_ONLY, kwargs=_meeting),
    "reviews:person-agenda-add": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    # Actions: anyone who may own one sees their own; the health manager owns this one, so may
    # close it; the Northshire manager may see the person but does not own it, and the
    # Southshire manager may not see the person: both 404, as for a missing action.
    "reviews:my-actions": Row(_closed(_roles(REGISTER_TEAM | SENIOR_MANAGERS))),
    # Every action about one person: as the person page, where the first few are listed.
    "reviews:person-actions": Row(RED_IN_NORTH, kwargs=_person("north_red")),
    "reviews:action-update": Row(REGISTER_ONLY, kwargs=_action),
    "reviews:action-close": Row(
        _closed(
            {
                **_roles(REGISTER_TEAM | {"senior_manager_health"}),
                "senior_manager_la": 404,
                "senior_manager_la_other": 404,
            }
        ),
        kwargs=_action,
    ),
    "reviews:action-reopen": Row(REGISTER_ONLY, kwargs=_action),
    # A partner who owns an action without an account: the register team sends and withdraws
    # the link; the link's page is public (the token is the key, for that action only).
    "reviews:action-link-send": Row(REGISTER_ONLY, kwargs=lambda o: {"pk": o["partner_action"].pk}),
    "reviews:action-link-withdraw": Row(
        REGISTER_ONLY, kwargs=lambda o: {"pk": o["partner_action"].pk}
    ),
    "reviews:action-link": Row(
        PUBLIC,
        kwargs=lambda o: {"token": action_link_token(o["partner_link"])},
    ),
    # C(E)TRs: the register team; a panel member reads the pack of the C(E)TR they sit on (it
    # has consent evidence) and records findings on it.
    "reviews:cetr-list": Row(REGISTER_ONLY),
    "reviews:cetr-create": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    "reviews:cetr-detail": Row(REGISTER_ONLY, kwargs=_cetr),
    "reviews:cetr-arrange": Row(REGISTER_ONLY, kwargs=_cetr),
    "reviews:cetr-consent": Row(REGISTER_ONLY, kwargs=_cetr),
    "reviews:cetr-consent-withdraw": Row(REGISTER_ONLY, kwargs=_cetr),
    "reviews:panel-add": Row(REGISTER_ONLY, kwargs=_cetr),
    "reviews:panel-edit": Row(REGISTER_ONLY, kwargs=_seat),
    "reviews:panel-remove": Row(REGISTER_ONLY, kwargs=_seat),
    "reviews:cetr-findings": Row(_closed(_roles(REGISTER_TEAM | {"panel_member"})), kwargs=_cetr),
    "reviews:cetr-recommendation-add": Row(
        _closed(_roles(REGISTER_TEAM | {"panel_member"})), kwargs=_cetr
    ),
    "reviews:cetr-complete": Row(REGISTER_ONLY, kwargs=_cetr),
    "reviews:cetr-report-sent": Row(REGISTER_ONLY, kwargs=_cetr),
    "reviews:cetr-cancel": Row(REGISTER_ONLY, kwargs=_cetr),
    "reviews:cetr-pack": Row(_closed(_roles({"panel_member"})), kwargs=_cetr),
    "reviews:my-panels": Row(_closed(_roles({"panel_member"}))),
    "reviews:visit-add": Row(REGISTER_ONLY, kwargs=_person("north_blue")),
    "reviews:visit-action-add": Row(
        REGISTER_ONLY, kwargs=lambda o: {"pk": o["north_blue"].pk, "visit_pk": o["visit"].pk}
    ),
    # C(E)TR requests: anyone may ask; the register team triages.
    "reviews:request-public": Row(PUBLIC),
    "reviews:request-confirmation": Row(PUBLIC),
    "reviews:request-list": Row(REGISTER_ONLY),
    "reviews:request-create": Row(REGISTER_ONLY),
    "reviews:request-detail": Row(REGISTER_ONLY, kwargs=lambda o: {"pk": o["cetr_request"].pk}),
    # Escalation: the queue for senior managers and the register team; the summary for the
    # executive lead. The escalation is at level 2 about the Red person in Northshire: the
    # executive lead sees only the top level's (404), the Southshire manager none (404).
    "escalation:queue": Row(_closed(_roles(REGISTER_TEAM | SENIOR_MANAGERS))),
    "escalation:summary": Row(_closed(_roles({"executive_lead"}))),
    "escalation:detail": Row(ESCALATION_READERS, kwargs=_escalation),
    "escalation:acknowledge": Row(ESCALATION_ACTORS, kwargs=_escalation),
    "escalation:resolve": Row(ESCALATION_ACTORS, kwargs=_escalation),
    # Every escalation about the Red person at once: the same owners (the person out of the
    # executive lead's and the Southshire manager's sight, 404).
    "escalation:acknowledge-person": Row(ESCALATION_ACTORS, kwargs=_person("north_red")),
    # Notes: its owners, and the register team.
    "escalation:note": Row(
        {**ESCALATION_ACTORS, "register_staff": 200, "dsr_lead": 200}, kwargs=_escalation
    ),
    "escalation:raise": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    # Reports: numbers only, for planning commissioners and the register team.
    "reports:snapshot": Row(_closed(_roles(REGISTER_TEAM | {"planning_commissioner"}))),
    "reports:snapshot-csv": Row(
        _closed(_roles(REGISTER_TEAM | {"planning_commissioner"})), kwargs={"table": "diagnosis"}
    ),
    "reports:flows": Row(_closed(_roles(REGISTER_TEAM | {"planning_commissioner"}))),
    "reports:flows-csv": Row(
        _closed(_roles(REGISTER_TEAM | {"planning_commissioner"})),
        kwargs={"table": "transitions"},
    ),
    "reports:needs": Row(_closed(_roles(REGISTER_TEAM | {"planning_commissioner"}))),
    "reports:assuring-transformation": Row(REGISTER_ONLY),
    "reports:planning": Row(_closed(_roles(REGISTER_TEAM | {"planning_commissioner"}))),
    "reports:planning-csv": Row(
        _closed(_roles(REGISTER_TEAM | {"planning_commissioner"})),
        kwargs={"table": "committed-spend"},
    ),
    "reports:needs-csv": Row(_closed(_roles(REGISTER_TEAM | {"planning_commissioner"}))),
    "dsr:person-needs": Row(REGISTER_ONLY, kwargs=_person("north_red")),
    # The admin: administrators only, and only with a verified second factor.
    "admin:index": Row(_closed(_roles(ADMINISTRATORS))),
    "admin:dsr_user_changelist": Row(_closed(_roles(ADMINISTRATORS))),
    "admin:dsr_organisation_changelist": Row(_closed(_roles(ADMINISTRATORS))),
    "admin:dsr_localauthority_changelist": Row(_closed(_roles(ADMINISTRATORS))),
    "admin:dsr_accessevent_changelist": Row(_closed(_roles(ADMINISTRATORS))),
    "admin:login": Row(_closed(_roles(ADMINISTRATORS, no=403, yes=ELSEWHERE))),
    # Removing an account's link to an NHS identity: its confirmation page (the POST removes).
    "admin:dsr_user_identity_remove": Row(
        _closed(_roles(ADMINISTRATORS)),
        kwargs=lambda o: {
            "user_pk": o["provider_identity"].user_id,
            "link_pk": o["provider_identity"].pk,
        },
    ),
}

# Families of routes served by one mechanism, checked through the sample rows above. The admin's
# own object routes (change, history, delete) all pass through DsrAdminSite.admin_view.
FAMILIES = ("admin:",)


def _named_routes(patterns=None, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _named_routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


def test_every_named_route_has_a_row_in_the_matrix():
    routes = _named_routes()
    missing = sorted(
        name for name in routes if name not in MATRIX and not name.startswith(FAMILIES)
    )
    family = sorted(name for name in routes if name.startswith(FAMILIES))
    record("A-1 routes missing from the matrix", len(missing))
    record("A-1 named routes / in families checked by sample", f"{len(routes)} / {len(family)}")
    assert missing == []


def test_every_matrix_row_names_a_real_route():
    routes = _named_routes()
    assert sorted(set(MATRIX) - routes) == []


def _outcome(response) -> int | str:
    if response.status_code in (301, 302):
        path = urlsplit(response["Location"]).path
        if path == reverse("accounts:sign-in"):
            return SIGN_IN
        if path == reverse("accounts:verify"):
            return VERIFY
        return ELSEWHERE
    return response.status_code


@pytest.mark.django_db  # pytest-django sets up only the databases tests ask for: route_sweep
def test_route_matrix(route_sweep):
    """Each cell is the row's own request (its method, its body) over HTTPS, from the one sweep
    of the matrix (tests/security/sweep.py). A BI tool's client ("api_client": a read feed
    token, no session) is a persona too: a token opens no page of the service, so on every route
    whose row does not name it, it is answered as anonymous."""
    failures = []
    leaks = []
    cells = 0
    for name, row in MATRIX.items():
        for persona in [*ALL_PERSONAS, "api_client"]:
            if persona == "api_client":
                expected = row.expect.get(persona, row.expect["anonymous"])
            else:
                expected = row.expect[persona]
            answer = route_sweep.cells[name, persona]
            cells += 1
            if answer.outcome != expected:
                failures.append(f"{name} as {persona}: expected {expected}, got {answer.outcome}")
            if answer.leaks_sentinel:
                leaks.append(f"{name} as {persona}")
    shape = f"{cells} ({len(MATRIX)} routes x {len(ALL_PERSONAS) + 1} personas)"
    record("A-2 route matrix cells", shape)
    record("A-2 sentinel leaks in refused responses", len(leaks))
    assert failures == []
    assert leaks == []


# Routes that still check the object before refusing the function: escalation.views._actable
# answers 403 for an escalation the DSR lead may see but not act on, and 404 for a missing one.
# To fix in escalation/views.py (answer 404 there, as reviews' action-close does).
KNOWN_OBJECT_BEFORE_FUNCTION: set[str] = set()

# An id no object has: every object route must refuse it exactly as it refuses a real one when
# the role may never use the route.
MISSING_ID = 2_000_000_000


def _page(response) -> str:
    """The response's body without what differs on every response (the CSP nonce, the CSRF
    token, the seconds the session has left)."""
    text = response.content.decode(errors="replace")
    text = re.sub(r'data-idle-seconds="\d+"', 'data-idle-seconds=""', text)
    return re.sub(r'(nonce|value|content)="[A-Za-z0-9+/=_-]{16,}"', r'\1=""', text)


def _object_rows() -> list[tuple[str, str]]:
    """(route, persona) for every route with an object id and every role it refuses (403)."""
    return [
        (name, persona)
        for name, row in MATRIX.items()
        if callable(row.kwargs)
        for persona in ROLE_PERSONAS
        if row.expect[persona] == 403
    ]


@pytest.mark.django_db
def test_a_refused_function_answers_the_same_for_an_existing_and_a_missing_id(
    personas, matrix_objects
):
    """The function (permission) check comes first and answers 403 for any id; only then does
    the object check answer 404 (ACCESS.md "Scope"). So a role without the permission learns
    nothing from the answer about whether an object exists."""
    differences = []
    checked = 0
    for name, persona in _object_rows():
        row = MATRIX[name]
        kwargs = row.kwargs(matrix_objects)
        missing = {
            key: MISSING_ID if key.endswith("pk") else value for key, value in kwargs.items()
        }
        client = personas["clients"][persona]
        call = getattr(client, row.method)
        real = call(reverse(name, kwargs=kwargs))
        absent = call(reverse(name, kwargs=missing))
        checked += 1
        if (real.status_code, _page(real)) != (absent.status_code, _page(absent)):
            if f"{name} as {persona}" in KNOWN_OBJECT_BEFORE_FUNCTION:
                continue
            differences.append(
                f"{name} as {persona}: {real.status_code} for a real id, "
                f"{absent.status_code} for a missing one"
            )
    record("A-2 object routes x refused roles checked for 403 before 404", checked)
    assert checked > 0
    assert not differences, "\n".join(differences)
