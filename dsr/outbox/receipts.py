"""Delivery receipts from GOV.UK Notify: what the provider last reported about a message.

Notify calls back (`dsr.views.outbox.notify_receipts`) each time an email or text message it was
handed reaches a final state. The body is JSON: `id` (Notify's id for the message, which delivery
stores in `Notification.provider_reference`), `reference` (ours, "notification-<pk>"), `to`,
`status`, `created_at`, `completed_at`, `sent_at`, `notification_type`, `template_id` and
`template_version`. A returned letter comes as Notify's returned-letter callback:
`notification_id`, `reference`, `date_sent` (when the letter was posted, weeks before it came
back), `sent_by`, `template_name`, `template_id`, `template_version` and the names of any uploaded
file, and no status. Notify does not call back with a letter's status, so `letter_statuses_check`
asks Notify for the status of each letter sent in the last week until it has a final one
(printed and posted, cancelled, failed validation or the virus check, or not printed).

A receipt is applied to the row in one conditional UPDATE, so it is idempotent and safe when two
arrive at once: the same receipt again changes nothing, and a receipt older than the one the row
holds never overwrites it (Notify does not promise to call back in order). A status that is not
a final delivery state (or that we do not know) is logged and ignored.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dsr.exceptions import RegisterError
from dsr.models import Notification

logger = logging.getLogger(__name__)

# Notify's status for an email or text message in a final state, and the receipt it stands for.
RECEIPTS = {
    "delivered": Notification.Receipt.DELIVERED,
    "permanent-failure": Notification.Receipt.PERMANENT_FAILURE,
    "temporary-failure": Notification.Receipt.TEMPORARY_FAILURE,
    "technical-failure": Notification.Receipt.TECHNICAL_FAILURE,
    "returned-letter": Notification.Receipt.RETURNED_LETTER,
}
# The same for a letter (Notify's letter and precompiled letter statuses; "accepted" and
# "pending-virus-check" are not final). A letter's "permanent-failure" means its printer could
# not print it, not a wrong address.
LETTER_RECEIPTS = {
    "received": Notification.Receipt.RECEIVED,
    "cancelled": Notification.Receipt.CANCELLED,
    "validation-failed": Notification.Receipt.VALIDATION_FAILED,
    "virus-scan-failed": Notification.Receipt.VIRUS_SCAN_FAILED,
    "permanent-failure": Notification.Receipt.NOT_PRINTED,
    "technical-failure": Notification.Receipt.TECHNICAL_FAILURE,
    "returned-letter": Notification.Receipt.RETURNED_LETTER,
}
# The receipts staff must act on: the message did not reach the person.
NOT_DELIVERED = [
    Notification.Receipt.PERMANENT_FAILURE,
    Notification.Receipt.TEMPORARY_FAILURE,
    Notification.Receipt.TECHNICAL_FAILURE,
    Notification.Receipt.RETURNED_LETTER,
    Notification.Receipt.CANCELLED,
    Notification.Receipt.VALIDATION_FAILED,
    Notification.Receipt.VIRUS_SCAN_FAILED,
    Notification.Receipt.NOT_PRINTED,
]
# A receipt after which Notify will report nothing more about the message (a letter that was
# printed and posted may still come back: its returned-letter callback is applied even so).
FINAL = [Notification.Receipt.DELIVERED, Notification.Receipt.RECEIVED, *NOT_DELIVERED]
# Those worth sending again as they are: the address was right, the moment was not.
SEND_AGAIN = [
    Notification.Receipt.TEMPORARY_FAILURE,
    Notification.Receipt.TECHNICAL_FAILURE,
]
# What staff do about each, shown beside it on the outbox.
WHAT_TO_DO = {
    Notification.Receipt.PERMANENT_FAILURE: (
        "Check the email address or phone number with the person or their referrer, and correct "
        "it on their record. Then contact them another way, such as by phone or by post."
    ),
    Notification.Receipt.TEMPORARY_FAILURE: (
        "Their inbox was full or their phone was off. Send it again in a day or two."
    ),
    Notification.Receipt.TECHNICAL_FAILURE: "A fault stopped the message. Send it again.",
    Notification.Receipt.RETURNED_LETTER: (
        "The letter came back. Check the postal address with the person or their referrer and "
        "correct it on their record, then print the letter and post it by hand to the right "
        "address."
    ),
    Notification.Receipt.CANCELLED: (
        "The letter was cancelled in GOV.UK Notify, so it was not posted. If it should still go, "
        "print it and post it by hand."
    ),
    Notification.Receipt.VALIDATION_FAILED: (
        "GOV.UK Notify could not print the letter as laid out. Print it and post it by hand, and "
        "tell the service's support team so the layout is put right."
    ),
    Notification.Receipt.VIRUS_SCAN_FAILED: (
        "GOV.UK Notify's virus check stopped the letter. Tell your IT security team, then print "
        "the letter and post it by hand."
    ),
    Notification.Receipt.NOT_PRINTED: (
        "GOV.UK Notify's printer could not print the letter. Print it and post it by hand."
    ),
}
OUR_REFERENCE = re.compile(r"notification-([1-9][0-9]{0,17})")


class ReceiptError(ValueError):
    """The body is not a receipt: the caller answers 400."""


@dataclass(frozen=True)
class Receipt:
    provider_id: str
    reference: str
    status: str
    at: datetime | None


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ReceiptError(f"{key} is not text")
    return value.strip()[:100]


def _when(body: dict[str, Any], *keys: str) -> datetime | None:
    """The first of `keys` that holds a time (Notify sends UTC without an offset)."""
    for key in keys:
        text = _text(body, key)
        if not text:
            continue
        try:
            when = parse_datetime(text)
        except ValueError:
            when = None
        if when is None:
            raise ReceiptError(f"{key} is not a time")
        if timezone.is_naive(when):
            when = timezone.make_aware(when, timezone.UTC)
        return when
    return None


def receipt_parse(body: Any) -> Receipt:
    """A receipt from a callback's decoded JSON (ReceiptError when it is not one)."""
    if not isinstance(body, dict):
        raise ReceiptError("the body is not an object")
    if "status" in body:
        receipt = Receipt(
            provider_id=_text(body, "id"),
            reference=_text(body, "reference"),
            status=_text(body, "status"),
            at=_when(body, "completed_at", "sent_at", "created_at"),
        )
    elif "notification_id" in body:
        # Notify's returned-letter callback. Its only time, `date_sent`, is when the letter was
        # posted, older than the status it had since; the letter came back now.
        _when(body, "date_sent")  # refused if it is not a time
        receipt = Receipt(
            provider_id=_text(body, "notification_id"),
            reference=_text(body, "reference"),
            status="returned-letter",
            at=timezone.now(),
        )
    else:
        raise ReceiptError("there is no status")
    if not (receipt.provider_id or receipt.reference):
        raise ReceiptError("there is no id or reference")
    return receipt


