"""Meeting pages: the register team plans meetings, keeps the agenda and attendees, records each
person's discussion and the actions agreed, closes the meeting and prints the minutes.

Reading needs dsr.view_register and changing dsr.change_register (403 otherwise); a meeting is
fetched only through `get_meeting_for_user` (404 out of scope), and a meeting page lists only
the people the user may see. Reading a person's discussion, or the minutes, writes an
access-log row per person shown.
"""

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dsr.exceptions import RegisterError
from dsr.forms import ConfirmForm
from dsr.models import RAG, AccessEvent, Person, User
from dsr.nhsuk.edits import EditGuard, model_form_writes
from dsr.nhsuk.form_page import form_page
from dsr.panels import person_panels
from dsr.queries import get_person_for_user, local_authorities_for
from dsr.security.access import role_required
from dsr.security.audit import access_log_people
from reviews import services
from reviews.forms import staff as forms
from reviews.models import Agency, AgendaItem, Attendee, Meeting
from reviews.permissions import CHANGE, READ
from reviews.queries import (
    discussion_page,
    get_meeting_for_user,
    identical_open_actions,
    last_attendees,
    meeting_page,
    meetings_for,
    next_planned_meeting,
    not_discussed,
    same_day_meetings,
)


def register_team(user: User) -> Any:
    """Active users of the user's organisation who work on the register: chairs."""
    return (
        User.objects.filter(
            is_active=True,
            organisation_id=user.organisation_id,
            groups__permissions__codename="change_register",
        )
        .distinct()
        .order_by("full_name")
    )


def action_owners(person: Person) -> Any:
    """Active users who may see the person's record, and so may own an action with an account:
    the register team covering their area, and its senior managers while the person is rated
    Red or Amber (ACCESS.md)."""
    codenames = ["view_register"]
    if person.register_entries.filter(status="open", rating__in=[RAG.RED, RAG.AMBER]).exists():
        codenames.append("view_escalation_queue")
    return (
        User.objects.filter(
            is_active=True,
            organisation__local_authorities=person.local_authority_id,
            groups__permissions__codename__in=codenames,
        )
        .select_related("organisation")
        .distinct()
        .order_by("full_name")
    )


def _item(request: HttpRequest, pk: int, item_pk: int) -> AgendaItem:
    meeting = get_meeting_for_user(request.user, pk)
    item = get_object_or_404(
        AgendaItem.objects.select_related("person", "discussed_by"), pk=item_pk, meeting=meeting
    )
    # The agenda may hold people of other areas (a meeting for every area): check this one.
    get_person_for_user(request.user, item.person_id)
    item.meeting = meeting
    return item


@require_GET
@role_required(READ)
def meeting_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "upcoming": meetings_for(request.user, upcoming=True, today=today),
        "past": meetings_for(request.user, upcoming=False, today=today),
        "can_change": request.user.has_perm(CHANGE),
    }
    return render(request, "reviews/meeting_list.html", context)


