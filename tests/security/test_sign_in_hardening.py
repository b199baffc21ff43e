"""Signing in under attack: the password policy (RELIABILITY B-6), lockout that a forged
X-Forwarded-For cannot dodge (B-3), and no way to tell which accounts exist (B-4)."""

import json
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import dsr.settings as production_settings
from dsr.accounts.forms import NewPasswordForm
from dsr.roles import Role
from tests.conftest import PASSWORD
from tests.dsr.factories import TOTPDeviceFactory, UserFactory
from tests.figures import record
from tests.password_resets import reset_jobs, run_reset_jobs

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SIGN_IN = reverse("accounts:sign-in")
VERIFY = reverse("accounts:verify")


@pytest.fixture
def member(organisations):
    user = UserFactory(
        email="member@nhs.example", organisation=organisations["icb"], roles=[Role.REGISTER_STAFF]
    )
    TOTPDeviceFactory(user=user)
    return user


def sign_in(client: Client, email: str, password: str = PASSWORD, **extra):
    return client.post(SIGN_IN, {"username": email, "password": password}, **extra)


# --- B-6 Password policy (ASVS v5.0.0-6.2.1, 6.2.4, 6.2.5, 6.2.9; NCSC) -----------------------


def _choose(user, password: str) -> list[str]:
    """Set a new password through the form the reset page uses; its errors, if refused."""
    form = NewPasswordForm(user, {"new_password1": password, "new_password2": password})
    if form.is_valid():
        form.save()
        return []
    return [message for messages in form.errors.values() for message in messages]


def test_a_64_character_passphrase_is_accepted_and_signs_in(client, member):
    passphrase = "my dog likes long walks by the river before breakfast each day!!"
    assert len(passphrase) == 64

    assert _choose(member, passphrase) == []
    response = sign_in(client, member.email, passphrase)

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)


def test_a_common_password_is_refused_even_when_long_enough(member):
    assert len("peanutbutter") >= 12  # long enough: only its commonness refuses it

    errors = _choose(member, "peanutbutter")

    assert errors == ["This password is too common."]
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_a_password_shorter_than_12_characters_is_refused_and_12_is_enough(member):
    errors = _choose(member, "lamp fog ow")  # 11 characters

    assert errors == [
        "This password is too short. It must contain at least 12 characters.",
    ]
    assert _choose(member, "lamp fog owl") == []


@pytest.mark.parametrize(
    "password",
    [
        "marmaladeskyline",  # lower-case letters only
        "MARMALADESKYLINE",  # capitals only
        "ffion's cwtch ålesund",  # spaces, punctuation and letters beyond ASCII
    ],
)
def test_no_rule_demands_a_mix_of_character_kinds(member, password):
    assert _choose(member, password) == []


def test_the_policy_is_the_four_validators_and_nothing_that_composes_or_expires():
    names = [validator["NAME"].rsplit(".", 1)[1] for validator in settings.AUTH_PASSWORD_VALIDATORS]
    minimum = next(
        v["OPTIONS"]["min_length"]
        for v in settings.AUTH_PASSWORD_VALIDATORS
        if v["NAME"].endswith("MinimumLengthValidator")
    )

    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
    assert 12 <= minimum <= 15
    record(
        "B-6 password policy",
        f"min {minimum}; 64 characters accepted; common refused; 0 composition rules",
    )


# --- B-1 Lockout counts one account however its address is typed (ASVS v5.0.0-6.3.1) ---------

# The victim's address typed as sign-in would still match it: capitals anywhere, and a dotless
# "ı" for an "i" (PostgreSQL's case-insensitive match takes "ı" for "I").
VICTIM = "nina.smith@nhs.example"
CASE_VARIANTS = [
    "nina.smith@nhs.example",
    "Nina.Smith@nhs.example",
    "NINA.SMITH@NHS.EXAMPLE",
    "nina.smith@NHS.example",
    "nInA.sMiTh@Nhs.Example",
    "nına.smıth@nhs.example",
]


def test_lockout_counts_every_letter_case_of_an_address_as_one_account(organisations):
    user = UserFactory(email=VICTIM, organisation=organisations["icb"])
    TOTPDeviceFactory(user=user)
    limit = settings.AXES_FAILURE_LIMIT
    attacker = Client()
    statuses = []
    with mock.patch.object(
        type(user), "check_password", autospec=True, side_effect=type(user).check_password
    ) as check_password:
        for variant in CASE_VARIANTS:
            for _ in range(6):
                statuses.append(sign_in(attacker, variant, "wrong-password").status_code)
        checked = check_password.call_count
        right = sign_in(attacker, "Nina.Smith@NHS.example")
        checked_with_right = check_password.call_count

    # Only the first `limit` guesses were checked, whichever way the address was typed.
    assert checked == limit
    assert statuses == [200] * (limit - 1) + [429] * (len(statuses) - limit + 1)
    # The right password, typed with yet another mix of capitals, is refused unchecked: the
    # locked-out page, never the security-code step.
    assert checked_with_right == limit
    assert right.status_code == 429
    assert "Sign in is paused" in right.text
    assert "_auth_user_id" not in attacker.session
    # One counter, under the account's own address.
    attempt = AccessAttempt.objects.get()
    assert attempt.username == VICTIM
    record(
        "B-1 lockout attempts checked across letter-case variants beyond the limit",
        checked_with_right - limit,
    )


