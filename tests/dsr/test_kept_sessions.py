"""Sessions and the signed-in user read from the cache, with the database as the record
(docs/adr/0009): a signed-in request reads and writes nothing in the database once its session
and user are kept, and every way a session ends still ends it at once, also when its copy is in
the cache; with the cache out of reach everything is read from the database."""

import datetime
import logging
import socket
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp

from dsr.accounts.identity_providers import identity_remove
from dsr.models import ProviderIdentity
from dsr.roles import Role
from dsr.security.sessions import session_end
from tests.conftest import PASSWORD, account, provider_signed_in_client, signed_in_client

pytestmark = pytest.mark.django_db

HOME = reverse("dsr:home")
SIGN_IN = reverse("accounts:sign-in")
VERIFY = reverse("accounts:verify")
FLOOR = "/bench/floor/"
MINUTE = datetime.timedelta(minutes=1)
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def member(organisations):
    return account(organisations["icb"], Role.REGISTER_STAFF)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _kept_client(user) -> Client:
    """A client signed in as `user` whose session, user and device are kept: its first request
    reads them from the database, the second from the copies."""
    client = signed_in_client(user)
    for _ in range(2):
        assert client.get(HOME).status_code == 200
    return client


def _signed_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(SIGN_IN + "?")


# --- The cost of a signed-in request ------------------------------------------------------------


@override_settings(ROOT_URLCONF="bench.urls")
def test_a_signed_in_request_reads_and_writes_nothing_in_the_database_once_kept(
    member, frozen_now, django_assert_num_queries
):
    client = signed_in_client(member)
    client.get(FLOOR)  # the first request reads the user and device and keeps them

    for _ in range(3):
        frozen_now.shift(10 * SECOND)
        with django_assert_num_queries(0):
            assert client.get(FLOOR).status_code == 200


@override_settings(ROOT_URLCONF="bench.urls")
def test_a_session_is_written_at_most_once_a_minute(member, frozen_now):
    client = signed_in_client(member)
    client.get(FLOOR)
    written = Session.objects.get().expire_date

    frozen_now.shift(MINUTE - SECOND)
    client.get(FLOOR)
    assert Session.objects.get().expire_date == written

    frozen_now.shift(SECOND)
    client.get(FLOOR)
    assert Session.objects.get().expire_date == written + MINUTE


# --- The idle timeout, to the minute ------------------------------------------------------------


def test_a_session_lasts_at_least_the_idle_timeout_less_a_minute_after_its_last_request(
    member, frozen_now
):
    client = signed_in_client(member)
    assert client.get(HOME).status_code == 200
    frozen_now.shift(50 * SECOND)
    assert client.get(HOME).status_code == 200  # not written: moved on 50 s ago

    frozen_now.shift(settings.SESSION_IDLE_TIMEOUT - settings.SESSION_RENEW_EVERY)

    assert client.get(HOME).status_code == 200


def test_a_session_ends_at_the_idle_timeout_after_it_was_last_moved_on(member, frozen_now):
    """Requests less than a minute apart do not move the expiry on each time: the session
    ends an idle timeout after the request that last moved it, never later."""
    client = signed_in_client(member)
    assert client.get(HOME).status_code == 200
    frozen_now.shift(50 * SECOND)
    assert client.get(HOME).status_code == 200

    frozen_now.shift(settings.SESSION_IDLE_TIMEOUT - 50 * SECOND + SECOND)

    assert _signed_out(client.get(HOME))


def test_the_warning_counts_down_from_the_time_the_session_really_has_left(member, frozen_now):
    client = signed_in_client(member)
    client.get(HOME)
    frozen_now.shift(40 * SECOND)

    page = client.get(HOME).text

    left = settings.SESSION_COOKIE_AGE - 40
    assert f'data-idle-seconds="{left}"' in page


def test_staying_signed_in_moves_the_expiry_on_at_once(member, frozen_now):
    client = signed_in_client(member)
    client.get(HOME)
    frozen_now.shift(30 * SECOND)
    assert client.post(reverse("accounts:session-extend")).status_code == 204

    frozen_now.shift(settings.SESSION_IDLE_TIMEOUT - SECOND)

    assert client.get(HOME).status_code == 200


# --- Ending sessions whose copy is in the cache -------------------------------------------------


def test_signing_out_ends_a_kept_session(member):
    client = _kept_client(member)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    client.post(reverse("accounts:sign-out"))

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert _signed_out(replay.get(HOME))


def test_a_session_ended_through_the_store_is_gone_from_the_cache_too(member):
    client = _kept_client(member)

    session_end(client.cookies[settings.SESSION_COOKIE_NAME].value)

    assert _signed_out(client.get(HOME))
    assert not Session.objects.exists()


def test_removing_an_identity_ends_its_kept_sessions_at_once(member):
    client = provider_signed_in_client(member, multi_factor=True)
    for _ in range(2):
        assert client.get(HOME).status_code == 200

    ended = identity_remove(ProviderIdentity.objects.get(user=member))

    assert ended == 1
    assert _signed_out(client.get(HOME))


def test_deactivating_an_account_ends_its_kept_sessions(member):
    client = _kept_client(member)

    member.is_active = False
    member.save()

    assert _signed_out(client.get(HOME))


def test_a_new_password_ends_the_accounts_other_kept_sessions(member):
    client = _kept_client(member)

    member.set_password("a-new-long-passphrase-for-the-test")
    member.save()

    assert _signed_out(client.get(HOME))


def test_a_removed_authenticator_no_longer_verifies_a_kept_session(member):
    client = _kept_client(member)

    member.totpdevice_set.all().delete()

    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY + "?")


def test_a_role_taken_away_is_gone_on_the_next_request(member, organisations):
    client = _kept_client(member)
    register = reverse("dsr:register-list")
    assert client.get(register).status_code == 200

    member.groups.clear()

    assert client.get(register).status_code == 403


# --- With the cache out of reach ----------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _cache_down():
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=caches):
        yield


def test_with_the_cache_down_sessions_and_users_come_from_the_database(
    member, caplog, django_assert_max_num_queries
):
    with _cache_down(), caplog.at_level(logging.WARNING):
        client = signed_in_client(member)
        assert client.get(HOME).status_code == 200
        other = signed_in_client(member)

        member.is_active = False
        member.save()
        assert _signed_out(other.get(HOME))
        member.is_active = True
        member.save()

        client.post(reverse("accounts:sign-out"))
        assert _signed_out(client.get(HOME))

    assert not [r for r in caplog.records if r.exc_info], "no traceback for the outage"
    assert any("cache cannot be reached" in r.getMessage() for r in caplog.records)


def test_with_the_cache_down_a_full_sign_in_works(member, frozen_now):
    with _cache_down():
        client = Client()
        answer = client.post(SIGN_IN, {"username": member.email, "password": PASSWORD})
        assert answer.status_code == 302
        device = member.totpdevice_set.get()
        verified = client.post(VERIFY, {"token": f"{totp(device.bin_key, t0=device.t0):06d}"})
        assert verified.status_code == 302

        assert client.get(HOME).status_code == 200
