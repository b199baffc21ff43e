"""What escalation contributes to the register (registered in EscalationConfig.ready, so the
register never imports this app): who may see a person, the person timeline, the staff
dashboard's panel, and the values escalation messages need."""

from collections.abc import Iterable
from datetime import date, timedelta
from statistics import median
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
    When,
    Window,
)
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from dsr.caching import kept_for_a_while
from dsr.contributions import Contribution
from dsr.models import RAG, AccessEvent, Person, RegisterEntry
from dsr.navigation import NavItem
from dsr.panels import Panel
from dsr.security.audit import access_log_people
from dsr.timeline import TimelineEvent, newest
from escalation import rules, settings_page
from escalation.demo import seed_escalations
from escalation.models import LIVE, Escalation, EscalationNote, EscalationTransition
from escalation.notifications import DIGEST_SUBJECT, digest_sent
from escalation.queries import acknowledgement_counts, awaiting_acknowledgement
from escalation.queue_order import queue_order_refresh

DASHBOARD_LIST = 10


def visibility(user: Any) -> Q | None:
    """Senior managers see anyone in their area rated Red or Amber or with an open escalation at
    their level or above; the executive lead, the people behind top-level ones (ACCESS.md)."""
    live = Escalation.objects.filter(person=OuterRef("pk"), status__in=LIVE)
    if user.has_perm("dsr.view_escalation_queue"):
        # Escalated to their level or above: lower levels are the DSR team's housekeeping.
        escalated = Q(Exists(live.filter(level__gte=max(rules.level_for(user), 1))))
        # And everyone rated Red or Amber, whom they work from their queues (DOMAIN section 8).
        red_or_amber = RegisterEntry.objects.filter(
            person=OuterRef("pk"),
            status=RegisterEntry.Status.OPEN,
            rating__in=[RAG.RED, RAG.AMBER],
        )
        return escalated | Q(Exists(red_or_amber))
    if user.has_perm("dsr.view_escalation_summary"):
        return Q(Exists(live.filter(level=rules.top_level())))
    return None


def _name(user: Any) -> str:
    return user.full_name if user is not None else ""


def escalation_events(person: Person, *, limit: int | None) -> Iterable[TimelineEvent]:
    """Each escalation's moves and notes: the newest `limit + 1` of each (dsr.timeline). Two
    queries."""
    transitions = EscalationTransition.objects.filter(escalation__person=person).select_related(
        "escalation", "by"
    )
    for move in newest(transitions, limit, "-at", "-id"):
        escalation = move.escalation
        label = escalation.get_reason_display()
        if not move.from_status:
            title = f"Escalated: {label} (level {move.to_level or escalation.level})"
        elif move.from_level != move.to_level:
            title = f"Escalation moved up to level {move.to_level}: {label}"
        else:
            title = f"Escalation {Escalation.Status(move.to_status).label.lower()}: {label}"
        yield TimelineEvent(
            timezone.localdate(move.at), move.at, "escalation", title, move.reason, _name(move.by)
        )
    notes = EscalationNote.objects.filter(escalation__person=person).select_related("by")
    for note in newest(notes, limit, "-at", "-id"):
        yield TimelineEvent(
            timezone.localdate(note.at),
            note.at,
            "escalation",
            "Escalation note",
            note.text,
            _name(note.by),
        )


