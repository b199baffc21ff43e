"""The outbox as staff see it: messages waiting, failed, not delivered, and letters to print and
post; and where GOV.UK Notify reports whether each message was delivered.

Every message is about someone, so only staff who handle referrals see it, in their areas
(NotificationQuerySet.visible_to); a message out of scope answers 404.
"""

import hmac
import json
import logging

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dsr.models import AccessEvent, Notification
from dsr.outbox.delivery import (
    notification_mark_posted,
    notification_resend,
)
from dsr.outbox.letters import LETTER_CSS, letter_html, letter_pdf  # noqa: F401  (re-exported)
from dsr.outbox.receipts import (
    NOT_DELIVERED,
    SEND_AGAIN,
    WHAT_TO_DO,
    ReceiptError,
    notification_send_again_not_delivered,
    receipt_apply,
    receipt_parse,
)
from dsr.security import ratelimit
from dsr.security.access import public, role_required
from dsr.security.audit import access_log_record
from dsr.security.scoping import get_object_for_user

logger = logging.getLogger(__name__)

MANAGE = "dsr.manage_referrals"
SHOWN = 100
# Each list: its title, which messages it holds and their order.
VIEWS = {
    "letters": (
        "Letters to print and post",
        Q(status=Notification.Status.LETTER_READY),
        ("created_at", "id"),
    ),
    "failed": (
        "Messages that could not be sent",
        Q(status=Notification.Status.FAILED),
        ("created_at", "id"),
    ),
    # Sent, but GOV.UK Notify reported they did not reach the person: for staff to act on.
    "not_delivered": (
        "Messages not delivered",
        Q(receipt__in=NOT_DELIVERED),
        ("-receipt_at", "-id"),
    ),
    "waiting": (
        "Messages waiting to be sent",
        Q(status__in=[Notification.Status.PENDING, Notification.Status.SENDING]),
        ("created_at", "id"),
    ),
}


KIND_LABELS = {
    "referral_received": "Referral acknowledgement",
    "referral_outcome": "Referral outcome",
    "cetr_request_received": "C(E)TR request acknowledgement",
    "cetr_request_arranged": "C(E)TR request: review arranged",
    "cetr_request_declined": "C(E)TR request: declined",
    "referral_day14": "Reminder: decision due in 14 days",
    "referral_day21": "Reminder: decision due in 7 days",
    "referral_day27": "Reminder: decision due tomorrow",
    "referral_breach": "Four-week deadline passed",
    "referral_received_easy_read": "Referral acknowledgement (easy read)",
    "referral_outcome_easy_read": "Referral outcome (easy read)",
    "account_invitation": "Account invitation",
    "password_reset": "Password reset",
    "dormant_accounts_disabled": "Dormant accounts switched off",
    "action_due": "Reminder: action due today",
    "action_due_soon": "Reminder: action due soon",
    "action_link": "Action owner's link",
    "action_blocked": "Action owner says something is in the way",
    "consent_review_due": "Reminder: consent review due",
    "rating_review_due": "Reminder: rating review due",
    "inadequate_hospital_admission": "Admission to a hospital rated inadequate",
    "escalation_raised": "Escalation raised",
    "escalation_level_up": "Escalation moved up a level",
    "escalation_digest": "Escalations digest",
}


def kind_label(kind: str) -> str:
    """What the outbox calls a kind of message: its label, or for a kind without one its name
    in words, with C(E)TR written as the service writes it."""
    if kind in KIND_LABELS:
        return KIND_LABELS[kind]
    words = kind.replace("_", " ").capitalize()
    return words.replace("Cetr ", "C(E)TR ").replace(" cetr ", " C(E)TR ")


@role_required(MANAGE)
def outbox(request: HttpRequest) -> HttpResponse:
    """One of the lists, with the number in each (two queries whatever the size)."""
    show = request.GET.get("show", "letters")
    if show not in VIEWS:
        show = "letters"
    title, wanted, order = VIEWS[show]
    visible = Notification.objects.visible_to(request.user)
    counts = visible.aggregate(
        **{key: Count("pk", filter=held) for key, (_, held, _) in VIEWS.items()}
    )
    rows = list(visible.filter(wanted).order_by(*order)[:SHOWN])
    tabs = [(key, label, counts[key], key == show) for key, (label, _, _) in VIEWS.items()]
    for row in rows:
        row.kind_label = kind_label(row.kind)
        row.what_to_do = WHAT_TO_DO.get(row.receipt, "")
        row.can_send_again = row.receipt in SEND_AGAIN and row.status == Notification.Status.SENT
    context = {"title": title, "rows": rows, "tabs": tabs, "show": show}
    return render(request, "dsr/outbox.html", context)


