"""Writes for multi-agency review meetings: the meeting, its agenda, attendees and the
discussion of each person (DOMAIN.md section 6)."""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from dsr import services as register
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import Person, User
from dsr.queries import open_entry
from reviews.models import (
    AgendaItem,
    AgendaReason,
    Attendee,
    Meeting,
)
from reviews.queries import (
    agenda_candidates,
    carried_people,
    meeting_area_ids,
    meeting_page,
    next_planned_meeting,
    not_discussed_on_register,
)
from reviews.services.transitions import status_move

logger = logging.getLogger(__name__)


@transaction.atomic
def meeting_create(
    *,
    kind: str,
    held_at: datetime,
    chair: User,
    by: User,
    local_authority: Any = None,
    location: str = "",
    notes: str = "",
) -> Meeting:
    """Plan a meeting and draft its agenda from the register (an urgent meeting starts empty:
    its people are added by hand)."""
    meeting = Meeting(
        kind=kind,
        held_at=held_at,
        chair=chair,
        local_authority=local_authority,
        location=location,
        notes=notes,
        created_by=by,
    )
    set_change_reason(meeting, "Meeting planned", by=by)
    meeting.save()
    meeting_agenda_refresh(meeting=meeting, by=by)
    return meeting


@transaction.atomic
def meeting_update(*, meeting: Meeting, by: User, **fields: Any) -> Meeting:
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not meeting.is_planned:
        raise RegisterError("The record of a meeting that has been held or cancelled is final.")
    area = fields.get("local_authority", meeting.local_authority)
    if getattr(area, "pk", area) != meeting.local_authority_id and meeting.items.exists():
        raise RegisterError(
            "The agenda was drawn for the meeting's area: take everyone off it before changing "
            "the area, or plan a new meeting."
        )
    for name, value in fields.items():
        setattr(meeting, name, value)
    set_change_reason(meeting, "Meeting details changed", by=by)
    meeting.save()
    return meeting