def dashboard_panel(request: HttpRequest, today: date) -> Panel | None:
    """Open escalations by level and how many are past their acknowledgement deadline (one
    grouped query), and those waiting longest for acknowledgement (one query, and the access-log
    rows for the people named)."""
    if not request.user.has_perm("dsr.view_register"):
        return None
    counts = (
        Escalation.objects.visible_to(request.user)
        .live()
        .values("level")
        .annotate(
            total=Count("id"),
            waiting=Count("id", filter=Q(status=Escalation.Status.OPEN)),
            late=Count("id", filter=Q(status=Escalation.Status.OPEN, ack_due_on__lt=today)),
        )
        .order_by("level")
    )
    # Counted over every live escalation the user may see, so kept like the dashboard's other
    # counts, until an escalation next changes (per user: what they see depends on their role).
    rows, _ = kept_for_a_while(
        "dashboard-escalations",
        request.user,
        (request.user.pk, today),
        lambda: list(counts),
        settings.DSR_DASHBOARD_CACHE_SECONDS,
        following=("escalation",),
    )
    by_level = {row["level"]: row for row in rows}
    waiting = list(
        Escalation.objects.visible_to(request.user)
        .filter(status=Escalation.Status.OPEN)
        .select_related("person")
        .order_by("ack_due_on", "raised_at", "id")[:DASHBOARD_LIST]
    )
    people = sorted({e.person_id for e in waiting if e.person_id})
    if people:
        access_log_people(
            user=request.user,
            people_ids=people,
            action=AccessEvent.Action.LIST_REGISTER,
            path=request.path,
            detail={"page": "dashboard escalations"},
        )
    rows = [
        {
            "level": level,
            "name": rules.level_name(level),
            **by_level.get(level, {"total": 0, "waiting": 0, "late": 0}),
        }
        for level in range(1, rules.top_level() + 1)
    ]
    return Panel(
        "escalation/includes/dashboard.html", {"rows": rows, "waiting": waiting, "today": today}
    )


# The most escalations a senior manager's or the executive lead's home page lists.
HOME_LIST = 5
# The executive lead's time to acknowledge is over the last 90 days.
ACK_WINDOW_DAYS = 90


def _waiting_first(escalations: Any, request: HttpRequest) -> list[Escalation]:
    """The open escalations most urgent first: the oldest past its acknowledgement deadline,
    then the rest by deadline (one query, and the access-log rows for the people named)."""
    rows = list(
        escalations.filter(status=Escalation.Status.OPEN)
        .select_related("person", "local_authority")
        .order_by(F("ack_due_on").asc(nulls_last=True), "raised_at", "id")[:HOME_LIST]
    )
    people = sorted({e.person_id for e in rows if e.person_id})
    if people:
        access_log_people(
            user=request.user,
            people_ids=people,
            action=AccessEvent.Action.LIST_REGISTER,
            path=request.path,
            detail={"page": "home escalations"},
        )
    return rows


def manager_home_panel(request: HttpRequest, today: date) -> Panel | None:
    """A senior manager's queue on their home page: how many escalations at their level or
    above wait for acknowledgement and how many are past the deadline (one grouped query, kept
    until an escalation changes), and the most urgent few (one query)."""
    user = request.user
    if not user.has_perm("dsr.view_escalation_queue") or user.has_perm("dsr.view_register"):
        return None
    # The same count and list as the queue's (escalation.queries.awaiting_acknowledgement).
    counts, _ = kept_for_a_while(
        "home-escalations",
        user,
        (user.pk, today),
        lambda: acknowledgement_counts(user, today),
        settings.DSR_DASHBOARD_CACHE_SECONDS,
        following=("escalation",),
    )
    return Panel(
        "escalation/includes/home_manager.html",
        {
            **counts,
            "rows": _waiting_first(awaiting_acknowledgement(user), request),
            "today": today,
        },
        order=10,
    )


