"""Anti-automation on the public forms (RELIABILITY C-5): the minimum fill time on the referral
check page and the C(E)TR request form, and the rate limits counted per session as well as
per address. The honeypot and the per-address limits are in tests/referrals/test_public_journey.py
and tests/reviews/test_requests.py."""

import datetime
import re

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from dsr.nhsuk import fill_time
from referrals.models import Referral
from reviews.models import CetrRequest
from tests.figures import record
from tests.referrals.helpers import answers_for, step_url, submit, token_from, walk

pytestmark = pytest.mark.django_db

TOO_FAST = "This page was sent very quickly, so we could not save it."
_STARTED = re.compile(r'name="form_started" value="([^"]+)"')
_TOKEN = re.compile(r'name="submission_token" value="([0-9a-f-]{36})"')


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _started(response) -> str:
    return _STARTED.search(response.content.decode()).group(1)


def _cetr_answers(**changes) -> dict[str, str]:
    return {
        "relationship": "family",
        "requester_name": "Morgan Ward",
        "contact_by": "email",
        "requester_email": "morgan@example.com",
        "given_name": "Ellis",
        "family_name": "Ward",
        "date_of_birth_day": "1",
        "date_of_birth_month": "4",
        "date_of_birth_year": "2000",
        "local_authority": "not_known",
        "in_hospital": "no",
        "reason": "Things are getting harder at home.",
        "person_knows": "yes",
        "website": "",
    } | changes


# --- The signed time --------------------------------------------------------------------------


@override_settings(DSR_MIN_FILL_SECONDS=3)
def test_a_signed_time_is_too_fast_until_the_minimum_has_passed(frozen_now):
    shown = fill_time.stamp()

    frozen_now.shift(datetime.timedelta(seconds=2.9))
    early = fill_time.sent_too_fast(shown)
    frozen_now.shift(datetime.timedelta(seconds=0.2))
    late = fill_time.sent_too_fast(shown)

    assert (early, late) == (True, False)


@override_settings(DSR_MIN_FILL_SECONDS=3)
def test_a_time_dated_back_counts_from_the_time_it_names(frozen_now):
    a_minute_ago = datetime.datetime.now(datetime.UTC).timestamp() - 60

    shown = fill_time.stamp(at=a_minute_ago)

    assert fill_time.seconds_since(shown) == pytest.approx(60)
    assert fill_time.sent_too_fast(shown) is False


@override_settings(DSR_MIN_FILL_SECONDS=3)
def test_a_missing_forged_or_odd_time_counts_as_too_fast(frozen_now):
    an_hour_ago = signing.dumps(
        (datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)).timestamp(),
        salt="another.salt",
    )
    unsigned = str(datetime.datetime.now(datetime.UTC).timestamp() - 3600)
    not_a_number = signing.dumps("yesterday", salt=fill_time.SALT)
    frozen_now.shift(datetime.timedelta(minutes=5))

    for value in (None, "", an_hour_ago, unsigned, not_a_number, "x" * 5000, ["list"]):
        assert fill_time.sent_too_fast(value), value


@override_settings(DSR_MIN_FILL_SECONDS=0)
def test_zero_seconds_turns_the_check_off():
    assert fill_time.sent_too_fast(None) is False


# --- The referral check page ------------------------------------------------------------------


@override_settings(DSR_MIN_FILL_SECONDS=3)
def test_a_referral_sent_at_once_is_refused_with_a_message_and_nothing_written(
    client, areas, frozen_now
):
    walk(client, "self", answers_for("self", areas["north"].pk))
    page = client.get(reverse("referrals:check"))
    token = _TOKEN.search(page.content.decode()).group(1)

    frozen_now.shift(datetime.timedelta(seconds=1))
    response = submit(client, token, form_started=_started(page))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<h2 class="nhsuk-error-summary__heading">There is a problem</h2>' in html
    assert TOO_FAST in html
    assert Referral.objects.count() == 0
    # The page shown again carries a new time: sent after the minimum, it goes through.
    frozen_now.shift(datetime.timedelta(seconds=3))
    again = submit(client, token, form_started=_started(response))
    assert again["Location"] == reverse("referrals:confirmation")
    assert Referral.objects.count() == 1