def _message(receipt: Receipt) -> tuple[int, str] | None:
    """Which message a receipt is about, and its channel: by Notify's id, else by our own
    reference (a receipt can come before the row has Notify's id stored)."""
    if receipt.provider_id:
        found = (
            Notification.objects.filter(provider_reference=receipt.provider_id)
            .values_list("pk", "channel")
            .first()
        )
        if found is not None:
            return found
    ours = OUR_REFERENCE.fullmatch(receipt.reference)
    if ours:
        return (
            Notification.objects.filter(pk=int(ours.group(1))).values_list("pk", "channel").first()
        )
    return None


def receipt_apply(receipt: Receipt) -> str:
    """Record `receipt` on its message. Returns what happened: "applied", "unchanged" (the same
    or an older receipt), "unknown status" or "no such message". Never raises for a receipt we
    cannot use, so Notify is not made to send it again and again."""
    known = receipt.status in RECEIPTS or receipt.status in LETTER_RECEIPTS
    found = _message(receipt) if known else None
    if known and found is None:
        logger.warning("notify receipt for no message we hold status=%s", receipt.status)
        return "no such message"
    pk, channel = found or (0, "")
    table = LETTER_RECEIPTS if channel == Notification.Channel.LETTER else RECEIPTS
    wanted = table.get(receipt.status)
    if wanted is None:
        logger.info(
            "notify receipt ignored: status not final or not known status=%s",
            receipt.status[:40],
        )
        return "unknown status"
    at = receipt.at or timezone.now()
    newer = Q(receipt_at__isnull=True) | Q(receipt_at__lt=at)
    updated = Notification.objects.filter(newer, pk=pk).update(receipt=wanted, receipt_at=at)
    if not updated:
        return "unchanged"
    logger.info("notify receipt applied notification=%s status=%s", pk, receipt.status)
    return "applied"


