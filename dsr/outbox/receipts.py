"""Delivery receipts from GOV.UK Notify: what the provider last reported about a message.

Notify calls back (`dsr.views.outbox.notify_receipts`) each time a message it was handed reaches
a final state. The body is JSON: `id` (Notify's id for the message, which delivery stores in
`Notification.provider_reference`), `reference` (ours, "notification-<pk>"), `to`, `status`,
`created_at`, `completed_at`, `sent_at` and `notification_type`. A returned letter comes as
Notify's returned-letter callback: `notification_id`, `reference` and `created_at`, no status.

A receipt is applied to the row in one conditional UPDATE, so it is idempotent and safe when two
arrive at once: the same receipt again changes nothing, and a receipt older than the one the row
holds never overwrites it (Notify does not promise to call back in order). A status that is not
a final delivery state (or that we do not know) is logged and ignored.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dsr.models import Notification

logger = logging.getLogger(__name__)

# Notify's status for a message in a final state, and the receipt it stands for.
RECEIPTS = {
    "delivered": Notification.Receipt.DELIVERED,
    "permanent-failure": Notification.Receipt.PERMANENT_FAILURE,
    "temporary-failure": Notification.Receipt.TEMPORARY_FAILURE,
    "technical-failure": Notification.Receipt.TECHNICAL_FAILURE,
    "returned-letter": Notification.Receipt.RETURNED_LETTER,
}
# The receipts staff must act on: the message did not reach the person.
NOT_DELIVERED = [
    Notification.Receipt.PERMANENT_FAILURE,
    Notification.Receipt.TEMPORARY_FAILURE,
    Notification.Receipt.TECHNICAL_FAILURE,
    Notification.Receipt.RETURNED_LETTER,
]
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
        # Notify's returned-letter callback.
        receipt = Receipt(
            provider_id=_text(body, "notification_id"),
            reference=_text(body, "reference"),
            status="returned-letter",
            at=_when(body, "created_at"),
        )
    else:
        raise ReceiptError("there is no status")
    if not (receipt.provider_id or receipt.reference):
        raise ReceiptError("there is no id or reference")
    return receipt


def _message_id(receipt: Receipt) -> int | None:
    """Which message a receipt is about: by Notify's id, else by our own reference (a receipt
    can come before the row has Notify's id stored)."""
    if receipt.provider_id:
        found = (
            Notification.objects.filter(provider_reference=receipt.provider_id)
            .values_list("pk", flat=True)
            .first()
        )
        if found is not None:
            return found
    ours = OUR_REFERENCE.fullmatch(receipt.reference)
    if ours:
        return (
            Notification.objects.filter(pk=int(ours.group(1))).values_list("pk", flat=True).first()
        )
    return None


def receipt_apply(receipt: Receipt) -> str:
    """Record `receipt` on its message. Returns what happened: "applied", "unchanged" (the same
    or an older receipt), "unknown status" or "no such message". Never raises for a receipt we
    cannot use, so Notify is not made to send it again and again."""
    wanted = RECEIPTS.get(receipt.status)
    if wanted is None:
        logger.info(
            "notify receipt ignored: status not final or not known status=%s",
            receipt.status[:40],
        )
        return "unknown status"
    pk = _message_id(receipt)
    if pk is None:
        logger.warning("notify receipt for no message we hold status=%s", receipt.status)
        return "no such message"
    at = receipt.at or timezone.now()
    newer = Q(receipt_at__isnull=True) | Q(receipt_at__lt=at)
    updated = Notification.objects.filter(newer, pk=pk).update(receipt=wanted, receipt_at=at)
    if not updated:
        return "unchanged"
    logger.info("notify receipt applied notification=%s status=%s", pk, receipt.status)
    return "applied"


@transaction.atomic
def notification_send_again_not_delivered(*, notification: Notification, by) -> bool:
    """Put a message Notify could not deliver for the moment (SEND_AGAIN) back in the queue
    (staff's "send again"). Its receipt is cleared, so it leaves the "not delivered" list, but
    its time is kept: a late copy of the old receipt is older, so it is not applied again.
    Returns False, changing nothing, for any other message."""
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    if notification.status != Notification.Status.SENT or notification.receipt not in SEND_AGAIN:
        return False
    notification.status = Notification.Status.PENDING
    notification.attempts = 0
    notification.scheduled_for = timezone.now()
    notification.receipt = ""
    notification.save(update_fields=["status", "attempts", "scheduled_for", "receipt"])
    logger.info(
        "notification queued again after no delivery notification=%s by=%s", notification.pk, by.pk
    )
    return True
