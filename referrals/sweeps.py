"""The four-week deadline sweep (DOMAIN rule 2): set-based reminders as a referral's decision
comes due, and at breach an escalation handed to the escalation rules."""

import logging
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from dsr.deadlines import referral_reminder_days
from escalation.sweeps import escalation_raise_rule
from escalation.triggers import Trigger
from referrals.models import Referral
from referrals.notifications import SUBJECT, notify_referral_reminders

logger = logging.getLogger(__name__)

# Reminder stages, by their names in dsr_reminder: the three reminders, then the breach.
STAGE_NAMES = ("day14", "day21", "day27", "breach")


def stages() -> list[tuple[str, int, int | None]]:
    """(stage, days before the decision is due, the next stage's days before), with the days the
    DSR lead set (dsr.deadlines.referral_reminder_days; by default 14, 7 and 1). A stage is due
    from its day until the next stage's day; a missed sweep never hides a breach, because the
    breach stage has no end and "overdue" is always worked out from the due date. The stages
    keep their names when the days change, so a reminder already sent is not sent again."""
    first, second, third = referral_reminder_days()
    return list(zip(STAGE_NAMES, (first, second, third, -1), (second, third, 0, None), strict=True))


_LIVE = "('received', 'under_review', 'more_info')"
_LIVE_REFERRAL = f"r.status IN {_LIVE} AND r.duplicate_of_id IS NULL"

# A referral past its four-week deadline (rule 2): handed over to the escalation rules by this
# sweep (ReferralsConfig.ready defines it), and resolved by them once the referral is decided.
REFERRAL_OVERDUE = Trigger(
    name="referral_overdue",
    trigger_type=SUBJECT,
    trigger="r.id",
    source=lambda today, days: (
        f"FROM referrals_referral r WHERE {_LIVE_REFERRAL} AND r.decision_due < %s",
        [today],
    ),
    holds=lambda: Q(
        Exists(
            Referral.objects.filter(
                pk=OuterRef("trigger_id"), status__in=["received", "under_review", "more_info"]
            )
        )
    ),
    cleared="the referral has been decided",
    swept=False,
    note="Raised by the four-week deadline sweep.",
    person="r.person_id",
    local_authority="r.local_authority_id",
)


def _stage_window(stage_from: int, stage_to: int | None, today: date) -> tuple[str, list]:
    """SQL for "the decision is due within this stage's window", with its parameters."""
    if stage_to is None:
        return "r.decision_due < %s", [today]
    return "r.decision_due <= %s AND r.decision_due > %s", [
        today + timedelta(days=stage_from),
        today + timedelta(days=stage_to),
    ]


def referral_deadline_sweep(*, today: date | None = None) -> dict[str, int]:
    """Insert, set-based, the reminders that have come due for live referrals, their outbox
    rows (the DSR team mailbox and the assigned reviewer), and at breach an escalation for the
    DSR lead, all in one transaction. Unique keys make a second run, or two at once, add
    nothing. Cost grows with batches of SQL, never with rows: no row is loaded into Python.
    Returns the rows inserted, by kind.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    counts = {"reminders": 0, "notifications": 0, "escalations": 0}
    live = _LIVE_REFERRAL
    base = f"FROM referrals_referral r WHERE {live}"
    with transaction.atomic(), connection.cursor() as cursor:
        for stage, stage_from, stage_to in stages():
            window, params = _stage_window(stage_from, stage_to, today)
            where = f"{base} AND {window}"
            cursor.execute(
                "INSERT INTO dsr_reminder (subject_type, subject_id, kind, stage, due_on,"
                " created_at) SELECT %s, r.id, 'referral_decision', %s, r.decision_due, %s "
                f"{where} ON CONFLICT (subject_type, subject_id, kind, stage) DO NOTHING",
                [SUBJECT, stage, now, *params],
            )
            counts["reminders"] += cursor.rowcount
            counts["notifications"] += notify_referral_reminders(
                cursor, stage=stage, live=live, window=window, params=params
            )
        # The breach is the escalation rules' to raise (REFERRAL_OVERDUE): their clocks start,
        # and their owners hear, at the next escalation ladder sweep.
        counts["escalations"] = escalation_raise_rule(cursor, rule="referral_overdue", today=today)
    logger.info("referral deadline sweep %s", counts)
    return counts
