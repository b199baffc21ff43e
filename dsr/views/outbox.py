"""The outbox as staff see it: messages waiting, failed, and letters to print and post.

Every message is about someone, so only staff who handle referrals see it, in their areas
(NotificationQuerySet.visible_to); a message out of scope answers 404.
"""

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dsr.models import AccessEvent, Notification
from dsr.outbox.delivery import notification_mark_posted, notification_resend
from dsr.outbox.letters import LETTER_CSS, letter_html, letter_pdf  # noqa: F401  (re-exported)
from dsr.security.access import role_required
from dsr.security.audit import access_log_record
from dsr.security.scoping import get_object_for_user

logger = logging.getLogger(__name__)

MANAGE = "dsr.manage_referrals"
SHOWN = 100
VIEWS = {
    "letters": ("Letters to print and post", [Notification.Status.LETTER_READY]),
    "failed": ("Messages that could not be sent", [Notification.Status.FAILED]),
    "waiting": (
        "Messages waiting to be sent",
        [Notification.Status.PENDING, Notification.Status.SENDING],
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
}


@role_required(MANAGE)
def outbox(request: HttpRequest) -> HttpResponse:
    """One of the three lists, with the number in each (four queries whatever the size)."""
    show = request.GET.get("show", "letters")
    if show not in VIEWS:
        show = "letters"
    title, statuses = VIEWS[show]
    visible = Notification.objects.visible_to(request.user)
    counts = {key: visible.filter(status__in=wanted).count() for key, (_, wanted) in VIEWS.items()}
    rows = list(visible.filter(status__in=statuses).order_by("created_at", "id")[:SHOWN])
    tabs = [(key, label, counts[key], key == show) for key, (label, _) in VIEWS.items()]
    for row in rows:
        row.kind_label = KIND_LABELS.get(row.kind, row.kind.replace("_", " ").capitalize())
    context = {"title": title, "rows": rows, "tabs": tabs}
    return render(request, "dsr/outbox.html", context)


def _notification(request: HttpRequest, pk: int) -> Notification:
    return get_object_for_user(Notification.objects.all(), request.user, pk=pk)


@role_required(MANAGE)
@require_POST
def resend(request: HttpRequest, pk: int) -> HttpResponse:
    notification = notification_resend(notification=_notification(request, pk), by=request.user)
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