def test_lockout_of_one_address_leaves_a_different_account_alone(organisations):
    UserFactory(email=VICTIM, organisation=organisations["icb"])
    other = UserFactory(email="nina.smithson@nhs.example", organisation=organisations["icb"])
    TOTPDeviceFactory(user=other)
    for variant in CASE_VARIANTS[:2]:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(Client(), variant, "wrong-password")

    response = sign_in(Client(), "Nina.Smithson@nhs.example")

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)


# --- B-3 A forged X-Forwarded-For does not dodge the lockout (ASVS v5.0.0-15.3.4) -------------


def _proxy_settings(trusted_proxies: int) -> dict:
    """The client-address settings dsr/settings.py derives from TRUSTED_PROXY_COUNT."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.AXES_IPWARE_PROXY_COUNT, s.AXES_IPWARE_META_PRECEDENCE_ORDER]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "dsr.settings",
            "DEBUG": "true",
            "BEHIND_TLS_PROXY": "true",
            "TRUSTED_PROXY_COUNT": str(trusted_proxies),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    count, order = json.loads(result.stdout)
    return {"AXES_IPWARE_PROXY_COUNT": count, "AXES_IPWARE_META_PRECEDENCE_ORDER": order}


def _forged_failures(email: str, times: int, *, through_proxy: bool) -> list[int]:
    """Failed sign-ins, each claiming a different address in X-Forwarded-For, and the status of
    each. Behind the proxy the proxy appends the address it saw (203.0.113.50) and connects
    from 10.0.0.2."""
    statuses = []
    for n in range(times):
        forged = f"198.51.100.{n + 1}"
        if through_proxy:
            extra = {"HTTP_X_FORWARDED_FOR": f"{forged}, 203.0.113.50", "REMOTE_ADDR": "10.0.0.2"}
        else:
            extra = {"HTTP_X_FORWARDED_FOR": forged, "REMOTE_ADDR": "203.0.113.50"}
        statuses.append(sign_in(Client(), email, "wrong-password", **extra).status_code)
    return statuses


def test_forged_forwarded_addresses_still_lock_the_account_when_reached_directly(member):
    limit = settings.AXES_FAILURE_LIMIT
    statuses = _forged_failures(member.email, limit, through_proxy=False)

    response = sign_in(
        Client(), member.email, HTTP_X_FORWARDED_FOR="192.0.2.200", REMOTE_ADDR="203.0.113.50"
    )

    # Refused as wrong until the limit-th failure, which locks: the count never started again.
    assert statuses == [200] * (limit - 1) + [429]
    assert response.status_code == 429
    assert "Sign in is paused" in response.text
    # One counter for the real address. The refused right password came while paused, which
    # neither counts nor starts the pause again (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT).
    attempt = AccessAttempt.objects.get(username=member.email)
    assert (attempt.ip_address, attempt.failures_since_start) == ("203.0.113.50", limit)


def test_forged_forwarded_addresses_still_lock_the_account_behind_one_trusted_proxy(
    member, settings
):
    for name, value in _proxy_settings(1).items():
        setattr(settings, name, value)
    limit = settings.AXES_FAILURE_LIMIT
    statuses = _forged_failures(member.email, limit, through_proxy=True)

    attacker = sign_in(
        Client(),
        member.email,
        HTTP_X_FORWARDED_FOR="192.0.2.200, 203.0.113.50",
        REMOTE_ADDR="10.0.0.2",
    )
    # Someone else, whose request the proxy forwards honestly, is not locked out with them.
    victim = sign_in(
        Client(), member.email, HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="10.0.0.2"
    )

    assert statuses == [200] * (limit - 1) + [429]
    assert attacker.status_code == 429
    assert victim.status_code == 302
    assert victim["Location"].startswith(VERIFY)
    record(
        "B-3 failed sign-ins with a new forged X-Forwarded-For each time before lockout",
        f"{limit} (direct and behind one proxy; the counter never reset)",
    )


# --- B-4 No user enumeration (ASVS v5.0.0-6.3.8) ----------------------------------------------


def _page(response, email: str) -> str:
    """The page without what differs by design: the CSRF token and the address typed in."""
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.text)
    return text.replace(email, "EMAIL")


@pytest.fixture
def production_hasher(settings):
    """The production hasher (dsr/settings.py), with few iterations so the test stays fast:
    what matters is how often it runs, not how long."""
    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    with mock.patch.object(PBKDF2PasswordHasher, "iterations", 1000):
        yield


def test_sign_in_looks_and_works_the_same_for_unknown_wrong_and_deactivated_accounts(
    organisations, production_hasher
):
    member = UserFactory(email="known@nhs.example", organisation=organisations["icb"])
    UserFactory(email="left@nhs.example", organisation=organisations["icb"], is_active=False)
    cases = {
        "wrong password": ("known@nhs.example", "not-the-password"),
        "unknown account": ("nobody@nhs.example", "not-the-password"),
        "deactivated, right password": ("left@nhs.example", PASSWORD),
    }
    pages, hashes, statuses = {}, {}, {}
    for case, (email, password) in cases.items():
        with mock.patch.object(
            PBKDF2PasswordHasher, "encode", autospec=True, side_effect=PBKDF2PasswordHasher.encode
        ) as encode:
            response = sign_in(Client(), email, password)
        statuses[case] = response.status_code
        pages[case] = _page(response, email)
        hashes[case] = encode.call_count

    assert set(statuses.values()) == {200}
    assert "Enter a correct email address and password." in pages["unknown account"]
    assert pages["wrong password"] == pages["unknown account"]
    assert pages["deactivated, right password"] == pages["unknown account"]
    assert hashes["wrong password"] >= 1
    assert set(hashes.values()) == {hashes["wrong password"]}
    assert member.check_password(PASSWORD)
    record(
        "B-4 sign-in: page differences / hasher runs (wrong password, unknown, deactivated)",
        f"0 / {'-'.join(str(n) for n in hashes.values())}",
    )


def test_password_reset_answers_the_same_and_mails_only_a_known_active_account(organisations):
    cache.clear()  # the per-address limit counts every request from the test client
    UserFactory(email="known@nhs.example", organisation=organisations["icb"])
    UserFactory(email="left@nhs.example", organisation=organisations["icb"], is_active=False)
    pages = {}
    with reset_jobs() as jobs:
        for email in ("known@nhs.example", "nobody@nhs.example", "left@nhs.example"):
            client = Client()
            form = client.get(reverse("accounts:password-reset"))
            response = client.post(
                reverse("accounts:password-reset"), {"email": email}, follow=True
            )
            assert response.redirect_chain == [(reverse("accounts:password-reset-sent"), 302)]
            pages[email] = _page(response, email)
            assert form.status_code == 200
    assert mail.outbox == []  # the emails are the queued jobs' work
    run_reset_jobs(jobs)

    assert pages["known@nhs.example"] == pages["nobody@nhs.example"] == pages["left@nhs.example"]
    assert [message.to for message in mail.outbox] == [["known@nhs.example"]]
    record("B-4 password reset: page differences known/unknown/deactivated; mails sent", "0; 1")


def test_password_reset_request_does_the_same_work_whether_or_not_the_account_exists(
    organisations, production_hasher
):
    """The request only queues the job: no email, the same queries and the same number of
    password hashes for a known, an unknown and a deactivated address (counted, not timed)."""
    cache.clear()
    UserFactory(email="known@nhs.example", organisation=organisations["icb"])
    UserFactory(email="left@nhs.example", organisation=organisations["icb"], is_active=False)
    work = {}
    for email in ("known@nhs.example", "nobody@nhs.example", "left@nhs.example"):
        client = Client()
        client.get(reverse("accounts:password-reset"))
        with (
            CaptureQueriesContext(connection) as queries,
            mock.patch.object(
                PBKDF2PasswordHasher,
                "encode",
                autospec=True,
                side_effect=PBKDF2PasswordHasher.encode,
            ) as encode,
            reset_jobs() as jobs,
        ):
            response = client.post(reverse("accounts:password-reset"), {"email": email})
        assert response["Location"] == reverse("accounts:password-reset-sent")
        work[email] = (len(queries), encode.call_count, len(mail.outbox), len(jobs))

    known = work["known@nhs.example"]
    assert known[2:] == (0, 1)  # no email within the request; one job queued
    assert work["nobody@nhs.example"] == work["left@nhs.example"] == known
    record(
        "B-4 password reset request: queries / hasher runs / emails in the request "
        "(known, unknown, deactivated)",
        " / ".join("-".join(str(w[i]) for w in work.values()) for i in range(3)),
    )