def _notification(request: HttpRequest, pk: int) -> Notification:
    return get_object_for_user(Notification.objects.all(), request.user, pk=pk)


@role_required(MANAGE)
@require_POST
def resend(request: HttpRequest, pk: int) -> HttpResponse:
    """Send again: a message that failed, or one Notify could not deliver for the moment."""
    notification = _notification(request, pk)
    if notification.receipt in SEND_AGAIN:
        if notification_send_again_not_delivered(notification=notification, by=request.user):
            messages.success(
                request, f"The message to {notification.recipient_name} will be sent again."
            )
        return redirect(reverse("dsr:outbox") + "?show=not_delivered")
    notification = notification_resend(notification=notification, by=request.user)
    messages.success(request, f"The message to {notification.recipient_name} will be sent again.")
    return redirect(reverse("dsr:outbox") + "?show=failed")


@role_required(MANAGE)
@require_POST
def mark_posted(request: HttpRequest, pk: int) -> HttpResponse:
    notification = notification_mark_posted(
        notification=_notification(request, pk), by=request.user
    )
    messages.success(request, f"The letter to {notification.recipient_name} is marked as posted.")
    return redirect(reverse("dsr:outbox") + "?show=letters")


@role_required(MANAGE)
def letter(request: HttpRequest, pk: int) -> HttpResponse:
    """The letter as a PDF to print: the message in its accessible format, with the address
    block for a window envelope. Logged as a read of the letter."""
    notification = _notification(request, pk)
    if notification.channel != Notification.Channel.LETTER:
        return redirect("dsr:outbox")
    access_log_record(
        user=request.user,
        action=AccessEvent.Action.VIEW_LETTER,
        path=request.path,
        detail={"notification": notification.pk},
    )
    pdf = letter_pdf(notification)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="letter-{notification.pk}.pdf"'
    return response


# A receipt is a few hundred bytes; anything much larger is not one.
RECEIPT_MAX_BYTES = 16 * 1024
# Receipts taken per hour from one address: Notify sends one per message, from a few addresses,
# so this is far above the service's own volume and only stops a flood.
RECEIPTS_PER_HOUR = 20_000


def _bearer_token_ok(request: HttpRequest) -> bool:
    expected = settings.NOTIFY_CALLBACK_TOKEN
    if not expected:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


# CSRF-exempt: GOV.UK Notify calls this machine to machine, with no browser and no session, so
# there is no CSRF cookie or token to send; the bearer token (checked above, in constant time)
# is what authenticates it, and a browser cannot be made to send it.
@csrf_exempt
@public
@never_cache
@require_POST
def notify_receipts(request: HttpRequest) -> HttpResponse:
    """GOV.UK Notify's delivery receipt callback: 204 once the receipt is recorded, or when it is
    about no message we hold or a status we do not record (so Notify does not send it again and
    again); 401 without the token, 400 for a body that is not a receipt."""
    if not ratelimit.hit(request, scope="notify-receipts", limit=RECEIPTS_PER_HOUR):
        response = HttpResponse(status=429)
        response["Retry-After"] = str(ratelimit.HOUR)
        return response
    if not _bearer_token_ok(request):
        logger.warning("notify receipt refused: no or wrong bearer token")
        return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > RECEIPT_MAX_BYTES:
        return HttpResponse(status=413)
    body = request.body
    if len(body) > RECEIPT_MAX_BYTES:
        return HttpResponse(status=413)
    try:
        receipt = receipt_parse(json.loads(body))
    except (ValueError, ReceiptError) as error:
        logger.info("notify receipt refused: not a receipt (%s)", type(error).__name__)
        return HttpResponse(status=400)
    receipt_apply(receipt)
    return HttpResponse(status=204)
