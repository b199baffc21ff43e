"""Sending through GOV.UK Notify (DSR_MESSAGES = "notify"), with its official Python client.

Email and text messages use the Notify template set for their kind (NOTIFY_TEMPLATES), whose
text is in notify/templates/: each takes the `subject` and `body` the service renders from its
own templates (templates/emails/, and templates/texts/ for a text message, which has only a
`body`), so the words, the easy-read versions and the team's contact details stay in one place.
Letters go as precompiled PDFs: the letter staff would print, laid out for Notify's printers
(docs/adr/0007-notify-letters.md).

Only Notify's temporary errors (429 too many requests, 500 its own fault, and no answer at all,
which the client reports as 503) are tried again; any other refusal fails the message with
Notify's reason for staff to see.
"""

from io import BytesIO
from typing import Any

from django.conf import settings
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from dsr.models import Notification
from dsr.outbox.delivery import ProviderRefused, ProviderUnavailable, Rendered, reference
from dsr.outbox.letters import letter_pdf

SMS_SUFFIX = "_sms"
# 503 is also what the client reports when no answer came (a connection error or time-out).
TEMPORARY = {429, 500, 502, 503, 504}


def client() -> NotificationsAPIClient:
    return NotificationsAPIClient(
        settings.NOTIFY_API_KEY, base_url=settings.NOTIFY_BASE_URL, timeout=settings.NOTIFY_TIMEOUT
    )


def personalisation(rendered: Rendered) -> dict[str, str]:
    """What each Notify template is filled with (notify/templates/)."""
    return {"subject": rendered.subject, "body": rendered.text}


def template_name(notification: Notification) -> str:
    """The name NOTIFY_TEMPLATES knows the message's Notify template by: its kind, and for a
    text message its kind and "_sms" (notify/templates/<name>.md)."""
    if notification.channel == Notification.Channel.SMS:
        return f"{notification.kind}{SMS_SUFFIX}"
    return notification.kind


def template_id(notification: Notification) -> str:
    name = template_name(notification)
    try:
        return settings.NOTIFY_TEMPLATES[name]
    except KeyError:
        raise ProviderRefused(
            f"No GOV.UK Notify template is set for {name} (NOTIFY_TEMPLATES)."
        ) from None


def _reason(exc: APIError) -> str:
    """Notify's errors as one line: "403 AuthError: Invalid token: API key not found"."""
    message = exc.message
    if isinstance(message, list):
        message = "; ".join(
            f"{error.get('error', '')}: {error.get('message', '')}"
            for error in message
            if isinstance(error, dict)
        )
    return f"GOV.UK Notify answered {exc.status_code} {message}"[:500]


def _call(method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return getattr(client(), method)(*args, **kwargs)
    except APIError as exc:
        if exc.status_code in TEMPORARY:
            raise ProviderUnavailable(_reason(exc)) from exc
        raise ProviderRefused(_reason(exc)) from exc


class Notify:
    """The provider dsr.outbox.delivery calls (registered in DsrConfig.ready)."""

    def send(self, notification: Notification, rendered: Rendered) -> str:
        if notification.channel == Notification.Channel.LETTER:
            pdf = letter_pdf(notification, for_notify=True)
            response = _call(
                "send_precompiled_letter_notification",
                reference=reference(notification),
                pdf_file=BytesIO(pdf),
            )
        elif notification.channel == Notification.Channel.SMS:
            response = _call(
                "send_sms_notification",
                phone_number=notification.phone,
                template_id=template_id(notification),
                personalisation={"body": rendered.text},
                reference=reference(notification),
            )
        else:
            response = _call(
                "send_email_notification",
                email_address=notification.email,
                template_id=template_id(notification),
                personalisation=personalisation(rendered),
                reference=reference(notification),
                email_reply_to_id=settings.NOTIFY_EMAIL_REPLY_TO_ID or None,
            )
        return str(response["id"])

    def status(self, notification: Notification) -> str:
        return str(_call("get_notification_by_id", notification.provider_reference)["status"])

    def find(self, notification: Notification) -> str | None:
        wanted = reference(notification)
        response = _call("get_all_notifications", reference=wanted)
        for found in response.get("notifications", []):
            if found.get("reference") == wanted:
                return str(found["id"])
        return None


def message_kinds() -> list[str]:
    """Every kind of message the service can send: each family of templates/emails/ (an
    easy-read version is the same kind, sent with the same Notify template)."""
    found = (settings.BASE_DIR / "templates" / "emails").glob("*.subject.txt")
    names = {path.name.removesuffix(".subject.txt") for path in found}
    return sorted(name for name in names if not name.endswith("_easy_read"))


def text_message_kinds() -> list[str]:
    """The kinds of message that also have a short text-message version (templates/texts/)."""
    found = (settings.BASE_DIR / "templates" / "texts").glob("*.txt")
    return sorted(path.stem for path in found)


def notify_template_names() -> list[str]:
    """Every Notify template the service sends with, by the name NOTIFY_TEMPLATES gives it: an
    email template per kind, and a text-message template per kind with a text version."""
    return sorted(message_kinds() + [f"{kind}{SMS_SUFFIX}" for kind in text_message_kinds()])