def executive_home_panel(request: HttpRequest, today: date) -> Panel | None:
    """The executive lead's home page: top-level escalations by area and reason (one grouped
    query), the time taken to acknowledge them over the last 90 days, from their transitions
    (one query), and the most urgent few waiting (one query)."""
    user = request.user
    if not user.has_perm("dsr.view_escalation_summary") or user.has_perm("dsr.view_register"):
        return None
    top = Escalation.objects.visible_to(user).filter(level=rules.top_level())
    live = top.live()
    reasons = dict(Escalation.Reason.choices)
    by_area = [
        {
            "area": row["local_authority__name"] or "Area not known yet",
            "reason": reasons.get(row["reason"], row["reason"]),
            "total": row["total"],
            "waiting": row["waiting"],
            "late": row["late"],
        }
        for row in live.values("local_authority__name", "reason")
        .annotate(
            total=Count("id"),
            waiting=Count("id", filter=Q(status=Escalation.Status.OPEN)),
            late=Count("id", filter=Q(status=Escalation.Status.OPEN, ack_due_on__lt=today)),
        )
        .order_by("-late", "-total", "local_authority__name", "reason")
    ]
    since = timezone.now() - timedelta(days=ACK_WINDOW_DAYS)
    # The median, not the mean: one escalation left for weeks should not hide that most are
    # acknowledged in a day. A few hundred rows at most in the window (one query).
    waits = sorted(
        EscalationTransition.objects.filter(
            escalation__in=top,
            to_status=Escalation.Status.ACKNOWLEDGED,
            at__gte=since,
        ).values_list(
            ExpressionWrapper(F("at") - F("escalation__raised_at"), DurationField()), flat=True
        )
    )
    return Panel(
        "escalation/includes/home_executive.html",
        {
            "by_area": by_area,
            "level": rules.top_level(),
            "level_name": rules.level_name(rules.top_level()),
            "acknowledged": len(waits),
            "median_days": (round(median(waits).total_seconds() / 86400, 1) if waits else None),
            "window_days": ACK_WINDOW_DAYS,
            "rows": _waiting_first(live, request),
            "today": today,
        },
        order=10,
    )


# The live escalations the person page lists at first; the rest are one click away.
ESCALATIONS_SHOWN = 5


def person_panel(request: HttpRequest, person: Person, today: date) -> Panel:
    """The person's live escalations, most urgent first as the acknowledge page orders them
    (past the deadline to acknowledge, then waiting, then acknowledged; the highest level and
    the oldest first): the first ESCALATIONS_SHOWN, with how many are live and how many late,
    or every one with `?escalations=all`. One query, whatever the number; and, for the register
    team, raising one."""
    late = Q(status=Escalation.Status.OPEN, ack_due_on__lt=today)
    rows = (
        Escalation.objects.visible_to(request.user)
        .live()
        .filter(person=person)
        .annotate(
            # Counted over every live one before the cut (no extra query).
            live_count=Window(Count("id")),
            late_count=Window(Count("id", filter=late)),
            urgency=Case(
                When(late, then=Value(0)),
                When(status=Escalation.Status.OPEN, then=Value(1)),
                default=Value(2),
            ),
        )
        .order_by("urgency", "-level", "raised_at", "id")
    )
    show_all = request.GET.get("escalations") == "all"
    escalations = list(rows if show_all else rows[:ESCALATIONS_SHOWN])
    count = escalations[0].live_count if escalations else 0
    return Panel(
        "escalation/includes/person.html",
        {
            "person": person,
            "escalations": escalations,
            "count": count,
            "late_count": escalations[0].late_count if escalations else 0,
            "more": count > len(escalations),
            "today": today,
            "can_raise": request.user.has_perm("dsr.change_register"),
        },
        topic="escalations",
    )


def escalation_context(escalation_id: int) -> dict[str, Any]:
    """The level and the deadline: never the person or the reason (emails carry no health
    details)."""
    escalation = Escalation.objects.get(pk=escalation_id)
    due = escalation.ack_due_on
    return {
        "level": escalation.level,
        "level_name": rules.level_name(escalation.level),
        "is_top": escalation.level >= rules.top_level(),
        "escalation_id": escalation.pk,
        "due": f"{due:%-d %B %Y}" if due else "",
        "url": settings.SITE_URL + reverse("escalation:detail", kwargs={"pk": escalation.pk}),
    }


CONTRIBUTION = Contribution(
    timeline=escalation_events,
    person_panels=(person_panel,),
    dashboard_panels=(dashboard_panel,),
    home_panels=(manager_home_panel, executive_home_panel),
    message_contexts={"escalation.escalation": escalation_context},
    message_sent={DIGEST_SUBJECT: digest_sent},
    navigation=(
        NavItem("Escalations", "escalation:queue", ("dsr.view_escalation_queue",), True, order=80),
        NavItem(
            "Escalation summary", "escalation:summary", ("dsr.view_escalation_summary",), order=90
        ),
    ),
    visibility=visibility,
    demo=seed_escalations,
    follows={"escalation": (Escalation,)},
    settings_sections=(settings_page.SECTION,),
    register_changed=queue_order_refresh,
)
