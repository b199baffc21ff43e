"""What reviews contribute to the register's pages (registered in ReviewsConfig.ready, so the
register never imports this app): required next steps, the person timeline, the person page's
and the dashboard's sections, header links, demo data and the values reminder messages need.

A person's timeline shows only that person's part of a meeting (their agenda item, their rating
and their actions), never another person's discussion.
"""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from dsr import deadlines
from dsr.caching import kept_for_a_while
from dsr.contributions import Contribution
from dsr.imports.parts import ImportPart
from dsr.models import RAG, AccessEvent, Person
from dsr.navigation import NavItem
from dsr.next_steps import NextStep, PersonState
from dsr.panels import Panel
from dsr.security.audit import access_log_people
from dsr.timeline import TimelineEvent, newest
from reviews.demo import seed_reviews
from reviews.models import (
    Action,
    ActionLink,
    ActionLinkUse,
    ActionTransition,
    AgendaItem,
    Cetr,
    CetrRequest,
    Meeting,
    OversightVisit,
    PanelMember,
)
from reviews.permissions import CHANGE, READ, SIT_ON_PANELS, packs_for
from reviews.queries import person_records


def _name(user: Any) -> str:
    return user.full_name if user is not None else ""


# --- Next steps --------------------------------------------------------------------------------


def review_steps(state: PersonState) -> tuple[list[NextStep], set[str]]:
    """C(E)TRs and visits satisfy the register's steps; planned C(E)TRs, due visits and
    overdue actions become steps. Reads the person's review records (reviews.queries)."""
    person, today, entry, admission = state.person, state.today, state.entry, state.admission
    records = person_records(person, today)
    cetrs = [c for c in records.cetrs if c.status != Cetr.Status.CANCELLED]
    steps: list[NextStep] = []
    satisfied: set[str] = set()
    # Rule 6: a community C(E)TR planned, or held since the person went Red.
    if entry.rating == RAG.RED and any(
        c.kind == Cetr.Kind.COMMUNITY
        and (c.is_planned or (c.held_on is not None and c.held_on >= entry.rating_since))
        for c in cetrs
    ):
        satisfied.add("community_cetr")
    if admission is not None:
        held = [
            c.held_on
            for c in cetrs
            if c.admission_id == admission.pk and c.status == Cetr.Status.COMPLETED
        ]
        if held:
            # Rules 7 and 8: once a C(E)TR is held in hospital, no post-admission one is owed,
            # and the next inpatient C(E)TR counts from it.
            satisfied.add("post_admission_cetr")
            state.cetr_dates["inpatient"] = max(held)
        if any(c.admission_id == admission.pk and c.is_planned for c in cetrs):
            # The planned C(E)TR below stands for the step it will satisfy.
            satisfied |= {"post_admission_cetr", "inpatient_cetr"}
        if person.out_of_area:
            # Visits are dated within their admission (reviews.services.visit_record), so the
            # open admission's latest visit is among the person's latest few.
            last = max(
                (v.visited_on for v in records.visits if v.admission_id == admission.pk),
                default=None,
            )
            due = deadlines.oversight_visit_due(
                last or admission.admitted_on, is_child=person.age(today) < 18
            )
            steps.append(
                NextStep(
                    "oversight_visit",
                    "Make the next oversight visit: the person is in hospital out of area.",
                    due,
                    due < today,
                )
            )
    for cetr in cetrs:
        if not cetr.is_planned:
            continue
        due = cetr.scheduled_on or cetr.due_on
        text = f"Hold the planned {cetr.get_kind_display().lower()} {cetr.name}."
        if cetr.kind == Cetr.Kind.COMMUNITY and admission is not None:
            # Admitted before it was held: it can no longer happen as planned.
            text = (
                f"Cancel the planned community {cetr.name}: the person is now in hospital. "
                f"Plan a post-admission or inpatient {cetr.name} instead."
            )
        steps.append(NextStep("cetr_planned", text, due, bool(due and due < today)))
    overdue = records.overdue_count
    if overdue:
        plural = "s" if overdue > 1 else ""
        steps.append(
            NextStep("overdue_actions", f"Chase {overdue} overdue action{plural}.", None, True)
        )
    return steps, satisfied


# --- The timeline -------------------------------------------------------------------------------


