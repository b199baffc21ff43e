"""The outbox sending through GOV.UK Notify (DSR_MESSAGES = "notify"), against a small Notify
server written from its API documentation (tests/notify/server.py): what it is sent, which of
its errors are tried again, and no second copy after a worker dies (RELIABILITY G-1)."""

import socket
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from dsr.models import Notification
from dsr.outbox import delivery
from dsr.outbox.delivery import MAX_ATTEMPTS, claim_batch, deliver_due, release, render
from dsr.outbox.receipts import notification_resend
from tests import figures

pytestmark = pytest.mark.django_db


def _email(n: int = 1, **fields) -> Notification:
    values = {
        "subject_type": "tests.subject",
        "subject_id": n,
        "kind": "referral_received",
        "recipient_key": "referrer",
        "recipient_name": "Sam Jones",
        "channel": Notification.Channel.EMAIL,
        "email": f"sam{n}@example.org",
        "context": {"reference": f"DSR-{n:04d}", "person_first_name": "Alex"},
        **fields,
    }
    return Notification.objects.create(**values)


def _letter(n: int = 1) -> Notification:
    return _email(
        n,
        channel=Notification.Channel.LETTER,
        email="",
        postal_address="1 High Street\nNorwich\nNR1 2DH",
    )


def _due_now(notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk).update(scheduled_for=timezone.now())


def test_an_email_is_sent_through_notify_with_its_reference_and_recorded(notify):
    message = _email()
    rendered = render(message)

    assert deliver_due() == {"sent": 1}

    message.refresh_from_db()
    [accepted] = notify.notifications
    assert message.status == Notification.Status.SENT and message.sent_at
    assert message.provider_reference == accepted["id"]
    [request] = notify.sent("/v2/notifications/email")
    # The token was signed with the key's secret and names the service (checked by the server).
    assert request.claims["iss"] == notify.service_id
    assert request.body["reference"] == f"notification-{message.pk}"
    assert request.body["email_address"] == "sam1@example.org"
    # What Notify sends is what the service would have sent itself.
    assert accepted["subject"] == rendered.subject
    assert accepted["body"] == rendered.text
    assert "DSR-0001" in accepted["subject"]
    assert mail.outbox == []  # not also by the email backend


def test_without_notify_the_email_backend_sends_and_letters_wait_to_be_printed(settings):
    assert settings.DSR_MESSAGES == "django"
    email, letter = _email(), _letter(2)

    deliver_due()

    email.refresh_from_db(), letter.refresh_from_db()
    assert email.status == Notification.Status.SENT and email.provider_reference == ""
    assert mail.outbox[0].extra_headers["X-DSR-Reference"] == f"notification-{email.pk}"
    assert letter.status == Notification.Status.LETTER_READY


def test_a_reply_to_set_up_in_notify_is_named(notify, settings):
    settings.NOTIFY_EMAIL_REPLY_TO_ID = reply_to = str(uuid.uuid4())
    _email()
    deliver_due()
    assert notify.sent()[0].body["email_reply_to_id"] == reply_to


def test_a_letter_goes_to_notify_as_a_precompiled_pdf(notify):
    letter = _letter()

    assert deliver_due() == {"sent": 1}

    letter.refresh_from_db()
    [request] = notify.sent("/v2/notifications/letter")
    assert request.body["reference"] == f"notification-{letter.pk}"
    assert "template_id" not in request.body
    [accepted] = notify.notifications
    assert accepted["pdf"].startswith(b"%PDF")
    assert letter.provider_reference == accepted["id"]
    assert letter.status == Notification.Status.SENT  # Notify prints and posts it


@pytest.mark.parametrize("failure", ["rate_limit", "too_many", "server"])
def test_a_temporary_notify_error_is_tried_again_later(notify, failure):
    message = _email()
    notify.fail_next(failure)

    assert deliver_due() == {"pending": 1}

    message.refresh_from_db()
    assert message.attempts == 1
    assert message.scheduled_for > timezone.now() + timedelta(seconds=50)  # backoff
    assert failure != "server" or "500 Exception: Internal server error" in message.error
    assert notify.notifications == []

    _due_now(message)
    assert deliver_due() == {"sent": 1}
    message.refresh_from_db()
    assert message.status == Notification.Status.SENT and message.error == ""
    # Tried before, so looked up by its reference first; sent once.
    assert [r.method for r in notify.received] == ["POST", "GET", "POST"]
    assert len(notify.accepted(f"notification-{message.pk}")) == 1


def test_no_answer_from_notify_is_tried_again(notify, settings):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.NOTIFY_BASE_URL = f"http://127.0.0.1:{port}"  # nothing listens there
    message = _email()

    assert deliver_due() == {"pending": 1}
    message.refresh_from_db()
    assert message.attempts == 1 and "503" in message.error


def test_a_temporary_error_every_time_fails_the_message_in_the_end(notify):
    message = _email()
    for _ in range(MAX_ATTEMPTS):
        notify.fail_next("server", times=2)  # the look-up and the send
        _due_now(message)
        deliver_due()
    message.refresh_from_db()
    assert message.status == Notification.Status.FAILED
    assert message.attempts == MAX_ATTEMPTS