@transaction.atomic
def notification_resend(*, notification: Notification, by) -> bool:
    """Put a message back in the queue (staff's "send again"): one that failed, or one Notify
    could not deliver for the moment (a SEND_AGAIN receipt). The second's receipt is cleared, so
    it leaves the "not delivered" list, but its time is kept: a late copy of the old receipt is
    older, so it is not applied again. Returns False, changing nothing, for any other message."""
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    not_delivered = notification.receipt in SEND_AGAIN
    can = Notification.Status.SENT if not_delivered else Notification.Status.FAILED
    if notification.status != can:
        return False
    notification.status = Notification.Status.PENDING
    notification.attempts = 0
    notification.scheduled_for = timezone.now()
    changed = ["status", "attempts", "scheduled_for"]
    if not_delivered:
        notification.receipt = ""
        changed.append("receipt")
    notification.save(update_fields=changed)
    logger.info(
        "notification queued again notification=%s by=%s not_delivered=%s",
        notification.pk,
        by.pk,
        not_delivered,
    )
    return True


# How long after sending a letter its status is asked for: Notify's API shows a week of messages.
LETTER_STATUS_DAYS = 7


def letter_statuses_check(limit: int = 200) -> dict[str, int]:
    """Ask the provider (with DSR_MESSAGES = "notify") for the status of each letter it was sent
    in the last LETTER_STATUS_DAYS that has no final receipt yet, and apply each status as a
    receipt (Notify calls back only for emails and text messages). Returns a count of what
    happened, by `receipt_apply`'s answers, and "not answered" for a letter the provider could
    not be asked about now (it is asked again next time)."""
    from dsr.outbox.delivery import TRANSIENT, ProviderRefused, provider

    found = provider()
    if found is None:
        return {}
    since = timezone.now() - timedelta(days=LETTER_STATUS_DAYS)
    letters = (
        Notification.objects.filter(
            channel=Notification.Channel.LETTER,
            status=Notification.Status.SENT,
            sent_at__gte=since,
        )
        .exclude(provider_reference="")
        .exclude(receipt__in=FINAL)
        .order_by("sent_at", "id")[:limit]
    )
    outcome: dict[str, int] = {}
    for letter in letters:
        try:
            status = found.status(letter)
        except (*TRANSIENT, ProviderRefused):
            logger.warning("letter status not answered notification=%s", letter.pk)
            answer = "not answered"
        else:
            answer = receipt_apply(
                Receipt(
                    provider_id=letter.provider_reference,
                    reference=f"notification-{letter.pk}",
                    status=status,
                    at=timezone.now(),
                )
            )
        outcome[answer] = outcome.get(answer, 0) + 1
    return outcome


# The messages staff are asked to act on, until one of them marks it dealt with: those that
# could not be sent, and those GOV.UK Notify could not deliver.
TO_ACT_ON = (Q(status=Notification.Status.FAILED) | Q(receipt__in=NOT_DELIVERED)) & Q(
    dealt_with_at__isnull=True
)


@transaction.atomic
def notification_mark_dealt_with(*, notification: Notification, by, note: str = "") -> Notification:
    """Staff dealt with a message that failed or was not delivered another way (phoned the
    person, posted the letter by hand, corrected the address and sent a new one): record who,
    when and what they did, once, and take it off the lists to act on. Refused (RegisterError)
    for a message with nothing to act on, or one already dealt with."""
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    if notification.dealt_with_at is not None:
        raise RegisterError(
            f"{notification.dealt_with_by.full_name} already marked this message as dealt with "
            f"on {timezone.localtime(notification.dealt_with_at):%-d %B %Y at %H:%M}."
        )
    if not Notification.objects.filter(TO_ACT_ON, pk=notification.pk).exists():
        raise RegisterError("This message was sent and delivered: there is nothing to deal with.")
    notification.dealt_with_at = timezone.now()
    notification.dealt_with_by = by
    notification.dealt_with_note = note.strip()
    notification.save(update_fields=["dealt_with_at", "dealt_with_by", "dealt_with_note"])
    logger.info("notification marked dealt with notification=%s by=%s", notification.pk, by.pk)
    return notification