def _meeting_form(request: HttpRequest, meeting: Meeting | None = None) -> forms.MeetingForm:
    initial = {}
    if meeting is not None:
        local = timezone.localtime(meeting.held_at)
        initial = {
            "kind": meeting.kind,
            "day": local.date(),
            "time": f"{local:%H:%M}",
            "location": meeting.location,
            "local_authority": meeting.local_authority_id,
            "chair": meeting.chair_id,
            "notes": meeting.notes,
        }
    return forms.MeetingForm(
        request.POST or None,
        initial=initial or {"chair": request.user.pk},
        local_authorities=local_authorities_for(request.user),
        chairs=register_team(request.user),
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def meeting_create(request: HttpRequest) -> HttpResponse:
    form = _meeting_form(request)
    return form_page(
        request,
        form=form,
        title="Plan a meeting",
        intro="The agenda is drawn from the register when you save: everyone rated red, amber "
        "people due a review, people in hospital with a C(E)TR or visit due, and anyone with "
        "overdue actions.",
        act=lambda d: services.meeting_create(
            kind=d["kind"],
            held_at=d["held_at"],
            chair=d["chair"],
            local_authority=d["local_authority"],
            location=d["location"],
            notes=d["notes"],
            by=request.user,
        ),
        done="Meeting planned and its agenda drawn from the register.",
        back_url=reverse("reviews:meeting-list"),
        back_label="Back to meetings",
        button="Plan the meeting",
        next_url=lambda meeting: meeting.get_absolute_url(),
        warn=_same_day,
    )


def _same_day(data: dict, meeting: Meeting | None = None) -> list[str]:
    """A second meeting for the same area on the same day is usually planned by mistake."""
    others = same_day_meetings(
        held_at=data["held_at"],
        local_authority=data["local_authority"],
        exclude=meeting.pk if meeting else None,
    )
    area = data["local_authority"].name if data["local_authority"] else "every area"
    return [
        f"There is already a meeting for {area} that day: {other} "
        f"({other.get_status_display().lower()})."
        for other in others
    ]


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_meeting_for_user(request.user, pk)
    form = _meeting_form(request, meeting)
    form.fields.pop("kind")
    return form_page(
        request,
        form=form,
        title="Change the meeting's details",
        caption=str(meeting),
        act=lambda d: services.meeting_update(
            meeting=meeting,
            by=request.user,
            held_at=d["held_at"],
            chair=d["chair"],
            local_authority=d["local_authority"],
            location=d["location"],
            notes=d["notes"],
        ),
        done="Meeting details saved.",
        back_url=meeting.get_absolute_url(),
        back_label="Back to the meeting",
        guard=EditGuard(
            meeting,
            writes=lambda d: {
                name: d[name]
                for name in ("held_at", "chair", "local_authority", "location", "notes")
            },
        ),
        warn=lambda d: _same_day(d, meeting),
    )


@require_GET
@role_required(READ)
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_meeting_for_user(request.user, pk)
    today = timezone.localdate()
    page = meeting_page(meeting, request.user, today)
    access_log_people(
        user=request.user,
        people_ids=[row.item.person_id for row in page.rows],
        action=AccessEvent.Action.LIST_REGISTER,
        path=request.path,
        detail={"meeting": meeting.pk},
    )
    can_change = request.user.has_perm(CHANGE)
    context = {
        "meeting": meeting,
        "page": page,
        "today": today,
        "can_change": can_change,
        "started": meeting.held_at <= timezone.now(),
        "meeting_day": timezone.localdate(meeting.held_at) <= today,
        "has_slots": any(row.item.slot_at for row in page.rows),
        "not_discussed": sum(1 for row in page.rows if not row.item.discussed_at),
        "offered": (len(last_attendees(meeting)) if can_change and meeting.is_planned else 0),
        "confirm": ConfirmForm(),
    }
    return render(request, "reviews/meeting_detail.html", context)


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def meeting_slots(request: HttpRequest, pk: int) -> HttpResponse:
    """Time slots for the agenda, in its order, from the meeting's start."""
    meeting = get_meeting_for_user(request.user, pk)
    start = timezone.localtime(meeting.held_at)
    form = forms.TimeSlotsForm(request.POST or None, initial={"start": f"{start:%H:%M}"})

    def act(data: dict) -> int:
        first = None
        if data["start"]:
            first = timezone.make_aware(timezone.datetime.combine(start.date(), data["start"]))
        return services.agenda_time_slots(
            meeting=meeting, by=request.user, minutes=data["minutes"], start=first
        )

    return form_page(
        request,
        form=form,
        title="Plan time slots",
        caption=str(meeting),
        intro="Each person not yet discussed gets a slot, in the agenda's order: red first, then "
        "by why they are on it. Time slots are optional.",
        act=act,
        done="Time slots saved.",
        back_url=meeting.get_absolute_url(),
        back_label="Back to the meeting",
        button="Save the time slots",
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def attendees_from_last(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick who came, from the people who came to the last meeting of the same kind and area."""
    meeting = get_meeting_for_user(request.user, pk)
    offered = last_attendees(meeting)
    form = forms.LastAttendeesForm(request.POST or None, offered=offered)
    return form_page(
        request,
        form=form,
        title="Who came",
        caption=str(meeting),
        intro="These people came to the last meeting for this area. Tick those who came to this "
        "one; add anyone else one by one."
        if offered
        else "Nobody is offered: nobody was recorded as present at the last meeting for this "
        "area, or everyone who was is recorded here already.",
        act=lambda d: services.attendees_from_last(
            meeting=meeting, attendees=d["attendees"], by=request.user
        ),
        done="Attendance recorded.",
        back_url=meeting.get_absolute_url(),
        back_label="Back to the meeting",
        button="Record who came",
    )


@role_required(CHANGE)
@require_POST
def agenda_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_meeting_for_user(request.user, pk)
    try:
        added = services.meeting_agenda_refresh(meeting=meeting, by=request.user)
    except RegisterError as exc:
        messages.error(request, str(exc))
    else:
        people = "person" if added == 1 else "people"
        messages.success(request, f"Agenda updated from the register: {added} {people} added.")
    return redirect(meeting)


def _attendee_page(request: HttpRequest, meeting: Meeting, attendee: Attendee) -> HttpResponse:
    form = forms.AttendeeForm(request.POST or None, instance=attendee)
    adding = attendee.pk is None
    return form_page(
        request,
        form=form,
        title="Add an attendee" if adding else f"Change {attendee.name}",
        caption=str(meeting),
        act=lambda d: services.attendee_save(attendee=form.save(commit=False), by=request.user),
        done="Attendee saved.",
        back_url=meeting.get_absolute_url(),
        back_label="Back to the meeting",
        guard=None if adding else EditGuard(attendee, writes=model_form_writes(form)),
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def attendee_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_meeting_for_user(request.user, pk)
    return _attendee_page(request, meeting, Attendee(meeting=meeting, agency=Agency.HEALTH))


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def attendee_edit(request: HttpRequest, pk: int, attendee_pk: int) -> HttpResponse:
    meeting = get_meeting_for_user(request.user, pk)
    attendee = get_object_or_404(Attendee, pk=attendee_pk, meeting=meeting)
    return _attendee_page(request, meeting, attendee)


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def item_discuss(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """One person's part of the meeting, with what the chair needs to run it (why they are on
    the agenda, the last decision, the rating history, open and overdue actions, last time's
    risks, open escalations, the next C(E)TR, key people): the risks, the discussion, the
    rating decision and the actions agreed."""
    item = _item(request, pk, item_pk)
    person, meeting = item.person, item.meeting
    today = timezone.localdate()
    page = discussion_page(item, today)
    entry = page.entry
    ratings = (
        [] if entry is None else [RAG.BLUE] if page.in_hospital else [RAG.RED, RAG.AMBER, RAG.GREEN]
    )
    # Nothing recorded here yet: start from the risks recorded last time, to confirm or change.
    prefilled = not item.discussed_at and not item.risk_factors and not item.risk_notes
    initial = {
        "risk_factors": page.last_risk_factors if prefilled else item.risk_factors,
        "risk_notes": page.last_risk_notes if prefilled else item.risk_notes,
        "discussion": item.discussion,
        # Saved before: what was recorded at this meeting, so saving again keeps it.
        "needs": page.recorded_needs,
    }
    recorded = page.recorded_rating
    if recorded is not None and entry is not None and recorded.rating in ratings:
        initial.update(rating=recorded.rating, rationale=recorded.rationale)
    form = forms.DiscussionForm(
        request.POST or None,
        initial=initial,
        ratings=ratings,
        current=entry.rating if entry else "",
    )
    escalations = [
        panel for panel in person_panels(request, person, today) if panel.topic == "escalations"
    ]
    return form_page(
        request,
        form=form,
        title=f"{person.full_name}: discussion",
        caption=str(meeting),
        act=lambda d: services.discussion_record(item=item, by=request.user, **d),
        done=f"Discussion of {person.full_name} saved.",
        back_url=meeting.get_absolute_url(),
        back_label="Back to the meeting",
        button="Save the discussion",
        extra={
            "item": item,
            "entry": entry,
            "page": page,
            "actions": page.agreed,
            "person": person,
            "today": today,
            "prefilled": prefilled and bool(page.last_risk_factors or page.last_risk_notes),
            "escalations": escalations[0] if escalations else None,
            "can_change": True,
            "user_id": request.user.pk,
            "meeting_day": timezone.localdate(meeting.held_at) <= today,
        },
        template="reviews/item_discuss.html",
        person=person,
        log_detail={"meeting": meeting.pk},
        guard=EditGuard(
            item,
            writes=lambda d: {
                name: d[name] for name in ("risk_factors", "risk_notes", "discussion")
            },
        ),
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def item_action_add(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = _item(request, pk, item_pk)
    form = forms.ActionForm(request.POST or None, owners=action_owners(item.person))
    return form_page(
        request,
        form=form,
        title="Agree an action",
        caption=f"{item.person.full_name}, {item.meeting}",
        act=lambda d: services.action_create(
            person=item.person,
            agenda_item=item,
            by=request.user,
            **action_fields(d),
        ),
        done="Action agreed.",
        back_url=reverse("reviews:item-discuss", kwargs={"pk": pk, "item_pk": item_pk}),
        back_label=f"Back to {item.person.full_name}",
        button="Agree the action",
        person=item.person,
        log_detail={"meeting": item.meeting.pk},
        warn=lambda d: identical_warnings(item.person, d["description"]),
    )


def identical_warnings(person: Person, description: str) -> list[str]:
    """An action identical to one still open is usually agreed twice by mistake."""
    return [
        f"{person.full_name} already has this action open, due {action.due_on:%-d %B %Y} "
        f"(owner {action.owner_label})."
        for action in identical_open_actions(person, description)
    ]


def action_fields(data: dict) -> dict[str, Any]:
    owner = services.Owner(
        user=data["owner"],
        name=data["owner_name"],
        organisation=data["owner_organisation"],
        email=data["owner_email"],
    )
    return {
        "description": data["description"],
        "owner": owner,
        "agency": data["agency"],
        "due_on": data["due_on"],
    }


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = _item(request, pk, item_pk)
    return form_page(
        request,
        form=ConfirmForm(request.POST or None),
        title=f"Take {item.person.full_name} off the agenda",
        caption=str(item.meeting),
        act=lambda d: services.agenda_remove(item=item, by=request.user),
        done=f"{item.person.full_name} taken off the agenda.",
        back_url=item.meeting.get_absolute_url(),
        back_label="Back to the meeting",
        button="Take off the agenda",
        person=item.person,
        log_detail={"meeting": item.meeting.pk},
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def meeting_held(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_meeting_for_user(request.user, pk)
    left = not_discussed(meeting)
    nxt = next_planned_meeting(meeting) if left else None
    people = f"{len(left)} {'person' if len(left) == 1 else 'people'}"
    if left:
        where = (
            f"the next meeting for this area, {nxt}"
            if nxt
            else "the next meeting for this area when it is planned"
        )
        carried = f"{people} on the agenda not discussed will be carried to {where}."
    else:
        carried = "Everyone on the agenda has been discussed."
    return form_page(
        request,
        form=ConfirmForm(request.POST or None),
        title="Mark the meeting as held",
        caption=str(meeting),
        intro="The minutes become final: discussions can no longer be added. Actions stay open "
        f"until their owners finish them. {carried}",
        act=lambda d: services.meeting_mark_held(meeting=meeting, by=request.user),
        done="Meeting marked as held. The minutes are final"
        + (f" and list the {people} not discussed." if left else "."),
        back_url=meeting.get_absolute_url(),
        back_label="Back to the meeting",
        button="Mark as held",
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_meeting_for_user(request.user, pk)
    return form_page(
        request,
        form=forms.ReasonForm(request.POST or None),
        title="Cancel the meeting",
        caption=str(meeting),
        act=lambda d: services.meeting_cancel(meeting=meeting, reason=d["reason"], by=request.user),
        done="Meeting cancelled.",
        back_url=meeting.get_absolute_url(),
        back_label="Back to the meeting",
        button="Cancel the meeting",
    )


@require_GET
@role_required(READ)
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable record of the meeting: attendees and each person's part."""
    meeting = get_meeting_for_user(request.user, pk)
    page = meeting_page(meeting, request.user, timezone.localdate())
    discussed = [row for row in page.rows if row.item.discussed_at]
    left = [row for row in page.rows if not row.item.discussed_at]
    access_log_people(
        user=request.user,
        people_ids=[row.item.person_id for row in discussed + left],
        action=AccessEvent.Action.VIEW_PERSON,
        path=request.path,
        detail={"meeting": meeting.pk, "page": "minutes"},
    )
    context = {"meeting": meeting, "page": page, "discussed": discussed, "not_discussed": left}
    return render(request, "reviews/minutes.html", context)


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def person_agenda_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a person on the agenda of a planned meeting, by hand."""
    person = get_person_for_user(request.user, pk)
    meetings = (
        Meeting.objects.visible_to(request.user)
        .filter(status=Meeting.Status.PLANNED)
        .filter(Q(local_authority__isnull=True) | Q(local_authority=person.local_authority_id))
        .exclude(items__person=person)
        .order_by("held_at", "id")
    )
    form = forms.ChooseMeetingForm(request.POST or None, meetings=meetings)
    return form_page(
        request,
        form=form,
        title=f"Add {person.full_name} to a meeting",
        caption=person.full_name,
        intro="" if meetings else "There is no planned meeting to add them to: plan one first.",
        act=lambda d: services.agenda_add(meeting=d["meeting"], person=person, by=request.user),
        done="Added to the meeting's agenda.",
        back_url=person.get_absolute_url(),
        back_label=f"Back to {person.full_name}",
        button="Add to the agenda",
        person=person,
    )
