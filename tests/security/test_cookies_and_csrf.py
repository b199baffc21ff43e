"""Cookie flags on every response (RELIABILITY B-8), CSRF on every POST and no writes on GET
(RELIABILITY B-9), across the routes of the route matrix."""

import logging

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django_otp.oath import totp

from tests.conftest import PASSWORD, ROLE_PERSONAS
from tests.dbstate import changed_tables, table_state
from tests.figures import record
from tests.security.support import allowed_personas, client_like
from tests.security.sweep import ALWAYS_WRITTEN
from tests.test_route_matrix import MATRIX

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Public forms count POSTs per address on the cache; start and leave it empty."""
    cache.clear()
    yield
    cache.clear()


def _set_cookies(response) -> list[tuple[str, object]]:
    return list(response.cookies.items())


def _cookie_problems(where: str, name: str, morsel) -> list[str]:
    problems = []
    deletion = morsel.value == "" and str(morsel["max-age"]) == "0"
    if not morsel["secure"]:
        problems.append(f"{where}: {name} without Secure")
    if morsel["samesite"] not in ("Lax", "Strict"):
        problems.append(f"{where}: {name} with SameSite={morsel['samesite']!r}")
    # A deletion carries no value for a script to read; every cookie with a value is HttpOnly.
    if not deletion and not morsel["httponly"]:
        problems.append(f"{where}: {name} without HttpOnly")
    # __Host-: sent only over HTTPS, to this host alone, for the whole site (RFC 6265bis).
    if not name.startswith("__Host-") or morsel["domain"] or morsel["path"] != "/":
        problems.append(f"{where}: {name} is not a __Host- cookie (domain/path)")
    return problems


def _sign_in_and_out(user) -> list[tuple[str, object]]:
    """The responses of a whole visit: sign in, the second factor, a page, sign out."""
    from django.test import Client

    client = Client()
    device = user.totpdevice_set.get()
    code = f"{totp(device.bin_key, t0=device.t0, step=device.step):06d}"
    steps = [
        ("sign-in page", client.get(reverse("accounts:sign-in"), secure=True)),
        (
            "sign-in",
            client.post(
                reverse("accounts:sign-in"),
                {"username": user.email, "password": PASSWORD},
                secure=True,
            ),
        ),
        ("security code", client.post(reverse("accounts:verify"), {"token": code}, secure=True)),
        ("home", client.get(reverse("dsr:home"), secure=True)),
        ("sign-out", client.post(reverse("accounts:sign-out"), secure=True)),
    ]
    steps.append(("after sign-out", client.get(steps[-1][1]["Location"], secure=True)))
    assert steps[3][1].status_code == 200, "the visit did not get signed in"
    return steps


def test_every_cookie_the_service_sets_is_secure_httponly_samesite_and_host_only(
    personas, route_sweep
):
    """Each route's answers to GETs over HTTPS come from the one sweep of the matrix
    (tests/security/sweep.py); a whole visit, signing in and out, is made here."""
    assert settings.DEBUG is False  # the production branch of dsr/settings.py
    problems, names = [], set()
    responses = cookies = 0
    for name, row in MATRIX.items():
        # Everyone the view answers, and a visitor (whose form pages set the CSRF cookie).
        for persona in dict.fromkeys([*allowed_personas(row), "anonymous"]):
            answer = route_sweep.gets[name, persona]
            responses += 1
            for cookie, morsel in answer.cookies:
                cookies += 1
                names.add(cookie)
                problems += _cookie_problems(f"{name} as {persona}", cookie, morsel)
    for step, response in _sign_in_and_out(personas["users"]["register_staff"]):
        responses += 1
        for cookie, morsel in _set_cookies(response):
            cookies += 1
            names.add(cookie)
            problems += _cookie_problems(step, cookie, morsel)

    assert problems == []
    # The sweep saw the cookies that matter, so an empty problem list means something.
    assert {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME} <= names
    assert settings.SESSION_COOKIE_NAME == "__Host-sessionid"
    assert settings.CSRF_COOKIE_NAME == "__Host-csrftoken"
    record("B-8 Set-Cookie headers checked", f"{cookies} in {responses} responses, 0 bad")


def _poster(row) -> str:
    """A signed-in persona the route lets through (a role first), else the anonymous visitor;
    a sign-in step that sends everyone on (the authenticator set-up) is asked part-way in."""
    allowed = allowed_personas(row)
    for persona in [*ROLE_PERSONAS, "password_only", "anonymous"]:
        if persona in allowed:
            return persona
    return "password_only"


def _takes_post(client, url) -> bool:
    """Whether the view answers POST at all (anything but 405), asked with CSRF checks off and
    every write rolled back."""
    probe = client_like(client, raise_request_exception=False)
    with transaction.atomic():
        status = probe.post(url, secure=True).status_code
        transaction.set_rollback(True)
    return status != 405


# Routes without CSRF protection, each for a reason: GOV.UK Notify's delivery receipts come from a
# machine with no browser session, authenticated by its bearer token instead, so without the
# token they are refused (401) and write nothing. An NHS identity provider's back-channel logout
# comes from the provider's server, authenticated by the signed logout token it posts instead;
# without one it is refused (400) and ends nothing. The read feed for BI tools (Django REST
# framework, which exempts its views) reads no cookie and no session: a call is authenticated by
# its bearer token alone, which a browser cannot be made to send, and it only reads; without the
# token it is refused (401).
CSRF_EXEMPT = {
    "dsr:notify-receipts": 401,
    "accounts:back-channel-logout": 400,
    **{
        f"reports:api-{name}": 401
        for name in ("register", "flows", "needs", "planning", "areas", "schema")
    },
}


def test_every_post_without_a_csrf_token_is_refused_and_writes_nothing(
    personas, matrix_objects, caplog
):
    post_routes, problems = [], []
    for name, row in MATRIX.items():
        url = row.url(name, matrix_objects)
        persona = _poster(row)
        if not _takes_post(personas["clients"][persona], url):
            continue
        post_routes.append(name)
        # Signed in as a persona allowed on the route; a public form also as a visitor.
        posters = [persona] + (["anonymous"] if row.expect["anonymous"] == 200 else [])
        for poster in dict.fromkeys(posters):
            attacker = client_like(personas["clients"][poster], enforce_csrf_checks=True)
            before = table_state(ALWAYS_WRITTEN)
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
                # From the service's own origin, so the missing token is what is refused.
                response = attacker.post(
                    url,
                    {"confirm": "yes", "note": "x"},
                    secure=True,
                    HTTP_ORIGIN="https://testserver",
                )
            written = changed_tables(before, table_state(ALWAYS_WRITTEN))
            reasons = [r.getMessage() for r in caplog.records if r.name == "django.security.csrf"]
            refused_for_the_token = any(
                "CSRF cookie not set" in reason or "CSRF token missing" in reason
                for reason in reasons
            )
            if name in CSRF_EXEMPT:
                if response.status_code != CSRF_EXEMPT[name]:
                    problems.append(f"{name} as {poster}: {response.status_code} without its key")
            elif response.status_code != 403 or not refused_for_the_token:
                problems.append(f"{name} as {poster}: {response.status_code}, not a CSRF refusal")
            if written:
                problems.append(f"{name} as {poster}: wrote {written}")

    assert problems == []
    # The URL conf's known forms are among them, so the probe really found the POST routes.
    assert {"accounts:sign-in", "accounts:sign-out", "dsr:person-edit"} <= set(post_routes)
    record("B-9 POST routes refused without a token", f"{len(post_routes)} of {len(MATRIX)}")


def test_no_get_on_any_route_changes_a_table(route_sweep):
    """Per route, the tables that changed across the GETs (over HTTPS) of everyone the route
    lets through, beyond what reads may write (WRITTEN_BY_READS), from the one sweep of the
    matrix (tests/security/sweep.py)."""
    wrote = [f"{name}: {changed}" for name, changed in route_sweep.writes.items() if changed]
    gets = route_sweep.allowed_gets

    assert set(route_sweep.writes) == set(MATRIX)
    assert wrote == []
    assert gets > len(MATRIX)
    record("B-9 GET routes that wrote", f"{len(wrote)} ({gets} GETs as allowed personas)")


def test_the_write_detector_sees_a_read_logged_and_an_edit_that_keeps_the_row_count(
    personas, matrix_objects
):
    """The detector is not blind: without its exclusion, the access-log row a GET of a
    person's record writes shows up; so does a change to one field of one row."""
    person = matrix_objects["north_red"]
    before = table_state(ALWAYS_WRITTEN)
    personas["clients"]["register_staff"].get(
        reverse("dsr:person-detail", kwargs={"pk": person.pk}), secure=True
    )
    after_read = table_state(ALWAYS_WRITTEN)
    # A bare update: no history row, no updated_at, the same number of rows.
    type(person).objects.filter(pk=person.pk).update(address="1 Changed Street")
    after_edit = table_state(ALWAYS_WRITTEN)

    assert changed_tables(before, after_read) == ["dsr_accessevent"]
    assert changed_tables(after_read, after_edit) == ["dsr_person"]


def test_a_refused_form_gets_the_services_own_page():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        reverse("accounts:sign-in"), {"username": "a@example.org", "password": "x"}
    )
    html = response.content.decode()
    assert response.status_code == 403
    assert "Your form could not be sent" in html
    assert "nhsuk-header" in html and "<style" not in html


def _exempt_routes(patterns=None, namespace: str = "") -> set[str]:
    """Every named route whose view turns CSRF checks off (@csrf_exempt)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: set[str] = set()
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found |= _exempt_routes(entry.url_patterns, inner)
        elif (
            isinstance(entry, URLPattern)
            and entry.name
            and getattr(entry.callback, "csrf_exempt", False)
        ):
            found.add(f"{namespace}{entry.name}")
    return found


def test_only_the_listed_routes_are_exempt_from_csrf():
    assert _exempt_routes() == set(CSRF_EXEMPT)