@pytest.mark.parametrize(
    ("failure", "shown"),
    [
        ("bad_request", "400 BadRequestError: Can't send to this recipient"),
        ("auth", "403 AuthError: Invalid token: API key not found"),
    ],
)
def test_notify_refusing_a_message_fails_it_with_the_reason_for_staff(
    notify, failure, shown, staff_client
):
    message = _email(local_authority=None)
    notify.fail_next(failure)

    assert deliver_due() == {"failed": 1}

    message.refresh_from_db()
    assert shown in message.error
    assert len(notify.received) == 1  # not tried again
    page = staff_client.get(reverse("dsr:outbox") + "?show=failed").content.decode()
    assert shown.replace("'", "&#x27;") in page


def test_a_token_signed_with_the_wrong_secret_is_refused(notify, settings):
    settings.NOTIFY_API_KEY = notify.api_key[:-36] + str(uuid.uuid4())
    message = _email()

    deliver_due()

    message.refresh_from_db()
    assert message.status == Notification.Status.FAILED
    assert "403 AuthError: Invalid token: signature" in message.error
    assert notify.notifications == []


def test_a_personalisation_notify_template_lacks_is_refused_by_the_server(notify, settings):
    """The small Notify refuses as Notify does: a template's placeholder left unfilled."""
    [template_id] = [settings.NOTIFY_TEMPLATES["referral_received"]]
    notify.templates[template_id].body += "\n((nhs_number))"
    message = _email()

    deliver_due()

    message.refresh_from_db()
    assert "400 BadRequestError: Missing personalisation: nhs_number" in message.error


class WorkerKilled(BaseException):
    """The worker dies (not an error the delivery code could catch)."""


def test_a_worker_killed_after_notify_accepted_is_reconciled_not_sent_twice(notify, monkeypatch):
    """Each message is accepted by Notify, then its worker dies before the row is recorded as
    sent (its claim goes stale: the advisory lock goes with the session). The next worker looks
    the reference up in Notify and records it as sent without sending it again."""
    messages = [_email(n) for n in range(1, 11)] + [_letter(n) for n in range(11, 13)]
    real_save = Notification.save

    def dies_on_recording(self, *args, **kwargs):
        if self.status == Notification.Status.SENT:
            raise WorkerKilled
        return real_save(self, *args, **kwargs)

    ids, claimed_at = claim_batch(len(messages))
    monkeypatch.setattr(Notification, "save", dies_on_recording)
    for pk in ids:
        with pytest.raises(WorkerKilled):
            delivery.deliver(pk, claimed_at)
    monkeypatch.setattr(Notification, "save", real_save)
    for pk in ids:
        release(pk)  # as the dead worker's database session ends
    assert Notification.objects.filter(status=Notification.Status.SENDING).count() == len(messages)
    assert len(notify.notifications) == len(messages)  # Notify has every one

    outcome = deliver_due()

    assert outcome == {"sent": len(messages)}
    references = [n["reference"] for n in notify.notifications]
    twice = len(references) - len(set(references))
    figures.record(
        "G-1 Notify duplicates after a crash simulated in process", f"{twice} of {len(messages)}"
    )
    assert twice == 0
    for message in messages:
        message.refresh_from_db()
        [accepted] = notify.accepted(f"notification-{message.pk}")
        assert message.provider_reference == accepted["id"]
        assert message.status == Notification.Status.SENT


def test_a_stale_claim_notify_never_accepted_is_sent(notify):
    message = _email()
    ids, _ = claim_batch(1)
    release(ids[0])  # the worker died before it reached Notify

    assert deliver_due() == {"sent": 1}
    assert [r.method for r in notify.received] == ["GET", "POST"]
    message.refresh_from_db()
    assert message.provider_reference == notify.notifications[0]["id"]


def test_the_notify_provider_is_chosen_only_by_the_setting(settings):
    assert "notify" in delivery._PROVIDERS
    assert settings.DSR_MESSAGES == "django"


def test_a_failed_message_staff_send_again_is_looked_up_first(notify, staff_user):
    """Notify accepted it but the answer never came, five times over: the message failed. When
    staff send it again, Notify is asked first, and it is not sent a second time."""
    message = _email()
    rendered = render(message)
    delivery._PROVIDERS["notify"].send(message, rendered)  # accepted, answer lost
    Notification.objects.filter(pk=message.pk).update(
        status=Notification.Status.FAILED, attempts=MAX_ATTEMPTS, error="ProviderUnavailable: 503"
    )
    message.refresh_from_db()

    notification_resend(notification=message, by=staff_user)
    assert deliver_due() == {"sent": 1}

    assert len(notify.accepted(f"notification-{message.pk}")) == 1
    message.refresh_from_db()
    assert message.provider_reference == notify.notifications[0]["id"]


@pytest.mark.django_db(transaction=True)
def test_notify_s_receipt_reaches_the_service_and_a_wrong_token_is_refused(
    notify, live_server, settings
):
    """End to end: a message sent through the small Notify, then its delivery receipt posted by
    that server to the service's callback route, as Notify posts it."""
    settings.NOTIFY_CALLBACK_TOKEN = "receipts-token-0123456789"
    message = _email()
    deliver_due()
    message.refresh_from_db()
    url = live_server.url + reverse("dsr:notify-receipts")

    refused = notify.send_callback(url, "wrong", message.provider_reference, "delivered")
    message.refresh_from_db()
    assert (refused, message.receipt) == (401, "")

    answered = notify.send_callback(
        url, "receipts-token-0123456789", message.provider_reference, "permanent-failure"
    )
    message.refresh_from_db()
    assert answered in (200, 204)
    assert message.receipt == Notification.Receipt.PERMANENT_FAILURE and message.receipt_at
