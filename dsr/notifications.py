"""The messages the register owes (STYLE point 8): each `notify_<event>` adds them to the outbox
(`dsr.outbox`), which delivers them after commit (`dsr.outbox.delivery`)."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.backends.utils import CursorWrapper
from django.urls import reverse
from django.utils import timezone

from dsr.models import Consent, Invitation, PasswordResetRequest, RegisterEntry, User
from dsr.outbox import Sql, message, outbox_add, outbox_add_selected

INVITATION_SUBJECT = "dsr.invitation"
PASSWORD_RESET_SUBJECT = "dsr.passwordreset"  # noqa: S105  (an outbox subject, not a password)
DORMANT_SUBJECT = "dsr.dormantaccounts"


def notify_register_reminder(
    cursor: CursorWrapper, *, subject: str, kind: str, due: str, source: str, params: list[Any]
) -> int:
    """A reminder to the DSR team mailbox for each row (`s`, its person `p`) of `source`, one
    per due date (`due`, SQL), so every cycle of a cadence gets its own."""
    return outbox_add_selected(
        cursor,
        source=source,
        params=params,
        subject_type=subject,
        subject_id=Sql("s.id"),
        local_authority_id=Sql("p.local_authority_id"),
        kind=kind,
        recipient_key=Sql(f"'team-' || CAST({due} AS VARCHAR(20))"),
        recipient_name="DSR team",
        recipient_role="DSR team",
        email=settings.DSR_TEAM_EMAIL,
    )


def notify_invitation(invitation: Invitation) -> None:
    """The email for the invitation's latest send (one per send: the recipient key carries the
    send's number). The link is made at delivery (dsr.accounts.invitation_context)."""
    outbox_add(
        [
            message(
                subject_type=INVITATION_SUBJECT,
                subject_id=invitation.pk,
                kind="account_invitation",
                recipient_key=f"invitee-{invitation.sends}",
                recipient_name=invitation.full_name,
                recipient_role="Invited user",
                email=invitation.email,
            )
        ]
    )


def notify_password_reset(user: User, reset: PasswordResetRequest) -> None:
    """The reset email for one request (the unique outbox key: one message per request,
    whatever runs it). The link is made when it is sent, never stored."""
    outbox_add(
        [
            message(
                subject_type=PASSWORD_RESET_SUBJECT,
                subject_id=user.pk,
                kind="password_reset",
                recipient_key=f"request-{reset.pk}",
                recipient_name=user.full_name,
                recipient_role="Account holder",
                email=user.email,
            )
        ]
    )


def email_run_to_staff(
    users: Iterable[User],
    *,
    subject_type: str,
    kind: str,
    role: str,
    context: dict[str, Any],
    now: datetime,
) -> int:
    """One email about a job's run to each of `users` who has an email address, as `role`. The
    run is keyed by its London minute, so a rerun adds no copy. Returns the messages added."""
    run = int(f"{timezone.localtime(now):%Y%m%d%H%M}")
    return len(
        outbox_add(
            (
                message(
                    subject_type=subject_type,
                    subject_id=run,
                    kind=kind,
                    recipient_key=f"user-{user.pk}",
                    recipient_name=user.full_name,
                    recipient_role=role,
                    email=user.email,
                    context=context,
                )
                for user in users
                if user.email
            ),
            ignore_conflicts=True,
        )
    )


def notify_dormant_accounts_disabled(
    administrators: Iterable[User], context: dict[str, Any], now: datetime
) -> int:
    """One summary email to each administrator (a rerun within the minute adds no copy)."""
    return email_run_to_staff(
        administrators,
        subject_type=DORMANT_SUBJECT,
        kind="dormant_accounts_disabled",
        role="Administrator",
        context=context,
        now=now,
    )


# --- What the register's messages say, made at send time ----------------------------------------


def register_entry_context(entry_id: int) -> dict[str, Any]:
    entry = RegisterEntry.objects.get(pk=entry_id)
    due = entry.rating_review_due
    return {
        "due": f"{due:%-d %B %Y}" if due else "now",
        "url": settings.SITE_URL + reverse("dsr:person-detail", args=[entry.person_id]),
    }


def consent_context(consent_id: int) -> dict[str, Any]:
    consent = Consent.objects.get(pk=consent_id)
    return {
        "due": f"{consent.review_due:%-d %B %Y}",
        "url": settings.SITE_URL + reverse("dsr:person-detail", args=[consent.person_id]),
    }
