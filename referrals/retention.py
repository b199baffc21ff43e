"""Referrals in the retention schedule (dsr.records), registered in ReferralsConfig.ready().

A declined or withdrawn referral is kept DSR_RETENTION_DECLINED_REFERRAL_YEARS after its
decision, then removed with everything about it. A referral about someone also keeps that
person's records while it is live, or for the period after it was received or decided.
"""

from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from dsr.models import RetentionRun
from dsr.records import RetentionRule, records_remove, years_before
from escalation.models import LIVE, Escalation
from referrals.models import Referral
from referrals.notifications import SUBJECT

DECLINED = (Referral.Status.NOT_ELIGIBLE, Referral.Status.WITHDRAWN)


def declined_referrals_remove(cutoff: datetime) -> dict[str, int]:
    """Remove referrals declined or withdrawn before `cutoff`, with their contacts, attachments
    (and files), transitions, history, messages, reminders and escalations."""
    # A referral that still has a live escalation (raised by the deadline sweep, maybe about
    # someone now on the register) waits until that escalation is resolved.
    live_escalation = Escalation.objects.filter(
        trigger_type=SUBJECT, trigger_id=OuterRef("pk"), status__in=LIVE
    )
    due = Referral.objects.filter(status__in=DECLINED, decided_at__lt=cutoff).exclude(
        Exists(live_escalation)
    )
    return records_remove(root="referrals.Referral", due=due)


def person_hold(cutoff: datetime) -> Q:
    """Keep a person while a referral about them is live, or was received or decided since
    `cutoff`."""
    recent = Referral.objects.filter(person=OuterRef("pk")).filter(
        Q(status__in=Referral.LIVE) | Q(received_at__gte=cutoff) | Q(decided_at__gte=cutoff)
    )
    return Q(Exists(recent))


DECLINED_REFERRALS = RetentionRule(
    kind=RetentionRun.Kind.DECLINED_REFERRALS,
    cutoff=lambda now: years_before(now, settings.DSR_RETENTION_DECLINED_REFERRAL_YEARS),
    apply=declined_referrals_remove,
)
