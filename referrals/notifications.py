"""The messages referrals owe (STYLE point 8): each `notify_<event>` adds them to the outbox,
and `referral_context` gives the plain values their templates read at send time."""

from typing import Any

from django.conf import settings
from django.db.backends.utils import CursorWrapper
from django.urls import reverse
from django.utils import timezone

from dsr.models import Notification
from dsr.outbox import Sql, delivery, message, outbox_add, outbox_add_selected
from referrals.models import Referral, ReferralContact
from referrals.recipients import Recipient, not_told_yet, outcome_messages, outcome_recipients

SUBJECT = "referrals.referral"
# The messages to the person, their family and the referrer (the rest go to staff).
PUBLIC_KINDS = ("referral_received", "referral_outcome")

# What happens next, in the outcome's standard wording, unless staff write their own. The
# easy-read messages have their own words for it and add only what staff wrote.
OUTCOME_NEXT_STEPS = {
    Referral.Status.ADDED: (
        "The person is now on the dynamic support register. A member of the DSR team will "
        "contact them to explain what this means and to arrange their first review with the "
        "people who support them."
    ),
    Referral.Status.NOT_ELIGIBLE: (
        "The person is not being added to the register. You can ask us to look again if "
        "things change, and you can get help from the services listed above."
    ),
    Referral.Status.WITHDRAWN: (
        "The referral has been withdrawn, so we will take no further action. You can refer "
        "again at any time."
    ),
}


def reviewed_with(referral: Referral) -> str:
    """Who the review was held with, as recorded on it ("social care and education", "social
    care", "education" or ""): the outcome says only who took part."""
    return " and ".join(
        service
        for service, who in (
            ("social care", referral.social_care_participant),
            ("education", referral.education_participant),
        )
        if who.strip()
    )


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


def _to(
    referral: Referral,
    recipient: Recipient,
    *,
    kind: str,
    letter: bool,
    key: str = "",
    context: dict[str, Any],
) -> Notification:
    return message(
        subject_type=SUBJECT,
        subject_id=referral.pk,
        local_authority_id=referral.local_authority_id,
        kind=kind,
        recipient_key=key or recipient.key,
        recipient_name=recipient.name,
        recipient_role=recipient.role,
        letter=letter,
        email=recipient.email,
        postal_address=recipient.address,
        accessible_format=recipient.accessible_format,
        context={
            **context,
            "recipient_name": recipient.name,
            "to_the_person": recipient.is_person,
            # The person, when someone else referred them.
            "referred_by_other": recipient.is_person and not recipient.referred,
            # Whoever made the referral: a parent or carer, or a professional.
            "made_the_referral": not recipient.is_person and recipient.referred,
            # Someone the referral names to be told (a parent, carer or representative).
            "named_contact": not recipient.is_person and not recipient.referred,
        },
    )


def notify_referral_received(
    referral: Referral, *, contacts: list[ReferralContact] | None = None
) -> list[Notification]:
    """The acknowledgement, to everyone the outcome rule names who can be reached now
    (`outcome_recipients`): the reference, the day it arrived and the day a decision is due.
    Someone who cannot be reached yet is shown to staff on the referral page. A referral for
    someone who already has a live one (`duplicate_of`) is acknowledged only to people the first
    one's acknowledgement did not reach. `contacts`: the referral's contacts when the caller
    has just written them (not read again)."""
    context = {
        "reference": referral.reference,
        "person_first_name": referral.given_name,
        "received_on": f"{timezone.localdate(referral.received_at):%-d %B %Y}",
        "decision_due": f"{referral.decision_due:%-d %B %Y}",
        # Who referred, as they described themselves (job title or relationship), for the person
        # someone else referred.
        "referred_by": ", ".join(
            part for part in (referral.referrer_role, referral.referrer_organisation) if part
        ),
    }
    recipients = [
        recipient
        for recipient in not_told_yet(
            outcome_recipients(referral, contacts=contacts), _acknowledged(referral)
        )
        if recipient.reachable
    ]
    return outbox_add(
        [
            _to(
                referral,
                recipient,
                kind="referral_received",
                letter=recipient.channel == Notification.Channel.LETTER,
                context=context,
            )
            for recipient in recipients
        ]
        + _texts(
            referral,
            "referral_received",
            [(r, r.channel == Notification.Channel.LETTER) for r in recipients],
        )
    )


def _texts(referral: Referral, kind: str, sent: list[tuple[Recipient, bool]]) -> list[Notification]:
    """A text message to each recipient in `sent` (each with whether that message is a letter)
    who asked for them, saying only that we have written and how to reach the team: no outcome,
    no rating, no health details (templates/texts/). Text messages go only through a message
    provider (GOV.UK Notify: DSR_MESSAGES = "notify"); without one, none is written."""
    if delivery.provider() is None:
        return []
    ways: dict[str, tuple[Recipient, set[str]]] = {}
    for recipient, letter in sent:
        if recipient.texts_to:
            ways.setdefault(recipient.key, (recipient, set()))[1].add(
                "letter" if letter else "email"
            )
    return [
        message(
            subject_type=SUBJECT,
            subject_id=referral.pk,
            local_authority_id=referral.local_authority_id,
            kind=kind,
            recipient_key=f"{recipient.key}-text",
            recipient_name=recipient.name,
            recipient_role=recipient.role,
            text=True,
            phone=recipient.texts_to,
            context={"reference": referral.reference, "sent_by": sorted(how)},
        )
        for recipient, how in ways.values()
    ]


def _acknowledged(referral: Referral) -> set[str]:
    """Where the acknowledgement of the referral this one duplicates went."""
    if referral.duplicate_of_id is None:
        return set()
    rows = Notification.objects.filter(
        subject_type=SUBJECT, subject_id=referral.duplicate_of_id, kind="referral_received"
    ).values_list("email", "postal_address")
    return {where.strip().lower() for row in rows for where in row if where}


def notify_referral_outcome(referral: Referral, recipients: list[Recipient]) -> list[Notification]:
    """The decision's outcome, to each recipient the rule names (`referrals.recipients`), by
    email or letter as each prefers, with a letter giving the reasons where they cannot go in an
    email (`outcome_messages`)."""
    context = {
        "reference": referral.reference,
        "outcome": referral.status,
        "outcome_label": referral.get_status_display(),
        "person_first_name": referral.given_name,
        "next_steps": referral.next_steps,
        "next_steps_written": referral.next_steps != OUTCOME_NEXT_STEPS.get(referral.status),
        "reason": referral.ineligible_reason or referral.withdrawn_reason,
        "signposting": referral.signposting,
        "reviewed_with": reviewed_with(referral),
        "decided_on": timezone.localdate(referral.decided_at).isoformat(),
    }
    planned = outcome_messages(recipients, referral.status)
    return outbox_add(
        [
            _to(
                referral,
                planned_message.recipient,
                kind="referral_outcome",
                letter=planned_message.letter,
                key=planned_message.key,
                context={
                    **context,
                    # An email says whether a letter with the reasons is on its way to them.
                    "reasons_by_letter": planned_message.reasons_follow,
                },
            )
            for planned_message in planned
        ]
        + _texts(referral, "referral_outcome", [(m.recipient, m.letter) for m in planned])
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
