"""What referrals contribute to the register (dsr.contributions; registered in
ReferralsConfig.ready, so the register never imports this app), and the four-week breach it hands
to the escalation rules."""

from collections.abc import Iterable
from datetime import date, datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone

from dsr.contributions import Contribution
from dsr.models import Notification, Person, RetentionRun
from dsr.navigation import NavItem
from dsr.panels import Panel
from dsr.records import RetentionRule, records_remove, years_before
from dsr.timeline import TimelineEvent, newest
from escalation import triggers
from escalation.models import LIVE, Escalation
from referrals.demo import seed_referrals
from referrals.models import Referral
from referrals.notifications import PUBLIC_KINDS, SUBJECT, referral_context
from referrals.queries import (
    DUE_SOON_DAYS,
    RECENT_DAYS,
    own_referrals_summary,
    queue_work,
    start_url_for,
)
from referrals.sweeps import REFERRAL_OVERDUE


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


# The most messages the person page lists; the referral pages list them all.
MESSAGES_SHOWN = 20


def person_messages_panel(request: HttpRequest, person: Person, today: date) -> Panel | None:
    """ "Messages sent": the acknowledgements and outcomes of the person's referrals, newest
    first, with whether each was delivered, for staff who see the outbox (one query); nothing
    when there are none."""
    if not request.user.has_perm("dsr.manage_referrals"):
        return None
    messages = list(
        Notification.objects.visible_to(request.user)
        .filter(
            subject_type=SUBJECT,
            subject_id__in=Referral.objects.filter(person=person).values("pk"),
            kind__in=PUBLIC_KINDS,
        )
        .select_related("dealt_with_by")
        .order_by("-created_at", "-id")[: MESSAGES_SHOWN + 1]
    )
    if not messages:
        return None
    return Panel(
        "referrals/includes/person_messages.html",
        {"messages": messages[:MESSAGES_SHOWN], "more": len(messages) > MESSAGES_SHOWN},
    )


def home_panel(request: HttpRequest, today: date) -> Panel | None:
    """A professional referrer's referrals on their home page: how many are waiting, with a
    link to the list, and the way to start another (one query)."""
    user = request.user
    if not user.has_perm("dsr.view_own_referrals"):
        return None
    return Panel(
        "referrals/includes/home.html",
        {
            "summary": own_referrals_summary(user, today),
            "start_url": start_url_for(user),
            "recent_weeks": RECENT_DAYS // 7,
        },
    )


def staff_home_panel(request: HttpRequest, today: date) -> Panel | None:
    """For the register team, first on their home page: the referral nearest (or furthest
    past) its four-week deadline, by reference and days left, and how many are overdue and due
    this week (two queries)."""
    user = request.user
    if not user.has_perm("dsr.manage_referrals"):
        return None
    work = queue_work(user, today)
    days_left = work.days_left(today)
    return Panel(
        "referrals/includes/home_staff.html",
        {
            "work": work,
            "days_left": days_left,
            "days_past": -days_left if days_left is not None and days_left < 0 else 0,
            "due_soon_days": DUE_SOON_DAYS + 1,
        },
        order=10,
    )


def dashboard_panel(request: HttpRequest, today: date) -> Panel | None:
    """The referrals section of the register dashboard: the same counts and most urgent
    referral as the home page (two queries)."""
    if not request.user.has_perm("dsr.manage_referrals"):
        return None
    panel = staff_home_panel(request, today)
    return Panel("referrals/includes/dashboard.html", panel.context) if panel else None


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


CONTRIBUTION = Contribution(
    timeline=referral_events,
    message_contexts={SUBJECT: referral_context},
    retention_rules=(DECLINED_REFERRALS,),
    person_holds=(person_hold,),
    person_panels=(person_messages_panel,),
    home_panels=(home_panel, staff_home_panel),
    dashboard_panels=(dashboard_panel,),
    navigation=(
        NavItem("Referrals", "referrals:queue", ("dsr.manage_referrals",), True, order=40),
        NavItem("My referrals", "referrals:mine", ("dsr.view_own_referrals",), order=130),
    ),
    demo=seed_referrals,
)


def hand_over_to_escalation() -> None:
    """A referral past its four-week deadline is an escalation rule's trigger."""
    triggers.define(REFERRAL_OVERDUE)