@override_settings(DSR_MIN_FILL_SECONDS=3)
def test_a_referral_without_the_signed_time_is_refused(client, areas, frozen_now):
    walk(client, "self", answers_for("self", areas["north"].pk))
    token = token_from(client)
    frozen_now.shift(datetime.timedelta(minutes=2))

    forged = submit(client, token, form_started="1700000000")
    missing = submit(client, token)

    for response in (forged, missing):
        assert response.status_code == 200
        assert TOO_FAST in response.content.decode()
    assert Referral.objects.count() == 0


@override_settings(DSR_MIN_FILL_SECONDS=3)
def test_a_referral_sent_after_the_minimum_is_accepted(client, areas, frozen_now):
    walk(client, "self", answers_for("self", areas["north"].pk))
    page = client.get(reverse("referrals:check"))
    frozen_now.shift(datetime.timedelta(seconds=3))

    response = submit(
        client, _TOKEN.search(page.content.decode()).group(1), form_started=_started(page)
    )

    assert response["Location"] == reverse("referrals:confirmation")
    assert Referral.objects.count() == 1


# --- The C(E)TR request form ------------------------------------------------------------------


@override_settings(DSR_MIN_FILL_SECONDS=3)
def test_a_cetr_request_sent_at_once_is_refused_and_nothing_saved(client, areas, frozen_now):
    page = client.get(reverse("reviews:request-public"))
    fields = {
        "submission_token": _TOKEN.search(page.content.decode()).group(1),
        "form_started": _started(page),
    }

    quick = client.post(reverse("reviews:request-public"), _cetr_answers() | fields)

    assert quick.status_code == 200
    assert TOO_FAST in quick.content.decode()
    assert "There is a problem" in quick.content.decode()
    assert CetrRequest.objects.count() == 0
    frozen_now.shift(datetime.timedelta(seconds=4))
    slow = client.post(
        reverse("reviews:request-public"),
        _cetr_answers() | fields | {"form_started": _started(quick)},
    )
    assert slow["Location"] == reverse("reviews:request-confirmation")
    assert CetrRequest.objects.count() == 1
    record("C-5 public forms with a minimum fill time", 2)


# --- Rate limits per session ------------------------------------------------------------------


@override_settings(REFERRAL_POSTS_PER_HOUR=3)
def test_one_session_changing_address_is_still_limited(client, areas, frozen_now):
    answers = answers_for("self", areas["north"].pk)
    # The first answer saved makes the session; from then on the session is counted too.
    client.post(step_url("self", "about-you"), answers["about-you"], REMOTE_ADDR="198.51.100.1")
    statuses = [
        client.post(
            step_url("self", "about-you"), answers["about-you"], REMOTE_ADDR=f"198.51.100.{n}"
        ).status_code
        for n in range(2, 7)
    ]
    other_session = Client(REMOTE_ADDR="198.51.100.99").post(
        step_url("self", "about-you"), answers["about-you"]
    )

    assert statuses == [302, 302, 302, 429, 429]
    assert other_session.status_code == 302


@override_settings(CETR_REQUEST_POSTS_PER_HOUR=2)
def test_cetr_request_posts_are_limited_per_session_too(client, areas, frozen_now):
    client.get(reverse("reviews:request-public"))  # the session is made when the form is shown
    statuses = [
        client.post(
            reverse("reviews:request-public"), {"website": ""}, REMOTE_ADDR=f"203.0.113.{n}"
        ).status_code
        for n in range(1, 5)
    ]

    assert statuses == [200, 200, 429, 429]
    assert CetrRequest.objects.count() == 0
    record("C-5 rate limits counted per address and per session", "yes")
