"""Sending through GOV.UK Notify (DSR_MESSAGES = "notify"), with its official Python client.

Email uses the Notify template set for its kind (NOTIFY_TEMPLATES), whose
text is in notify/templates/: each takes the `subject` and `body` the service renders from its
own templates (templates/emails/), so the words, the easy-read versions and the team's contact
details stay in one place. Letters go as precompiled PDFs: the letter staff would print, laid out
for Notify's printers (docs/adr/0007-notify-letters.md).

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

# 503 is also what the client reports when no answer came (a connection error or time-out).
TEMPORARY = {429, 500, 502, 503, 504}


def client() -> NotificationsAPIClient:
    return NotificationsAPIClient(
        settings.NOTIFY_API_KEY, base_url=settings.NOTIFY_BASE_URL, timeout=settings.NOTIFY_TIMEOUT
    )


def personalisation(rendered: Rendered) -> dict[str, str]:
    """What each Notify template is filled with (notify/templates/)."""
    return {"subject": rendered.subject, "body": rendered.text}


def template_id(notification: Notification) -> str:
    try:
        return settings.NOTIFY_TEMPLATES[notification.kind]
    except KeyError:
        raise ProviderRefused(
            f"No GOV.UK Notify template is set for {notification.kind} (NOTIFY_TEMPLATES)."
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
        elif notification.channel != Notification.Channel.EMAIL:
            # No kind of message has a text-message version yet (an email's text is too long).
            raise ProviderRefused(
                f"A {notification.get_channel_display().lower()} cannot be sent through GOV.UK"
                " Notify yet."
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
