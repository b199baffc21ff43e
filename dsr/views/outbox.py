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
from django.views.decorators.http import require_http_methods, require_POST

from dsr.forms import DealtWithForm
from dsr.models import AccessEvent, Notification
from dsr.nhsuk.form_page import form_page
from dsr.outbox.delivery import notification_mark_posted
from dsr.outbox.letters import letter_pdf
from dsr.outbox.receipts import (
    NOT_DELIVERED,
    SEND_AGAIN,
    WHAT_TO_DO,
    ReceiptError,
    notification_mark_dealt_with,
    notification_resend,
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
        Q(status=Notification.Status.FAILED, dealt_with_at__isnull=True),
        ("created_at", "id"),
    ),
    # Sent, but GOV.UK Notify reported they did not reach the person: for staff to act on.
    "not_delivered": (
        "Messages not delivered",
        Q(receipt__in=NOT_DELIVERED, dealt_with_at__isnull=True),
        ("-receipt_at", "-id"),
    ),
    "waiting": (
        "Messages waiting to be sent",
        Q(status__in=[Notification.Status.PENDING, Notification.Status.SENDING]),
        ("created_at", "id"),
    ),
}


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
    show = "not_delivered" if notification.receipt in SEND_AGAIN else "failed"
    if notification_resend(notification=notification, by=request.user):
        messages.success(
            request, f"The message to {notification.recipient_name} will be sent again."
        )
    return redirect(reverse("dsr:outbox") + f"?show={show}")


@role_required(MANAGE)
@require_http_methods(["GET", "POST"])
def dealt_with(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a message that failed or was not delivered as dealt with another way, with what
    was done: it leaves the lists to act on (who and when are kept on the message)."""
    notification = _notification(request, pk)
    show = "failed" if notification.status == Notification.Status.FAILED else "not_delivered"
    back = reverse("dsr:outbox") + f"?show={show}"
    return form_page(
        request,
        form=DealtWithForm(request.POST if request.method == "POST" else None),
        title=f"Mark the message to {notification.recipient_name} as dealt with",
        intro="It will leave the list. Your name and the time are kept with the message.",
        button="Mark as dealt with",
        done=f"The message to {notification.recipient_name} is marked as dealt with.",
        act=lambda d: notification_mark_dealt_with(
            notification=notification, by=request.user, note=d["note"]
        ),
        back_url=back,
        back_label="Back to the outbox",
    )


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
