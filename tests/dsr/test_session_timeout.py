"""The idle-timeout warning (WCAG 2.2.1): signed-in pages carry the dialog, and "Stay signed
in" posts to an endpoint that restarts the session's idle clock."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from dsr.roles import Role
from tests.conftest import account, signed_in_client
from tests.figures import record

EXTEND = reverse("accounts:session-extend")
HOME = reverse("dsr:home")
SIGN_IN = reverse("accounts:sign-in")
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def member(organisations):
    return account(organisations["icb"], Role.REGISTER_STAFF)


def test_staying_signed_in_restarts_the_idle_clock(member, frozen_now):
    idle = settings.SESSION_IDLE_TIMEOUT
    kept, left = signed_in_client(member), signed_in_client(member)
    for client in (kept, left):
        assert client.get(HOME).status_code == 200

    frozen_now.shift(idle - MINUTE)
    response = kept.post(EXTEND)
    frozen_now.shift(idle - MINUTE)

    assert response.status_code == 204
    assert response.content == b""
    assert kept.get(HOME).status_code == 200
    assert left.get(HOME)["Location"].startswith(SIGN_IN + "?")
    record("B-7 stay signed in: session kept past the idle timeout / without it ended", "yes / yes")


def test_staying_signed_in_needs_the_csrf_token(member):
    client = signed_in_client(member)
    client.handler.enforce_csrf_checks = True
    page = client.get(HOME)
    token = page.context["csrf_token"]

    without = client.post(EXTEND)
    with_token = client.post(EXTEND, HTTP_X_CSRFTOKEN=str(token))

    assert without.status_code == 403
    assert with_token.status_code == 204


def test_staying_signed_in_is_refused_when_signed_out(db):
    client = Client()

    response = client.post(EXTEND)

    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN + "?")
    assert client.get(EXTEND).status_code == 302


def test_staying_signed_in_takes_only_post(member):
    assert signed_in_client(member).get(EXTEND).status_code == 405


def test_signed_in_pages_carry_the_warning_and_public_pages_do_not(member, client, frozen_now):
    signed_in = signed_in_client(member).get(HOME).text
    public = client.get(reverse("pages:start")).text

    assert 'id="session-timeout"' in signed_in
    assert 'role="alertdialog"' in signed_in
    assert f'data-idle-seconds="{settings.SESSION_COOKIE_AGE}"' in signed_in
    assert 'data-warning-seconds="120"' in signed_in
    assert f'action="{EXTEND}"' in signed_in
    assert 'src="/static/js/session-timeout.mjs"' in signed_in
    assert "Stay signed in" in signed_in
    assert 'id="session-timeout"' not in public
    assert "session-timeout.mjs" not in public