REQUESTERS = {
    CetrRequest.Relationship.SELF: "the person themselves",
    CetrRequest.Relationship.FAMILY: "a family member",
    CetrRequest.Relationship.CARER: "a carer",
    CetrRequest.Relationship.ADVOCATE: "an advocate",
    CetrRequest.Relationship.PROFESSIONAL: "a professional supporting them",
}


def review_events(person: Person, *, limit: int | None) -> Iterable[TimelineEvent]:
    """This person's discussions, actions, C(E)TRs, oversight visits and C(E)TR requests: only
    their own part of each meeting. The newest `limit + 1` of each kind (dsr.timeline), and
    every C(E)TR (they are few, and the page has read them already). Six queries."""
    discussions = AgendaItem.objects.filter(person=person, discussed_at__isnull=False)
    discussions = discussions.select_related("meeting", "discussed_by")
    # The order of the events' (on, at): the meeting's day in London, then the discussion's time.
    for item in newest(discussions, limit, TruncDate("meeting__held_at").desc(), "-discussed_at"):
        yield TimelineEvent(
            timezone.localdate(item.meeting.held_at),
            item.discussed_at,
            "meeting",
            f"Discussed at the {item.meeting.get_kind_display()}",
            item.discussion,
            by=_name(item.discussed_by),
        )
    actions = Action.objects.filter(person=person)
    agreed = actions.select_related("owner__organisation", "created_by")
    for action in newest(agreed, limit, "-created_at", "-id"):
        yield TimelineEvent(
            timezone.localdate(action.created_at),
            action.created_at,
            "action",
            f"Action agreed ({action.get_source_display().lower()}), due {action.due_on:%-d %B %Y}",
            f"{action.description} Owner: {action.owner_label}.",
            by=_name(action.created_by),
        )
    # Every move of an action's status is a row (reviews.services.transitions): done,
    # cancelled, reopened, each with who made it (a partner through their link, for one).
    moves = ActionTransition.objects.filter(action__person=person).select_related(
        "action", "by", "by_link"
    )
    for move in newest(moves, limit, "-at", "-id"):
        reopened = move.to_status == Action.Status.OPEN
        yield TimelineEvent(
            timezone.localdate(move.at),
            move.at,
            "action",
            "Action reopened"
            if reopened
            else f"Action {Action.Status(move.to_status).label.lower()}",
            f"{move.action.description} {move.reason}".strip(),
            by=_name(move.by)
            if move.by_id
            else move.by_link.used_by_label
            if move.by_link_id
            else "",
        )
    # What partners said through their links is in the way (their "done" is the close above).
    blocked = ActionLinkUse.objects.filter(
        link__action__person=person, kind=ActionLinkUse.Kind.BLOCKED
    ).select_related("link")
    for use in newest(blocked, limit, "-at", "-id"):
        yield TimelineEvent(
            timezone.localdate(use.at),
            use.at,
            "action",
            f"Something is in the way of action {use.link.action_id}",
            use.note,
            by=use.link.used_by_label,
        )
    for cetr in person_records(person).cetrs:
        label = f"{cetr.get_kind_display()} {cetr.name}"
        yield TimelineEvent(
            timezone.localdate(cetr.created_at),
            cetr.created_at,
            "cetr",
            f"{label} planned",
            f"Due {cetr.due_on:%-d %B %Y}." if cetr.due_on else "",
            by=_name(cetr.created_by),
        )
        if cetr.status == Cetr.Status.COMPLETED:
            yield TimelineEvent(
                cetr.held_on, cetr.updated_at, "cetr", f"{label} held", by=_name(cetr.completed_by)
            )
        elif cetr.status == Cetr.Status.CANCELLED:
            yield TimelineEvent(
                timezone.localdate(cetr.updated_at),
                cetr.updated_at,
                "cetr",
                f"{label} cancelled",
                cetr.cancelled_reason,
            )
    visits = OversightVisit.objects.filter(person=person).select_related("recorded_by")
    for visit in newest(visits, limit, "-visited_on", "-created_at", "-id"):
        concerns = " Concerns raised." if visit.concerns else ""
        yield TimelineEvent(
            visit.visited_on,
            visit.created_at,
            "visit",
            f"Oversight visit by {visit.visited_by}",
            f"{visit.findings}{concerns}",
            by=_name(visit.recorded_by),
        )
    requests = CetrRequest.objects.filter(person=person).select_related("triaged_by")
    for request in newest(requests, limit, "-received_at", "-id"):
        yield TimelineEvent(
            timezone.localdate(request.received_at),
            request.received_at,
            "cetr_request",
            f"C(E)TR requested ({request.reference}) by {REQUESTERS[request.relationship]}",
            request.decline_reason
            if request.status == CetrRequest.Status.DECLINED
            else request.get_status_display(),
            by=_name(request.triaged_by),
        )


