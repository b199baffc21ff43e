"""A letter's statuses from GOV.UK Notify (issue 20, item 3): Notify calls back only about emails
and text messages, so the service asks it how each letter it was sent is getting on, records the
final status, and lists a letter that was not printed, was cancelled or came back for staff to act
on. Statuses and bodies as Notify documents them (tests/notify/server.py)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.models import Notification
from dsr.outbox.delivery import deliver_due
from dsr.outbox.receipts import WHAT_TO_DO, letter_statuses_check
from dsr.tasks import check_letter_statuses_task
from tests.notify.test_delivery import _email, _letter

pytestmark = pytest.mark.django_db


def _sent_letter(notify, n: int = 1) -> Notification:
    letter = _letter(n)
    assert deliver_due() == {"sent": 1}
    letter.refresh_from_db()
    return letter


@pytest.mark.parametrize(
    ("status", "receipt", "not_delivered"),
    [
        ("received", Notification.Receipt.RECEIVED, False),
        ("cancelled", Notification.Receipt.CANCELLED, True),
        ("validation-failed", Notification.Receipt.VALIDATION_FAILED, True),
        ("virus-scan-failed", Notification.Receipt.VIRUS_SCAN_FAILED, True),
        ("permanent-failure", Notification.Receipt.NOT_PRINTED, True),
        ("technical-failure", Notification.Receipt.TECHNICAL_FAILURE, True),
    ],
)
def test_a_letter_s_final_status_is_asked_for_recorded_and_shown(
    notify, staff_client, status, receipt, not_delivered
):
    letter = _sent_letter(notify)
    notify.set_status(letter.provider_reference, status)

    assert letter_statuses_check() == {"applied": 1}

    letter.refresh_from_db()
    assert letter.receipt == receipt and letter.receipt_at
    [asked] = [r for r in notify.received if r.method == "GET"]
    assert asked.path == f"/v2/notifications/{letter.provider_reference}"
    page = staff_client.get(reverse("dsr:outbox") + "?show=not_delivered").text
    assert (receipt.label in page) == not_delivered
    if not_delivered:
        assert WHAT_TO_DO[receipt].replace("'", "&#x27;") in page
    # A final status is not asked for again.
    assert letter_statuses_check() == {}


def test_a_letter_still_on_its_way_is_asked_about_again_later(notify):
    letter = _sent_letter(notify)  # Notify: "pending-virus-check"

    assert letter_statuses_check() == {"unknown status": 1}
    notify.set_status(letter.provider_reference, "accepted")
    assert letter_statuses_check() == {"unknown status": 1}
    letter.refresh_from_db()
    assert letter.receipt == ""

    notify.set_status(letter.provider_reference, "received")
    assert check_letter_statuses_task() == {"applied": 1}
    letter.refresh_from_db()
    assert letter.receipt == Notification.Receipt.RECEIVED


def test_a_letter_notify_cannot_answer_for_is_asked_again_next_time(notify):
    letter = _sent_letter(notify)
    notify.fail_next("server")

    assert letter_statuses_check() == {"not answered": 1}
    notify.set_status(letter.provider_reference, "cancelled")
    assert letter_statuses_check() == {"applied": 1}
    letter.refresh_from_db()
    assert letter.receipt == Notification.Receipt.CANCELLED


def test_only_letters_of_the_last_week_are_asked_about(notify):
    letter = _sent_letter(notify)
    Notification.objects.filter(pk=letter.pk).update(sent_at=timezone.now() - timedelta(days=8))
    notify.set_status(letter.provider_reference, "received")

    assert letter_statuses_check() == {}
    assert [r for r in notify.received if r.method == "GET"] == []


def test_without_notify_no_letter_status_is_asked_for(settings):
    assert settings.DSR_MESSAGES == "django"
    Notification.objects.filter(pk=_letter().pk).update(
        status=Notification.Status.SENT, sent_at=timezone.now(), provider_reference="x"
    )
    assert letter_statuses_check() == {}


def test_an_email_s_permanent_failure_keeps_its_meaning(notify):
    """The same Notify status means a wrong address for an email, a printer fault for a letter."""
    from dsr.outbox.receipts import Receipt, receipt_apply

    letter = _sent_letter(notify, 1)
    email = _email(
        2,
        status=Notification.Status.SENT,
        sent_at=timezone.now(),
        provider_reference="email-id",
    )
    for message in (letter, email):
        receipt_apply(Receipt(message.provider_reference, "", "permanent-failure", timezone.now()))
        message.refresh_from_db()
    assert letter.receipt == Notification.Receipt.NOT_PRINTED
    assert email.receipt == Notification.Receipt.PERMANENT_FAILURE


@pytest.mark.django_db(transaction=True)
def test_notify_s_returned_letter_callback_is_applied_after_the_letter_was_posted(
    notify, live_server, settings
):
    """End to end: the letter is printed and posted (its status asked for), then, weeks later,
    the small Notify posts its returned-letter callback, whose only time is when the letter was
    sent: the letter is shown as returned, not left as posted."""
    settings.NOTIFY_CALLBACK_TOKEN = "receipts-token-0123456789"
    letter = _sent_letter(notify)
    notify.set_status(letter.provider_reference, "received")
    letter_statuses_check()
    url = live_server.url + reverse("dsr:notify-receipts")

    answered = notify.send_returned_letter_callback(
        url, "receipts-token-0123456789", letter.provider_reference
    )

    letter.refresh_from_db()
    assert answered in (200, 204)
    assert letter.receipt == Notification.Receipt.RETURNED_LETTER


def test_the_small_notify_sends_no_delivery_receipt_for_a_letter(notify):
    letter = _sent_letter(notify)
    with pytest.raises(ValueError, match="only for emails and text messages"):
        notify.send_callback("http://127.0.0.1:1/", "token", letter.provider_reference, "received")