@transaction.atomic
def meeting_agenda_refresh(*, meeting: Meeting, by: User) -> int:
    """Add everyone the register now puts on the agenda and who is not on it yet; update the
    reasons of people not yet discussed. Nobody is taken off (staff remove people by hand).
    Returns how many people were added."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not meeting.is_planned:
        raise RegisterError("The agenda of a meeting that has been held or cancelled is final.")
    on = timezone.localdate(meeting.held_at)
    area_ids = meeting_area_ids(meeting, by)
    candidates = agenda_candidates(kind=meeting.kind, on=on, area_ids=area_ids)
    for person_id in carried_people(meeting, area_ids):
        candidates.setdefault(person_id, []).append(AgendaReason.CARRIED)
    existing = {item.person_id: item for item in meeting.items.all()}
    added = 0
    for person_id, reasons in candidates.items():
        item = existing.get(person_id)
        if item is None:
            item = AgendaItem(meeting=meeting, person_id=person_id, reasons=reasons, added_by=by)
            set_change_reason(item, "Added to the agenda from the register", by=by)
            item.save()
            added += 1
        elif item.discussed_at is None:
            merged = [r for r in reasons] + [
                r for r in item.reasons if r == AgendaReason.BY_HAND and r not in reasons
            ]
            if merged != item.reasons:
                item.reasons = merged
                set_change_reason(item, "Agenda reasons updated from the register", by=by)
                item.save()
    return added


@transaction.atomic
def agenda_add(*, meeting: Meeting, person: Person, by: User) -> AgendaItem:
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not meeting.is_planned:
        raise RegisterError("People can only be added to a planned meeting.")
    if open_entry(person) is None:
        raise RegisterError(f"{person.full_name} is not on the register.")
    # The meeting's row lock orders this against other changes to its agenda.
    if AgendaItem.objects.filter(meeting=meeting, person=person).exists():
        raise RegisterError(f"{person.full_name} is already on the agenda.")
    item = AgendaItem(meeting=meeting, person=person, reasons=[AgendaReason.BY_HAND], added_by=by)
    set_change_reason(item, "Added to the agenda by hand", by=by)
    item.save()
    return item


@transaction.atomic
def agenda_remove(*, item: AgendaItem, by: User) -> None:
    item = AgendaItem.objects.select_related("meeting").select_for_update().get(pk=item.pk)
    if not item.meeting.is_planned or item.discussed_at or item.actions.exists():
        raise RegisterError(
            "Someone already discussed at this meeting stays on its agenda, as part of its record."
        )
    set_change_reason(item, "Taken off the agenda", by=by)
    item.delete()


@transaction.atomic
def attendee_save(*, attendee: Attendee, by: User) -> Attendee:
    if attendee.meeting.status == Meeting.Status.CANCELLED:
        raise RegisterError("This meeting was cancelled.")
    set_change_reason(attendee, "Attendee recorded", by=by)
    attendee.save()
    return attendee


@transaction.atomic
def discussion_record(
    *,
    item: AgendaItem,
    by: User,
    risk_factors: list[str],
    risk_notes: str,
    discussion: str,
    rating: str = "",
    rationale: str = "",
    early_step_down: bool = False,
    needs: list[str] | None = None,
) -> AgendaItem:
    """Record one person's part of a meeting: the risks reviewed, the discussion and, when the
    meeting decided one, the rating confirmed or changed through the register's rating service
    (so the rating row links the meeting)."""
    item = AgendaItem.objects.select_related("meeting").select_for_update().get(pk=item.pk)
    meeting = item.meeting
    if not meeting.is_planned:
        raise RegisterError("The minutes of a meeting that has been held or cancelled are final.")
    if timezone.localdate(meeting.held_at) > timezone.localdate():
        raise RegisterError(
            f"The discussion can be recorded from the day of the meeting "
            f"({timezone.localtime(meeting.held_at):%-d %B %Y})."
        )
    if not discussion.strip():
        raise RegisterError("Write a summary of the discussion.")
    if rating:
        entry = open_entry(item.person)
        if entry is None:
            raise RegisterError("This person is no longer on the register.")
    if rating and not _already_decided(entry, meeting, rating, rationale):
        register.rating_change(
            entry=entry,
            rating=rating,
            rationale=rationale,
            by=by,
            effective_from=timezone.localdate(meeting.held_at),
            risk_factors=risk_factors,
            risk_notes=risk_notes,
            early_step_down=early_step_down,
            meeting=meeting,
        )
    if needs:
        register.needs_note(person=item.person, needs=list(needs), by=by, source="meeting")
    item.risk_factors = list(risk_factors)
    item.risk_notes = risk_notes
    item.discussion = discussion
    item.discussed_at = timezone.now()
    item.discussed_by = by
    set_change_reason(item, "Discussion recorded", by=by)
    item.save()
    return item


def _already_decided(entry: Any, meeting: Meeting, rating: str, rationale: str) -> bool:
    """The same decision is the latest recorded at this meeting: the discussion saved again
    with its form filled from it records no second rating."""
    latest = entry.ratings.filter(meeting=meeting).order_by("-set_at", "-id").first()
    return latest is not None and (latest.rating, latest.rationale.strip()) == (
        rating,
        rationale.strip(),
    )


@transaction.atomic
def meeting_mark_held(*, meeting: Meeting, by: User) -> Meeting:
    """Close the meeting's record: the minutes are then final. The people not discussed are
    carried to the next planned meeting of the same area (when none is planned yet, the next
    one planned takes them: meeting_agenda_refresh)."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not meeting.is_planned:
        raise RegisterError("This meeting is already closed.")
    if meeting.held_at > timezone.now():
        raise RegisterError("A meeting can be marked as held once it has started.")
    status_move(meeting, to=Meeting.Status.HELD, by=by)
    meeting.held_recorded_at = timezone.now()
    set_change_reason(meeting, "Meeting held: minutes final", by=by)
    meeting.save()
    target = next_planned_meeting(meeting)
    if target is not None:
        agenda_carry(source=meeting, target=target, by=by)
    return meeting