# --- Messages ----------------------------------------------------------------------------------


def action_context(action_id: int) -> dict[str, Any]:
    """Due date and a link for an action reminder: no name, no description (emails carry no
    health details)."""
    action = Action.objects.get(pk=action_id)
    return {
        "due": f"{action.due_on:%-d %B %Y}",
        "has_account": action.owner_id is not None,
        "action_id": action.pk,
        "url": settings.SITE_URL + reverse("reviews:my-actions"),
        "action_url": settings.SITE_URL + action.get_absolute_url(),
    }


def action_link_context(link_id: int) -> dict[str, Any]:
    """What a partner's link email says, made when it is sent: the link, its expiry, the due
    date and the action's number; never the person or the action's detail. Raises
    RegisterError (the outbox then marks the message failed) once the link no longer works,
    so a withdrawn link's email is never sent."""
    from dsr.exceptions import RegisterError
    from reviews.services.links import action_link_token, expiry_of

    link = ActionLink.objects.select_related("action").get(pk=link_id)
    if link.state(timezone.now()) != ActionLink.Status.ACTIVE:
        raise RegisterError("The link no longer works.")
    token = action_link_token(link)
    url = reverse("reviews:action-link", kwargs={"token": token})
    return {
        "due": f"{link.action.due_on:%-d %B %Y}",
        "action_id": link.action_id,
        "url": settings.SITE_URL + url,
        "expires": expiry_of(link),
    }


DASHBOARD_LIST = 10


def person_reviews_panel(request: HttpRequest, person: Person, today: date) -> Panel:
    """The first open actions by due date, how many are closed (all of them one click away, on
    the person's actions page), C(E)TRs and the latest oversight visits, from the rows the page
    already read. Senior managers see the actions and C(E)TRs of the people they
    may see (ACCESS.md)."""
    records = person_records(person, today)
    return Panel(
        "reviews/includes/person_reviews.html",
        {
            "person": person,
            "open_actions": records.open_actions,
            "open_count": records.open_count,
            "open_more": records.open_count > len(records.open_actions),
            "closed_count": records.closed_count,
            "cetrs": records.cetrs,
            "visits": records.visits,
            "today": today,
            "can_change": request.user.has_perm(CHANGE),
            "can_read_cetrs": request.user.has_perm(READ),
            "user_id": request.user.pk,
        },
    )


def overdue_actions_count(user: Any, today: date) -> int:
    """Open actions past their due date in the user's scope. Counted over the whole register,
    so kept with the dashboard's other counts (the dashboard and the home page share it)."""
    return kept_for_a_while(
        "overdue actions",
        user,
        (today,),
        Action.objects.visible_to(user).overdue(today).count,
        settings.DSR_DASHBOARD_CACHE_SECONDS,
    )[0]


def home_actions_panel(request: HttpRequest, today: date) -> Panel | None:
    """For the register team's home page: how many actions are overdue (kept with the
    dashboard's count: at most one query)."""
    if not request.user.has_perm(READ):
        return None
    return Panel(
        "reviews/includes/home_actions.html",
        {"overdue_count": overdue_actions_count(request.user, today)},
        order=30,
    )


# The most C(E)TRs a panel member's home page lists (the rest are on "My panels").
HOME_SEATS = 10


