"""The messages escalations owe (STYLE point 8): emails to the owners at an escalation's level,
and to oversight for an admission to a hospital rated inadequate. They carry counts, the level
and the deadline, never the person or the reason (emails carry no health details).

Owners are not sent a message per escalation: each working day, each owner with an escalation new
to them, or one at the top level past its deadline, gets one digest (`notify_escalation_digests`,
keyed on the owner and the day in the outbox, so two sweeps at once send one). A digest carries
the escalations new to its owner, and they are marked told only once it is sent
(`digest_sent`): one cancelled as out of date, or failed for good, leaves them new, for the next
digest to carry. Told at once, one message each: an escalation raised by hand, one about a person
rated Red when DSR_ESCALATION_RED_AT_ONCE is on, and everything when DSR_ESCALATION_DIGEST is off.
"""

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from dsr.deadlines import is_working_day
from dsr.models import Notification, User
from dsr.notifications import email_run_to_staff
from dsr.outbox import message, outbox_add
from dsr.outbox.delivery import DAILY_SUMMARY
from dsr.roles import Role
from escalation import rules
from escalation.models import Escalation
from escalation.queries import owners_for

SUBJECT = "escalation.escalation"
DIGEST_SUBJECT = "escalation.digest"
DIGEST_KIND = "escalation_digest"
# A digest's context key for the escalations it carries as new: [pk, level] pairs.
CARRIED = "carried"
# Two digest runs at once wait for each other (PostgreSQL), so the second sees the first's.
_DIGEST_LOCK = 7_310_001


def notify_escalation_owners(
    escalations: list[Escalation],
    kind: str,
    *,
    ratings: Mapping[int, str] | None = None,
    at_once: bool = False,
) -> int:
    """An email to each owner at each escalation's level, for the escalations told at once (see
    the module): the level and the deadline, never the person or the reason. The rest wait for
    the owners' digest. Those told are marked told at their level."""
    if rules.digest_on() and not at_once:
        red = rules.red_at_once()
        escalations = [e for e in escalations if red and (ratings or {}).get(e.person_id) == "RED"]
    owners = owners_for((e.local_authority_id, e.level) for e in escalations)
    told = [e for e in escalations if owners[(e.local_authority_id, e.level)]]
    if told:
        Escalation.objects.filter(pk__in=[e.pk for e in told]).update(told_level=F("level"))
    return len(
        outbox_add(
            (
                message(
                    subject_type=SUBJECT,
                    subject_id=escalation.pk,
                    local_authority_id=escalation.local_authority_id,
                    kind=kind,
                    recipient_key=f"user-{user.pk}-level-{escalation.level}",
                    recipient_name=user.full_name,
                    recipient_role=rules.level_name(escalation.level),
                    email=user.email,
                )
                for escalation in told
                for user in owners[(escalation.local_authority_id, escalation.level)]
            ),
            ignore_conflicts=True,
        )
    )


def digest_key(today: date) -> int:
    """The outbox subject id of a working day's digests: the day as a number (20260310)."""
    return int(f"{today:%Y%m%d}")