@transaction.atomic
def agenda_carry(*, source: Meeting, target: Meeting, by: User) -> int:
    """Put the people not discussed at `source` (and still on the register) on the agenda of
    `target`, the next meeting of the same area, saying why. Returns how many were added."""
    target = Meeting.objects.select_for_update().get(pk=target.pk)
    if not target.is_planned:
        raise RegisterError("People can only be carried to a planned meeting.")
    left = not_discussed_on_register(source)
    existing = {item.person_id: item for item in target.items.filter(person_id__in=left)}
    added = 0
    for person_id in left:
        item = existing.get(person_id)
        if item is None:
            item = AgendaItem(
                meeting=target, person_id=person_id, reasons=[AgendaReason.CARRIED], added_by=by
            )
            set_change_reason(item, "Carried from the last meeting: not discussed", by=by)
            item.save()
            added += 1
        elif AgendaReason.CARRIED not in item.reasons and item.discussed_at is None:
            item.reasons = [*item.reasons, AgendaReason.CARRIED]
            set_change_reason(item, "Not discussed at the last meeting", by=by)
            item.save()
    return added


@transaction.atomic
def agenda_time_slots(
    *, meeting: Meeting, by: User, minutes: int | None, start: datetime | None = None
) -> int:
    """Give each person on the agenda a time slot of `minutes`, in the agenda's order, from
    `start` (the meeting's start by default); no minutes clears the slots. People already
    discussed keep theirs. Returns how many slots were set or cleared."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not meeting.is_planned:
        raise RegisterError("The agenda of a meeting that has been held or cancelled is final.")
    if minutes is not None and not 1 <= minutes <= 240:
        raise RegisterError("Give each person between 1 and 240 minutes.")
    rows = meeting_page(meeting, by, timezone.localdate()).rows  # in the agenda's order
    at = start or meeting.held_at
    changed = 0
    for row in rows:
        item = row.item
        if item.discussed_at is not None:
            continue
        slot = None if minutes is None else at
        if item.slot_at != slot:
            item.slot_at = slot
            set_change_reason(item, "Time slot set" if slot else "Time slot cleared", by=by)
            item.save()
            changed += 1
        if minutes is not None:
            at += timedelta(minutes=minutes)
    return changed


@transaction.atomic
def attendees_from_last(*, meeting: Meeting, attendees: list[Attendee], by: User) -> list[Attendee]:
    """Record as present at `meeting` the people ticked from the last meeting's attendees."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status == Meeting.Status.CANCELLED:
        raise RegisterError("This meeting was cancelled.")
    if not attendees:
        raise RegisterError("Tick who came.")
    saved = []
    for previous in attendees:
        attendee = Attendee(
            meeting=meeting,
            name=previous.name,
            organisation=previous.organisation,
            agency=previous.agency,
            attendance=Attendee.Attendance.PRESENT,
        )
        set_change_reason(attendee, "Attendee recorded from the last meeting", by=by)
        attendee.save()
        saved.append(attendee)
    return saved


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, reason: str, by: User) -> Meeting:
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not meeting.is_planned:
        raise RegisterError("Only a planned meeting can be cancelled.")
    if meeting.items.filter(discussed_at__isnull=False).exists():
        raise RegisterError("People have been discussed at this meeting: mark it as held instead.")
    if not reason.strip():
        raise RegisterError("Give the reason for cancelling.")
    status_move(meeting, to=Meeting.Status.CANCELLED, by=by, reason=reason)
    meeting.cancelled_reason = reason
    set_change_reason(meeting, "Meeting cancelled", by=by)
    meeting.save()
    return meeting
