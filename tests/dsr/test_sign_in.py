"""Signing in: password, then the second factor; lockout; password reset; session limits."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.roles import Role
from dsr.views.accounts import SETUP_KEY
from tests.conftest import PASSWORD, signed_in_client
from tests.dsr.factories import TOTPDeviceFactory, UserFactory
from tests.figures import record
from tests.password_resets import reset_jobs, run_reset_jobs

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("accounts:sign-in")
VERIFY = reverse("accounts:verify")
SETUP = reverse("accounts:setup")
HOME = reverse("dsr:home")


def code_for(device, offset_steps: int = 0) -> str:
    return f"{totp(device.bin_key, t0=device.t0, step=device.step, drift=offset_steps):06d}"


def sign_in(client: Client, email: str, password: str = PASSWORD, **extra):
    return client.post(SIGN_IN, {"username": email, "password": password}, **extra)


@pytest.fixture
def member(organisations):
    user = UserFactory(
        email="member@nhs.example", organisation=organisations["icb"], roles=[Role.REGISTER_STAFF]
    )
    TOTPDeviceFactory(user=user)
    return user


def test_password_alone_reaches_no_staff_page(client, member):
    response = sign_in(client, member.email)

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    home = client.get(HOME)
    assert home.status_code == 302
    assert home["Location"].startswith(VERIFY)
    assert client.get(reverse("admin:index"))["Location"].startswith(VERIFY)


def test_the_right_code_after_the_password_opens_the_home_page(client, member, frozen_now):
    sign_in(client, member.email)

    response = client.post(VERIFY, {"token": code_for(member.totpdevice_set.get()), "next": HOME})

    assert response.status_code == 302
    assert response["Location"] == HOME
    assert client.get(HOME).status_code == 200


def test_a_wrong_code_is_refused_with_an_error_on_the_page(client, member, frozen_now):
    sign_in(client, member.email)
    right = code_for(member.totpdevice_set.get())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    response = client.post(VERIFY, {"token": wrong})

    assert response.status_code == 200
    assert "The security code is not right. Enter the newest code." in response.text
    assert 'href="#id_token"' in response.text
    assert client.get(HOME).status_code == 302


def test_a_code_works_only_once(member, frozen_now):
    first, second = Client(), Client()
    device = member.totpdevice_set.get()
    code = code_for(device)
    sign_in(first, member.email)
    sign_in(second, member.email)

    assert first.post(VERIFY, {"token": code}).status_code == 302
    replay = second.post(VERIFY, {"token": code})

    assert replay.status_code == 200
    assert "The security code is not right" in replay.text
    assert second.get(HOME).status_code == 302


def test_the_session_key_changes_at_sign_in_and_at_the_second_factor(client, member, frozen_now):
    anonymous = client.session
    anonymous["visited"] = True
    anonymous.save()
    anonymous_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    sign_in(client, member.email)
    password_key = client.session.session_key
    client.post(VERIFY, {"token": code_for(member.totpdevice_set.get())})

    assert password_key != anonymous_key
    assert client.session.session_key != password_key


def test_first_sign_in_sets_up_an_authenticator_before_any_page(client, organisations, frozen_now):
    user = UserFactory(email="new@nhs.example", organisation=organisations["icb"])
    response = sign_in(client, user.email)
    setup_redirect = client.get(response["Location"])
    assert setup_redirect["Location"].startswith(SETUP)

    page = client.get(SETUP)
    assert "Set up your authenticator app" in page.text
    qr = client.get(reverse("accounts:setup-qr"))
    assert qr["Content-Type"] == "image/svg+xml"
    assert qr.content.startswith(b"<?xml") or b"<svg" in qr.content[:200]
    assert client.get(HOME).status_code == 302
    # Opening the page and its QR code wrote no authenticator: the new secret waits in the
    # session, the same one on every look, until a code from it is sent.
    assert not user.totpdevice_set.exists()
    assert client.get(SETUP).text.count(page.context["secret_groups"][0]) >= 1

    shown = TOTPDevice(key=client.session[SETUP_KEY])
    wrong = client.post(SETUP, {"token": code_for(shown, offset_steps=10), "next": HOME})
    assert "The security code is not right" in wrong.text
    frozen_now.shift(timedelta(seconds=2))  # past the wrong code's throttle delay
    response = client.post(SETUP, {"token": code_for(shown), "next": HOME})

    assert response["Location"] == HOME
    device = user.totpdevice_set.get()
    assert device.confirmed and device.key == shown.key
    assert SETUP_KEY not in client.session
    assert client.get(HOME).status_code == 200


def test_wrong_password_says_so_without_revealing_whether_the_account_exists(client, member):
    known = sign_in(client, member.email, "not-the-password")
    unknown = sign_in(Client(), "nobody@nhs.example", "not-the-password")

    assert known.status_code == unknown.status_code == 200
    message = "Enter a correct email address and password."
    assert message in known.text
    assert message in unknown.text


# --- Lockout (RELIABILITY B-1, B-2) -----------------------------------------------------------


def _fail(client: Client, email: str, times: int, address: str = "203.0.113.5") -> None:
    for _ in range(times):
        sign_in(client, email, "wrong-password", REMOTE_ADDR=address)


def test_lockout_does_not_happen_before_the_configured_count(client, member):
    limit = settings.AXES_FAILURE_LIMIT
    _fail(client, member.email, limit - 1)

    response = sign_in(client, member.email, REMOTE_ADDR="203.0.113.5")

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)


def test_lockout_at_the_configured_count_refuses_even_the_right_password(client, member):
    limit = settings.AXES_FAILURE_LIMIT
    _fail(client, member.email, limit)

    response = sign_in(client, member.email, REMOTE_ADDR="203.0.113.5")

    assert response.status_code == 429
    assert "Sign in is paused" in response.text
    assert "_auth_user_id" not in client.session
    record("B-1 lockout after failed sign-ins", f"{limit} (limit at most 10)")


def test_lockout_is_keyed_on_account_and_address_so_a_victim_elsewhere_still_signs_in(member):
    attacker = Client()
    _fail(attacker, member.email, 50, address="198.51.100.66")

    victim = sign_in(Client(), member.email, REMOTE_ADDR="203.0.113.9")

    assert victim.status_code == 302
    assert victim["Location"].startswith(VERIFY)
    assert AccessAttempt.objects.filter(username=member.email).exists()
    record("B-2 victim sign-in after 50 failures from another address", "succeeds")


def test_lockout_ends_after_the_cool_off(client, member, frozen_now):
    _fail(client, member.email, settings.AXES_FAILURE_LIMIT)
    frozen_now.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))

    response = sign_in(client, member.email, REMOTE_ADDR="203.0.113.5")

    assert response.status_code == 302


def test_trying_again_while_paused_does_not_make_the_wait_longer(client, member, frozen_now):
    _fail(client, member.email, settings.AXES_FAILURE_LIMIT)
    frozen_now.shift(settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
    early = sign_in(client, member.email, REMOTE_ADDR="203.0.113.5")
    assert early.status_code == 429
    assert "Trying sooner does not make the wait longer" in early.text

    frozen_now.shift(timedelta(minutes=1, seconds=1))  # the first pause is over
    response = sign_in(client, member.email, REMOTE_ADDR="203.0.113.5")

    assert response.status_code == 302


# --- Password reset --------------------------------------------------------------------------


@pytest.mark.parametrize("paused", [False, True], ids=["not-paused", "paused-first"])
def test_password_reset_does_not_skip_the_second_factor(paused, client, member, frozen_now):
    """And it lifts a pause on signing in: the page that says sign in is paused offers it."""
    if paused:  # from the address the rest of the test signs in from
        _fail(client, member.email, settings.AXES_FAILURE_LIMIT, address="127.0.0.1")
        assert sign_in(client, member.email).status_code == 429
    cache.clear()  # the per-address limit counts every request from the test client
    with reset_jobs() as jobs:
        response = client.post(reverse("accounts:password-reset"), {"email": member.email})
    assert response["Location"] == reverse("accounts:password-reset-sent")
    run_reset_jobs(jobs)
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password-reset/\S+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body

    form_page = client.get(link.group(1), follow=True)
    assert "Choose a new password" in form_page.text
    new_password = "a brand new long passphrase"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done["Location"] == reverse("accounts:password-reset-complete")
    assert client.get(HOME)["Location"].startswith(SIGN_IN + "?")

    after = sign_in(client, member.email, new_password)
    assert after["Location"].startswith(VERIFY)
    assert client.get(HOME)["Location"].startswith(VERIFY)


def test_password_reset_answers_the_same_for_an_unknown_address(client, member):
    cache.clear()
    with reset_jobs() as jobs:
        known = client.post(reverse("accounts:password-reset"), {"email": member.email})
        unknown = client.post(reverse("accounts:password-reset"), {"email": "nobody@nhs.example"})
    run_reset_jobs(jobs)

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 1


# --- Session limits (RELIABILITY B-7) --------------------------------------------------------


def test_an_idle_session_expires(member, frozen_now):
    client = signed_in_client(member)
    assert client.get(HOME).status_code == 200

    frozen_now.shift(settings.SESSION_IDLE_TIMEOUT + timedelta(seconds=1))

    assert client.get(HOME)["Location"].startswith(SIGN_IN + "?")


def test_an_active_session_ends_at_its_absolute_lifetime(member, frozen_now):
    client = signed_in_client(member)
    step = settings.SESSION_IDLE_TIMEOUT - timedelta(minutes=1)
    elapsed = timedelta(0)
    while elapsed + step < settings.SESSION_ABSOLUTE_LIFETIME:
        frozen_now.shift(step)
        elapsed += step
        assert client.get(HOME).status_code == 200

    frozen_now.shift(step)

    response = client.get(HOME)
    assert response["Location"].startswith(SIGN_IN + "?")
    assert "_auth_user_id" not in client.session


def test_signing_out_ends_the_session_on_the_server(member):
    client = signed_in_client(member)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    client.post(reverse("accounts:sign-out"))

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert replay.get(HOME)["Location"].startswith(SIGN_IN + "?")


def test_deactivating_an_account_ends_its_live_sessions(member):
    client = signed_in_client(member)
    assert client.get(HOME).status_code == 200

    member.is_active = False
    member.save()

    assert client.get(HOME)["Location"].startswith(SIGN_IN + "?")


def test_behind_one_proxy_the_client_address_comes_from_x_forwarded_for(rf, settings):
    """RELIABILITY B-3: with one trusted proxy the client's address is the one the proxy
    recorded; a forged extra address falls back to the proxy's own, never to a chosen one."""
    from axes.helpers import get_client_ip_address

    settings.AXES_IPWARE_PROXY_COUNT = 0
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    honest = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="10.0.0.2")
    forged = rf.get("/", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7", REMOTE_ADDR="10.0.0.2")

    assert get_client_ip_address(honest) == "203.0.113.7"
    assert get_client_ip_address(forged) == "10.0.0.2"
