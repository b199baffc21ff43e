"""The messages referrals owe (STYLE point 8): each `notify_<event>` adds them to the outbox,
and `referral_context` gives the plain values their templates read at send time."""

from typing import Any

from django.conf import settings
from django.db.backends.utils import CursorWrapper
from django.urls import reverse
from django.utils import timezone

from dsr.models import Notification
from dsr.outbox import Sql, message, outbox_add, outbox_add_selected
from referrals.models import Referral
from referrals.recipients import Recipient

SUBJECT = "referrals.referral"


def referral_context(referral_id: int) -> dict[str, Any]:
    """Reference, dates and status for a staff reminder: no personal details."""
    referral = Referral.objects.select_related("assigned_to").get(pk=referral_id)
    return {
        "reference": referral.reference,
        "decision_due": f"{referral.decision_due:%-d %B %Y}",
        "status": referral.get_status_display().lower(),
        "assigned_to": referral.assigned_to.full_name if referral.assigned_to else "",
        "url": settings.SITE_URL + reverse("referrals:detail", kwargs={"pk": referral.pk}),
    }


def notify_referral_outcome(referral: Referral, recipients: list[Recipient]) -> list[Notification]:
    """The decision's outcome, one message to each recipient the rule names
    (`referrals.recipients`), by email or letter as each prefers."""
    context = {
        "reference": referral.reference,
        "outcome": referral.status,
        "outcome_label": referral.get_status_display(),
        "person_first_name": referral.given_name,
        "next_steps": referral.next_steps,
        "reason": referral.ineligible_reason or referral.withdrawn_reason,
        "signposting": referral.signposting,
        "decided_on": timezone.localdate(referral.decided_at).isoformat(),
    }
    return outbox_add(
        message(
            subject_type=SUBJECT,
            subject_id=referral.pk,
            local_authority_id=referral.local_authority_id,
            kind="referral_outcome",
            recipient_key=recipient.key,
            recipient_name=recipient.name,
            recipient_role=recipient.role,
            letter=recipient.channel == Notification.Channel.LETTER,
            email=recipient.email,
            postal_address=recipient.address,
            accessible_format=recipient.accessible_format,
            context={**context, "recipient_name": recipient.name},
        )
        for recipient in recipients
    )


def notify_referral_reminders(
    cursor: CursorWrapper, *, stage: str, live: str, window: str, params: list[Any]
) -> int:
    """A reminder at `stage` of the four-week clock for each live referral (`live`) whose
    decision is due in `window`: to the DSR team mailbox and to the assigned reviewer. Staff
    reminders carry the reference and the dates only: no personal details."""
    kind = f"referral_{stage}"
    team = outbox_add_selected(
        cursor,
        source=f"FROM referrals_referral r WHERE {live} AND {window}",
        params=params,
        subject_type=SUBJECT,
        subject_id=Sql("r.id"),
        local_authority_id=Sql("r.local_authority_id"),
        kind=kind,
        recipient_key="team",
        recipient_name="DSR team",
        recipient_role="DSR team",
        email=settings.DSR_TEAM_EMAIL,
    )
    reviewer = outbox_add_selected(
        cursor,
        source="FROM referrals_referral r JOIN dsr_user u ON u.id = r.assigned_to_id"
        f" WHERE {live} AND {window}",
        params=params,
        subject_type=SUBJECT,
        subject_id=Sql("r.id"),
        local_authority_id=Sql("r.local_authority_id"),
        kind=kind,
        recipient_key="reviewer",
        recipient_name=Sql("u.full_name"),
        recipient_role="Reviewer",
        email=Sql("u.email"),
    )
    return team + reviewer
