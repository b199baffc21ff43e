"""GOV.UK Notify's delivery receipts: taken only with Notify's bearer token, recorded on the
message they are about, never letting an older receipt overwrite a newer one."""

import datetime
import json
import logging

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from dsr.models import Notification
from dsr.views import outbox as outbox_views

pytestmark = pytest.mark.django_db

TOKEN = "a-long-callback-token-0123456789"  # noqa: S105
NOTIFY_ID = "740e5834-3a29-46b4-9a6f-16142fde533a"
URL = "/notify/receipts/"


@pytest.fixture(autouse=True)
def _token(settings):
    settings.NOTIFY_CALLBACK_TOKEN = TOKEN
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def email():
    return Notification.objects.create(
        subject_type="referrals.referral",
        subject_id=1,
        kind="referral_received",
        recipient_key="referrer",
        recipient_name="Ada Lovelace",
        channel=Notification.Channel.EMAIL,
        email="ada@example.org",
        status=Notification.Status.SENT,
        sent_at=timezone.now(),
        provider_reference=NOTIFY_ID,
    )


def receipt(notification, status="delivered", completed_at="2026-12-06T10:00:00.000000Z", **more):
    return {
        "id": NOTIFY_ID,
        "reference": f"notification-{notification.pk}",
        "to": "ada@example.org",
        "status": status,
        "created_at": "2026-12-06T09:59:00.000000Z",
        "completed_at": completed_at,
        "sent_at": "2026-12-06T09:59:30.000000Z",
        "notification_type": "email",
        **more,
    }


def post(client, body, *, token=TOKEN, raw=None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    data = raw if raw is not None else json.dumps(body)
    return client.post(URL, data, content_type="application/json", headers=headers)


def state(notification):
    notification.refresh_from_db()
    return notification.receipt, notification.receipt_at


def test_the_route_is_the_named_one():
    assert reverse("dsr:notify-receipts") == URL


def test_a_receipt_is_recorded_on_its_message(client, email):
    response = post(client, receipt(email, "permanent-failure"))

    assert response.status_code == 204
    assert state(email) == (
        "permanent-failure",
        datetime.datetime(2026, 12, 6, 10, 0, tzinfo=datetime.UTC),
    )


def test_a_receipt_finds_its_message_by_our_reference_before_notifys_id_is_stored(client, email):
    Notification.objects.filter(pk=email.pk).update(provider_reference="")

    response = post(client, receipt(email, "delivered", id="another-id"))

    assert response.status_code == 204
    assert state(email)[0] == "delivered"


def test_the_same_receipt_twice_changes_nothing_and_an_older_one_never_overwrites_a_newer(
    client, email
):
    post(client, receipt(email, "delivered", completed_at="2026-12-06T10:00:00Z"))
    post(client, receipt(email, "delivered", completed_at="2026-12-06T10:00:00Z"))
    post(client, receipt(email, "temporary-failure", completed_at="2026-12-06T09:00:00Z"))
    assert state(email)[0] == "delivered"

    post(client, receipt(email, "permanent-failure", completed_at="2026-12-06T11:00:00Z"))
    assert state(email)[0] == "permanent-failure"


def test_a_returned_letter_callback_is_recorded(client, email):
    # The fields of Notify's returned-letter callback (its callbacks documentation).
    body = {
        "notification_id": NOTIFY_ID,
        "reference": f"notification-{email.pk}",
        "date_sent": "2026-11-08T12:00:00.000000Z",
        "sent_by": None,
        "template_name": "Outcome",
        "template_id": "f33517ff-2a88-4f6e-b855-c550268ce08a",
        "template_version": 1,
        "spreadsheet_file_name": None,
        "spreadsheet_row_number": None,
        "upload_letter_file_name": None,
    }

    assert post(client, body).status_code == 204
    assert state(email)[0] == "returned-letter"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-0123456789012"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer "},
    ],
)
def test_a_missing_or_wrong_token_is_refused_and_changes_nothing(client, email, headers):
    response = client.post(
        URL,
        json.dumps(receipt(email, "permanent-failure")),
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 401
    assert state(email) == ("", None)


def test_every_receipt_is_refused_while_no_token_is_set(client, email, settings):
    settings.NOTIFY_CALLBACK_TOKEN = ""

    assert post(client, receipt(email), token="").status_code == 401
    assert post(client, receipt(email), token="x").status_code == 401
    assert state(email) == ("", None)


def test_only_post_is_taken(client, email):
    headers = {"Authorization": f"Bearer {TOKEN}"}

    assert client.get(URL, headers=headers).status_code == 405
    assert client.put(URL, "{}", headers=headers).status_code == 405


def test_a_receipt_is_taken_without_a_csrf_token(email):
    from django.test import Client

    browserless = Client(enforce_csrf_checks=True)

    assert post(browserless, receipt(email)).status_code == 204
    assert state(email)[0] == "delivered"


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        "[]",
        json.dumps({"id": NOTIFY_ID}),
        json.dumps({"status": "delivered"}),
        json.dumps({"id": NOTIFY_ID, "status": "delivered", "completed_at": "yesterday"}),
        json.dumps({"id": 12, "status": "delivered"}),
        b"\xff\xfe",
    ],
)
def test_a_body_that_is_not_a_receipt_is_refused_with_400_and_changes_nothing(client, email, raw):
    assert post(client, None, raw=raw).status_code == 400
    assert state(email) == ("", None)


def test_a_body_too_large_to_be_a_receipt_is_refused(client, email):
    body = receipt(email, "delivered", padding="x" * outbox_views.RECEIPT_MAX_BYTES)

    assert post(client, body).status_code == 413
    assert state(email) == ("", None)


def test_a_receipt_for_no_message_we_hold_is_answered_204_and_changes_nothing(
    client, email, caplog
):
    """204, so Notify does not send it again and again; logged for us to look at."""
    body = receipt(email, "delivered", id="not-ours", reference="notification-999999999")

    with caplog.at_level(logging.WARNING, logger="dsr.outbox.receipts"):
        response = post(client, body)

    assert response.status_code == 204
    assert state(email) == ("", None)
    assert "no message we hold" in caplog.text


@pytest.mark.parametrize("status", ["sending", "created", "pending", "something-new"])
def test_a_status_that_is_not_a_final_one_is_logged_and_ignored(client, email, caplog, status):
    with caplog.at_level(logging.INFO, logger="dsr.outbox.receipts"):
        response = post(client, receipt(email, status))

    assert response.status_code == 204
    assert state(email) == ("", None)
    assert "not final or not known" in caplog.text


def test_receipts_past_the_hourly_limit_are_refused_with_429(client, email, monkeypatch):
    monkeypatch.setattr(outbox_views, "RECEIPTS_PER_HOUR", 2)

    answers = [post(client, receipt(email)).status_code for _ in range(3)]
    # A wrong token counts too, so guessing tokens is limited as well.
    refused = post(client, receipt(email), token="wrong")

    assert answers == [204, 204, 429]
    assert refused.status_code == 429
    assert answers and post(client, receipt(email)).headers["Retry-After"] == "3600"
