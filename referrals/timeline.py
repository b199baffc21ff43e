"""Referrals on a person's timeline (registered with dsr.timeline in ReferralsConfig.ready)."""

from collections.abc import Iterable

from django.utils import timezone

from dsr.models import Notification, Person
from dsr.timeline import TimelineEvent, newest
from referrals.models import Referral


def referral_events(person: Person, *, limit: int | None) -> Iterable[TimelineEvent]:
    """Each referral linked to the person: when it arrived, what was decided and each outcome
    message with its status; the newest `limit + 1` of each (dsr.timeline). Three queries."""
    referrals = Referral.objects.filter(person=person)
    messages = newest(
        Notification.objects.filter(
            subject_type="referrals.referral",
            subject_id__in=referrals.values("pk"),
            kind="referral_outcome",
        ),
        limit,
        "-created_at",
        "-id",
    )
    for message in messages:
        yield TimelineEvent(
            timezone.localdate(message.created_at),
            message.created_at,
            "notification",
            f"Outcome {message.get_channel_display().lower()} to {message.recipient_name}",
            f"{message.recipient_role}: {message.get_status_display().lower()}.",
        )
    for referral in newest(referrals, limit, "-received_at", "-id"):
        yield TimelineEvent(
            timezone.localdate(referral.received_at),
            referral.received_at,
            "referral",
            f"Referral {referral.reference} received",
            f"From {referral.get_referrer_kind_display().lower()}, "
            f"{referral.get_source_display().lower()}.",
        )
    decided = referrals.filter(decided_at__isnull=False).select_related("decided_by")
    for referral in newest(decided, limit, "-decided_at", "-id"):
        yield TimelineEvent(
            timezone.localdate(referral.decided_at),
            referral.decided_at,
            "referral",
            f"Referral {referral.reference}: {referral.get_status_display().lower()}",
            referral.ineligible_reason or referral.withdrawn_reason,
            by=referral.decided_by.full_name if referral.decided_by else "",
        )