def notify_escalation_digests(today: date) -> int:
    """On a working day, one digest to each owner with an open escalation new to them (raised or
    moved up to their level since they were last told) or one at the top level past its
    deadline (a reminder each working day until it is acknowledged): how many are new, how many
    are past their deadline and how many wait in all at their levels and areas, and a link to
    their queue. An owner already sent today's digest gets no other today; what is new to them
    waits for the next. None is sent before DSR_ESCALATION_DIGEST_HOUR (London time). Returns
    how many digests were added."""
    if not is_working_day(today) or timezone.localtime().hour < rules.digest_hour():
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_DIGEST_LOCK])
    top = rules.top_level()
    open_ = Escalation.objects.filter(status=Escalation.Status.OPEN)
    new = list(
        open_.filter(Q(told_level__isnull=True) | Q(told_level__lt=F("level")))
        .select_for_update(skip_locked=True)
        .values_list("pk", "local_authority_id", "level")
    )
    counts = {
        (row["local_authority_id"], row["level"]): row
        for row in open_.values("local_authority_id", "level").annotate(
            waiting=Count("id"),
            overdue=Count("id", filter=Q(level=top, ack_due_on__lt=today)),
        )
    }
    new_by_pair: dict[tuple[int | None, int], list[int]] = defaultdict(list)
    for pk, area, level in new:
        new_by_pair[(area, level)].append(pk)
    owners = owners_for(counts)
    already = set(
        Notification.objects.filter(
            subject_type=DIGEST_SUBJECT, subject_id=digest_key(today), kind=DIGEST_KIND
        ).values_list("recipient_key", flat=True)
    )
    totals: dict[int, dict[str, int]] = defaultdict(lambda: {"new": 0, "overdue": 0, "waiting": 0})
    carried: dict[int, list[list[int]]] = defaultdict(list)
    users = {}
    for pair, row in counts.items():
        for user in owners[pair]:
            if f"user-{user.pk}" in already:
                continue
            users[user.pk] = user
            totals[user.pk]["new"] += len(new_by_pair.get(pair, []))
            totals[user.pk]["overdue"] += row["overdue"]
            totals[user.pk]["waiting"] += row["waiting"]
            carried[user.pk] += [[pk, pair[1]] for pk in new_by_pair.get(pair, [])]
    sent = [pk for pk, count in totals.items() if count["new"] or count["overdue"]]
    return len(
        outbox_add(
            (
                message(
                    subject_type=DIGEST_SUBJECT,
                    subject_id=digest_key(today),
                    kind=DIGEST_KIND,
                    recipient_key=f"user-{pk}",
                    recipient_name=users[pk].full_name,
                    recipient_role="Escalation owner",
                    email=users[pk].email,
                    # Sent on its day only, and only as the owner's latest (dsr.outbox.delivery).
                    context={
                        **totals[pk],
                        "url": _queue_url(users[pk]),
                        DAILY_SUMMARY: today.isoformat(),
                        # Marked told once this digest is sent (digest_sent).
                        CARRIED: carried[pk],
                    },
                )
                for pk in sent
            ),
            ignore_conflicts=True,
        )
    )


def digest_sent(notification: Notification) -> int:
    """A digest was sent (dsr.outbox.delivery): the escalations it carried as new are told at
    the level it told of them. One moved up since stays new at its new level; one told at a
    higher level since keeps it. Returns how many were marked told."""
    by_level: dict[int, list[int]] = defaultdict(list)
    for pk, level in notification.context.get(CARRIED, []):
        by_level[level].append(pk)
    return sum(
        Escalation.objects.filter(pk__in=pks)
        .filter(Q(told_level__isnull=True) | Q(told_level__lt=level))
        .update(told_level=level)
        for level, pks in by_level.items()
    )


def _queue_url(user) -> str:
    page = (
        "escalation:queue" if user.has_perm("dsr.view_escalation_queue") else "escalation:summary"
    )
    return settings.SITE_URL + reverse(page)


def notify_inadequate_hospital_admission(escalations: list[Escalation]) -> int:
    """DOMAIN rule 13: an admission to a hospital the CQC rates inadequate is notified to the
    ICB's chief executive, the NHS England region and the host commissioner: the addresses in
    `DSR_INADEQUATE_HOSPITAL_RECIPIENTS` ((name, email) pairs), one message each, no personal
    details in it."""
    recipients = getattr(settings, "DSR_INADEQUATE_HOSPITAL_RECIPIENTS", [])
    return len(
        outbox_add(
            (
                message(
                    subject_type=SUBJECT,
                    subject_id=escalation.pk,
                    local_authority_id=escalation.local_authority_id,
                    kind="inadequate_hospital_admission",
                    recipient_key=f"oversight-{number}",
                    recipient_name=name,
                    recipient_role="Oversight",
                    email=email,
                )
                for escalation in escalations
                for number, (name, email) in enumerate(recipients)
            ),
            ignore_conflicts=True,
        )
    )


QUEUE_CHECK_SUBJECT = "escalation.queuecheck"


def notify_queue_repaired(counts: Mapping[str, int], now: datetime) -> int:
    """One email to each active DSR lead: the escalation queue's order was found out of step
    with the records and repaired, with how many places were missing (and how many of those
    were people rated Red), extra or out of order. Counts only, no one named. The run is keyed
    by its London minute, so a rerun adds no copy."""
    leads = User.objects.filter(is_active=True, groups__name=Role.DSR_LEAD.label).order_by("id")
    context = {
        **counts,
        "count": counts["missing"] + counts["extra"] + counts["changed"],
        "url": settings.SITE_URL + reverse("escalation:queue"),
    }
    return email_run_to_staff(
        leads,
        subject_type=QUEUE_CHECK_SUBJECT,
        kind="escalation_queue_repaired",
        role="DSR lead",
        context=context,
        now=now,
    )
