"""Letters as PDF: the message in its accessible format, with the address block for a window
envelope. Staff download it to print and post (dsr.views.outbox); with GOV.UK Notify the same
PDF is sent as a precompiled letter (dsr.outbox.notify), with NOTIFY_LETTER_CSS placing the
address where Notify's letter specification asks (docs/adr/0007-notify-letters.md)."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from dsr.models import Notification
from dsr.outbox.delivery import render, template_and_context

LETTER_CSS = settings.BASE_DIR / "static" / "css" / "letter.css"
NOTIFY_LETTER_CSS = settings.BASE_DIR / "static" / "css" / "letter-notify.css"
EASY_READ_PICTURES = settings.BASE_DIR / "static" / "easy-read"


def letter_html(notification: Notification) -> str:
    """The HTML a letter is printed from: the message in its accessible format, with the
    address block for a window envelope."""
    family, message_context = template_and_context(notification)
    return render_to_string(
        "letters/letter.html",
        {
            **message_context,
            "notification": notification,
            "body_template": f"{family}.body.html",
            "subject": render(notification).subject,
            "today": timezone.localdate(),
            "icb_name": settings.ICB_NAME,
            "large_print": notification.accessible_format == Notification.Format.LARGE_PRINT,
            "easy_read": notification.accessible_format == Notification.Format.EASY_READ,
            # An easy-read letter prints its pictures (dsr/templatetags/easy_read.py).
            "picture_base": EASY_READ_PICTURES.as_uri(),
        },
    )


def letter_pdf(notification: Notification, *, for_notify: bool = False) -> bytes:
    """The letter as a PDF: to print, or (`for_notify`) laid out for Notify to print and post."""
    from weasyprint import CSS, HTML

    sheets = [CSS(filename=str(LETTER_CSS))]
    if for_notify:
        sheets.append(CSS(filename=str(NOTIFY_LETTER_CSS)))
    return HTML(string=letter_html(notification)).write_pdf(stylesheets=sheets)