def home_panels_panel(request: HttpRequest, today: date) -> Panel | None:
    """A panel member's C(E)TRs by date, next first (planned ones before those held): the
    person is named only once the pack is open to them (reviews.permissions.packs_for). Two
    queries, and one more for the access-log rows when anyone is named."""
    user = request.user
    if not user.has_perm(SIT_ON_PANELS):
        return None
    open_ids = set(packs_for(user, today).values_list("pk", flat=True))
    seats = list(
        PanelMember.objects.filter(user=user)
        .filter(Q(cetr__status=Cetr.Status.PLANNED) | Q(cetr_id__in=open_ids))
        .select_related("cetr__person")
        .order_by(
            Case(When(cetr__status=Cetr.Status.PLANNED, then=Value(0)), default=Value(1)),
            F("cetr__scheduled_on").asc(nulls_last=True),
            "cetr_id",
        )[:HOME_SEATS]
    )
    named = sorted({seat.cetr.person_id for seat in seats if seat.cetr_id in open_ids})
    if named:
        access_log_people(
            user=user,
            people_ids=named,
            action=AccessEvent.Action.LIST_REGISTER,
            path=request.path,
            detail={"page": "home panels"},
        )
    return Panel(
        "reviews/includes/home_panels.html",
        {"seats": [(seat, seat.cetr_id in open_ids) for seat in seats], "today": today},
        order=10,
    )


def dashboard_actions_panel(request: HttpRequest, today: date) -> Panel | None:
    """Overdue actions and the next meetings, for the register team: four queries, and one
    more for the access-log rows of the people named when any are."""
    if not request.user.has_perm(READ):
        return None
    overdue = Action.objects.visible_to(request.user).overdue(today)
    rows = list(
        overdue.select_related("person", "owner__organisation").order_by("due_on", "id")[
            :DASHBOARD_LIST
        ]
    )
    if rows:
        access_log_people(
            user=request.user,
            people_ids=sorted({action.person_id for action in rows}),
            action=AccessEvent.Action.LIST_REGISTER,
            path=request.path,
            detail={"page": "dashboard overdue actions"},
        )
    return Panel(
        "reviews/includes/dashboard_actions.html",
        {
            "overdue_count": overdue_actions_count(request.user, today),
            "overdue": rows,
            "meetings": list(
                Meeting.objects.visible_to(request.user)
                .filter(status=Meeting.Status.PLANNED, held_at__gte=timezone.now())
                .order_by("held_at", "id")[:3]
            ),
            "today": today,
        },
    )


# --- Bringing the last and next C(E)TR across from a register spreadsheet -------------------


def _cetrs_held(person_ids: list[int]) -> dict[int, set[str]]:
    """The days each person's completed C(E)TRs were held: a sheet's last C(E)TR on one of them
    is already on the register."""
    held: dict[int, set[str]] = {}
    rows = Cetr.objects.filter(person_id__in=person_ids, status=Cetr.Status.COMPLETED)
    for person_id, held_on in rows.values_list("person_id", "held_on"):
        held.setdefault(person_id, set()).add(held_on.isoformat())
    return held


def _cetr_import(*, person: Person, values: dict[str, Any], source: str, by: Any) -> Cetr:
    from reviews.services.cetrs import cetr_record_held

    next_due = values.get("next_due_on")
    return cetr_record_held(
        person=person,
        held_on=date.fromisoformat(values["held_on"]),
        next_due_on=date.fromisoformat(next_due) if next_due else None,
        source=source,
        by=by,
    )


CETR_IMPORT = ImportPart(key="cetr", model=Cetr, held=_cetrs_held, write=_cetr_import)


CONTRIBUTION = Contribution(
    timeline=review_events,
    next_steps=review_steps,
    person_panels=(person_reviews_panel,),
    dashboard_panels=(dashboard_actions_panel,),
    home_panels=(home_actions_panel, home_panels_panel),
    message_contexts={"reviews.action": action_context, "reviews.actionlink": action_link_context},
    navigation=(
        NavItem("Meetings", "reviews:meeting-list", ("dsr.view_register",), True, order=50),
        NavItem("C(E)TRs", "reviews:cetr-list", ("dsr.view_register",), True, order=60),
        NavItem(
            "C(E)TR requests", "reviews:request-list", ("dsr.manage_referrals",), True, order=70
        ),
        NavItem(
            "My actions",
            "reviews:my-actions",
            ("dsr.view_register", "dsr.view_escalation_queue"),
            order=110,
        ),
        NavItem("My panels", "reviews:my-panels", ("dsr.sit_on_panels",), order=120),
    ),
    demo=seed_reviews,
    import_parts=(CETR_IMPORT,),
)
