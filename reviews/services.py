"""Writes for reviews: meetings and their agendas, discussions, actions, C(E)TRs, C(E)TR requests
and oversight visits. Keyword-only arguments, the actor as `by`, one transaction each; refusals
raise RegisterError with a message written for the person using the page.

Rules enforced here (DOMAIN.md section 12): 6 (a community C(E)TR planned for a Red person
satisfies the next step), 7 and 8 (C(E)TR due dates from dsr.deadlines; a post-admission C(E)TR
only when no community one preceded the admission), 9 (no completed C(E)TR without a chair, an
independent clinical expert and an independent expert by experience, every member's conflicts
declared), 10 (notice and pre-read warnings; the pack gate is in reviews.permissions), 11 (every
action has an owner and a due date; reminders before and on the due date), 12 (oversight visits
only for people in hospital out of area), 15 (CETR or CTR from age and EHCP).
"""

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dsr import deadlines
from dsr import services as register
from dsr.history import set_change_reason
from dsr.models import Admission, Notification, Person, User
from dsr.next_steps import cetr_name
from dsr.notifications import SQL_INSERT_COLUMNS, deliver_after_commit
from dsr.services import RegisterError
from reviews.models import (
    Action,
    AgendaItem,
    AgendaReason,
    Attendee,
    Cetr,
    CetrRequest,
    Meeting,
    OversightVisit,
    PanelMember,
)
from reviews.queries import agenda_candidates, hospital_due, meeting_area_ids

logger = logging.getLogger(__name__)

NOTICE_DAYS = 14  # DOMAIN section 6: allow ideally at least two weeks' notice
PRE_READ_HOURS = 24  # pre-reads at least 24 hours before
DEFAULT_ACTION_REMINDER_DAYS = 3


# --- Meetings and agendas ----------------------------------------------------------------------


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
    candidates = agenda_candidates(kind=meeting.kind, on=on, area_ids=meeting_area_ids(meeting, by))
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
    if register.open_entry(person) is None:
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
    if meeting.held_at > timezone.now():
        raise RegisterError("The discussion can be recorded once the meeting has started.")
    if not discussion.strip():
        raise RegisterError("Write a summary of the discussion.")
    if rating:
        entry = register.open_entry(item.person)
        if entry is None:
            raise RegisterError("This person is no longer on the register.")
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


@transaction.atomic
def meeting_mark_held(*, meeting: Meeting, by: User) -> Meeting:
    """Close the meeting's record: the minutes are then final."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not meeting.is_planned:
        raise RegisterError("This meeting is already closed.")
    if meeting.held_at > timezone.now():
        raise RegisterError("A meeting can be marked as held once it has started.")
    meeting.status = Meeting.Status.HELD
    meeting.held_recorded_at = timezone.now()
    set_change_reason(meeting, "Meeting held: minutes final", by=by)
    meeting.save()
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, reason: str, by: User) -> Meeting:
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not meeting.is_planned:
        raise RegisterError("Only a planned meeting can be cancelled.")
    if meeting.items.filter(discussed_at__isnull=False).exists():
        raise RegisterError("People have been discussed at this meeting: mark it as held instead.")
    if not reason.strip():
        raise RegisterError("Give the reason for cancelling.")
    meeting.status = Meeting.Status.CANCELLED
    meeting.cancelled_reason = reason
    set_change_reason(meeting, "Meeting cancelled", by=by)
    meeting.save()
    return meeting


# --- Actions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """Who owns an action: a user, or a named person and organisation without an account."""

    user: User | None = None
    name: str = ""
    organisation: str = ""
    email: str = ""


def _check_owner(owner: Owner, person: Person) -> None:
    if owner.user is None and not owner.name.strip():
        raise RegisterError("Choose who owns the action, or give their name and organisation.")
    if (
        owner.user is not None
        and not Person.objects.visible_to(owner.user).filter(pk=person.pk).exists()
    ):
        raise RegisterError(
            f"{owner.user.full_name} cannot see {person.full_name}'s record, so cannot own this "
            "action. Name them without an account instead."
        )


@transaction.atomic
def action_create(
    *,
    person: Person,
    description: str,
    owner: Owner,
    agency: str,
    due_on: date,
    by: User,
    agenda_item: AgendaItem | None = None,
    cetr: Cetr | None = None,
    visit: OversightVisit | None = None,
) -> Action:
    """Agree an action (rule 11: an owner and a due date, always)."""
    if not description.strip():
        raise RegisterError("Describe the action.")
    _check_owner(owner, person)
    if agenda_item is not None:
        source = Action.Source.MEETING
        if not Meeting.objects.filter(
            pk=agenda_item.meeting_id, status=Meeting.Status.PLANNED
        ).exists():
            raise RegisterError(
                "The minutes of a meeting that has been held or cancelled are final: agree the "
                "action at the next meeting."
            )
    elif cetr is not None:
        source = Action.Source.CETR
        if cetr.status == Cetr.Status.CANCELLED:
            raise RegisterError("This C(E)TR was cancelled.")
    elif visit is not None:
        source = Action.Source.OVERSIGHT_VISIT
    else:
        raise RegisterError("An action is agreed at a meeting, a C(E)TR or an oversight visit.")
    action = Action(
        person=person,
        source=source,
        agenda_item=agenda_item,
        cetr=cetr,
        visit=visit,
        description=description,
        owner=owner.user,
        owner_name="" if owner.user else owner.name,
        owner_organisation="" if owner.user else owner.organisation,
        owner_email="" if owner.user else owner.email,
        agency=agency,
        due_on=due_on,
        created_by=by,
    )
    set_change_reason(action, "Action agreed", by=by)
    action.save()
    return action


@transaction.atomic
def action_change(
    *, action: Action, by: User, description: str, owner: Owner, agency: str, due_on: date
) -> Action:
    action = Action.objects.select_related("person").select_for_update().get(pk=action.pk)
    if action.status != Action.Status.OPEN:
        raise RegisterError("This action is closed: reopen it to change it.")
    _check_owner(owner, action.person)
    action.description = description
    action.owner = owner.user
    action.owner_name = "" if owner.user else owner.name
    action.owner_organisation = "" if owner.user else owner.organisation
    action.owner_email = "" if owner.user else owner.email
    action.agency = agency
    action.due_on = due_on
    set_change_reason(action, "Action changed", by=by)
    action.save()
    return action


@transaction.atomic
def action_close(
    *, action: Action, status: str, note: str, by: User, on: date | None = None
) -> Action:
    """Mark an action done (with an optional completion note) or cancelled (with the reason)."""
    action = Action.objects.select_for_update().get(pk=action.pk)
    if action.status != Action.Status.OPEN:
        raise RegisterError("This action is already closed.")
    if status not in (Action.Status.DONE, Action.Status.CANCELLED):
        raise RegisterError("Choose done or cancelled.")
    if status == Action.Status.CANCELLED and not note.strip():
        raise RegisterError("Give the reason for cancelling the action.")
    action.status = status
    action.completion_note = note
    action.closed_on = on or timezone.localdate()
    action.closed_by = by
    set_change_reason(action, f"Action {action.get_status_display().lower()}", by=by)
    action.save()
    return action


@transaction.atomic
def action_reopen(*, action: Action, by: User) -> Action:
    action = Action.objects.select_for_update().get(pk=action.pk)
    if action.status == Action.Status.OPEN:
        raise RegisterError("This action is already open.")
    action.status = Action.Status.OPEN
    action.closed_on = None
    action.closed_by = None
    set_change_reason(action, "Action reopened", by=by)
    action.save()
    return action


def action_reminder_sweep(*, today: date | None = None) -> dict[str, int]:
    """Insert, set-based, a reminder and an email to the owner for each open action coming due
    within `DSR_ACTION_REMINDER_DAYS` (3) days ("before"), and for each due today ("due"). An
    action entered already overdue is not told it is due today: it shows as overdue in "my
    actions", on the dashboard and on the agenda. The stage carries the due date, so a new due
    date is reminded afresh; unique keys make a second run add nothing. The owner is a user
    (their email), or a named owner with an email; an owner without one is reminded through
    the DSR team's mailbox."""
    today = today or timezone.localdate()
    now = timezone.now()
    days = getattr(settings, "DSR_ACTION_REMINDER_DAYS", DEFAULT_ACTION_REMINDER_DAYS)
    counts = {"reminders": 0, "notifications": 0}
    base = (
        "FROM reviews_action s JOIN dsr_person p ON p.id = s.person_id"
        " LEFT JOIN dsr_user u ON u.id = s.owner_id"
        " WHERE s.status = 'open'"
    )
    stages = [
        (
            "before",
            "action_due_soon",
            f"{base} AND s.due_on > %s AND s.due_on <= %s",
            [today, today + timedelta(days=days)],
        ),
        ("due", "action_due", f"{base} AND s.due_on = %s", [today]),
    ]
    recipient_email = "COALESCE(NULLIF(u.email, ''), NULLIF(s.owner_email, ''), %s)"
    recipient_name = "COALESCE(u.full_name, s.owner_name)"
    with transaction.atomic(), connection.cursor() as cursor:
        for stage, kind, source, params in stages:
            cursor.execute(
                "INSERT INTO dsr_reminder (subject_type, subject_id, kind, stage, due_on,"
                " created_at) SELECT 'reviews.action', s.id, %s,"
                " %s || '-' || CAST(s.due_on AS VARCHAR(20)), s.due_on, %s"
                f" {source} ON CONFLICT (subject_type, subject_id, kind, stage) DO NOTHING",
                ["action_due", stage, now, *params],
            )
            counts["reminders"] += cursor.rowcount
            cursor.execute(
                f"INSERT INTO dsr_notification ({SQL_INSERT_COLUMNS}) SELECT 'reviews.action',"
                " s.id, p.local_authority_id, %s, 'owner-' || CAST(s.due_on AS VARCHAR(20)),"
                f" {recipient_name}, 'Action owner', 'email', {recipient_email}, '',"
                " 'standard', '{}', 'pending', %s, %s, 0, '', '', ''"
                f" {source}"
                " ON CONFLICT (subject_type, subject_id, kind, recipient_key) DO NOTHING",
                [kind, settings.DSR_TEAM_EMAIL, now, now, *params],
            )
            counts["notifications"] += cursor.rowcount
    if counts["notifications"]:
        deliver_after_commit(counts["notifications"])
    logger.info("action reminder sweep %s", counts)
    return counts


# --- C(E)TRs -----------------------------------------------------------------------------------


def _last_hospital_cetr(admission: Admission) -> date | None:
    return (
        Cetr.objects.filter(admission=admission, status=Cetr.Status.COMPLETED)
        .order_by("-held_on")
        .values_list("held_on", flat=True)
        .first()
    )


def _last_visit(admission: Admission) -> date | None:
    return (
        OversightVisit.objects.filter(admission=admission)
        .order_by("-visited_on")
        .values_list("visited_on", flat=True)
        .first()
    )


def _due_in_hospital(person: Person, admission: Admission, today: date):
    return hospital_due(
        admission,
        date_of_birth=person.date_of_birth,
        out_of_area=person.out_of_area,
        last_hospital_cetr=_last_hospital_cetr(admission),
        last_visit=_last_visit(admission),
        today=today,
    )


@transaction.atomic
def cetr_plan(*, person: Person, kind: str, by: User, scheduled_on: date | None = None) -> Cetr:
    """Plan a C(E)TR. A community C(E)TR is for someone not in hospital; a post-admission one
    only when no community C(E)TR preceded the admission (rule 7) and none is held yet; an
    inpatient one repeats on the cadence of rule 8. The due date comes from dsr.deadlines and
    the CETR or CTR choice from age and EHCP (rule 15)."""
    Person.objects.select_for_update().get(pk=person.pk)
    today = timezone.localdate()
    if register.open_entry(person) is None:
        raise RegisterError(f"{person.full_name} is not on the register.")
    if Cetr.objects.filter(person=person, kind=kind, status=Cetr.Status.PLANNED).exists():
        raise RegisterError("A C(E)TR of this type is already planned: change that one.")
    admission = register.open_admission(person)
    due_on = None
    if kind == Cetr.Kind.COMMUNITY:
        if admission is not None:
            raise RegisterError(
                "This person is in hospital: plan a post-admission or inpatient C(E)TR."
            )
    else:
        if admission is None:
            raise RegisterError("A hospital C(E)TR needs an admission: record the admission first.")
        due = _due_in_hospital(person, admission, today)
        if kind == Cetr.Kind.POST_ADMISSION and not due.post_admission_owed:
            raise RegisterError(
                "No post-admission C(E)TR is owed: a community C(E)TR happened before the "
                "admission, or one has been held since. Plan an inpatient C(E)TR."
            )
        if kind == Cetr.Kind.INPATIENT and due.post_admission_owed:
            raise RegisterError(
                "A post-admission C(E)TR is owed first: there was no community C(E)TR before "
                "the admission."
            )
        due_on = due.cetr_due
    cetr = Cetr(
        person=person,
        kind=kind,
        education_element=cetr_name(person, today) == "CETR",
        admission=admission if kind != Cetr.Kind.COMMUNITY else None,
        due_on=due_on,
        scheduled_on=scheduled_on,
        created_by=by,
    )
    set_change_reason(cetr, "C(E)TR planned", by=by)
    cetr.save()
    return cetr


def cetr_warnings(cetr: Cetr, today: date) -> list[str]:
    """What the C(E)TR's arrangements fall short of (rule 10): shown, not enforced, because a
    C(E)TR must not wait for paperwork when the person needs it (DOMAIN section 6)."""
    warnings = []
    if cetr.status != Cetr.Status.PLANNED:
        return warnings
    if cetr.due_on and cetr.due_on < today:
        warnings.append(f"This C(E)TR was due on {cetr.due_on:%-d %B %Y}.")
    if cetr.scheduled_on:
        if cetr.due_on and cetr.scheduled_on > cetr.due_on:
            warnings.append(f"The review date is after the due date ({cetr.due_on:%-d %B %Y}).")
        notice_from = cetr.invitations_sent_on or today
        if (cetr.scheduled_on - notice_from).days < NOTICE_DAYS:
            warnings.append(
                "Less than 2 weeks' notice: allow at least 2 weeks for consent, invitations and "
                "planners where you can."
            )
        start = timezone.make_aware(datetime.combine(cetr.scheduled_on, datetime.min.time()))
        if cetr.pack_sent_at is None:
            if timezone.now() > start - timedelta(hours=PRE_READ_HOURS):
                warnings.append(
                    "The pre-reads have not been sent, and the review is within 24 hours."
                )
        elif cetr.pack_sent_at > start - timedelta(hours=PRE_READ_HOURS):
            warnings.append("The pre-reads went out less than 24 hours before the review.")
    if not cetr.has_consent_evidence:
        warnings.append(
            "No consent evidence yet: the panel cannot read the pack until it is recorded."
        )
    return warnings


@transaction.atomic
def cetr_arrange(
    *,
    cetr: Cetr,
    by: User,
    scheduled_on: date | None,
    invitations_sent_on: date | None,
    pack_sent_at: datetime | None,
) -> Cetr:
    cetr = Cetr.objects.select_for_update().get(pk=cetr.pk)
    if not cetr.is_planned:
        raise RegisterError("This C(E)TR is closed.")
    cetr.scheduled_on = scheduled_on
    cetr.invitations_sent_on = invitations_sent_on
    cetr.pack_sent_at = pack_sent_at
    set_change_reason(cetr, "C(E)TR arrangements changed", by=by)
    cetr.save()
    return cetr


@transaction.atomic
def cetr_consent_record(
    *, cetr: Cetr, basis: str, evidence: str, recorded_on: date, by: User
) -> Cetr:
    """Attach the evidence of consent (or of a best-interests decision) for this C(E)TR; from
    then on its panel members can read the pack (rule 10)."""
    cetr = Cetr.objects.select_for_update().get(pk=cetr.pk)
    if cetr.status == Cetr.Status.CANCELLED:
        raise RegisterError("This C(E)TR was cancelled.")
    if not evidence.strip():
        raise RegisterError("Describe the consent evidence and where it is kept.")
    cetr.consent_basis = basis
    cetr.consent_evidence = evidence
    cetr.consent_recorded_on = recorded_on
    cetr.consent_recorded_by = by
    set_change_reason(cetr, "C(E)TR consent evidence recorded", by=by)
    cetr.save()
    return cetr


@transaction.atomic
def cetr_consent_withdraw(*, cetr: Cetr, note: str, by: User) -> Cetr:
    """Consent to the C(E)TR withdrawn: the evidence is cleared (history keeps it) and the
    panel can no longer read the pack."""
    cetr = Cetr.objects.select_for_update().get(pk=cetr.pk)
    if not cetr.has_consent_evidence:
        raise RegisterError("No consent evidence is recorded for this C(E)TR.")
    if not note.strip():
        raise RegisterError("Say how and when consent was withdrawn.")
    cetr.consent_basis = ""
    cetr.consent_evidence = ""
    cetr.consent_recorded_on = None
    cetr.consent_recorded_by = None
    set_change_reason(cetr, f"C(E)TR consent withdrawn: {note}"[:100], by=by)
    cetr.save()
    return cetr


@transaction.atomic
def panel_member_save(*, member: PanelMember, by: User) -> PanelMember:
    # The C(E)TR's row lock orders panel changes against cetr_complete.
    member.cetr = Cetr.objects.select_for_update().get(pk=member.cetr_id)
    if not member.cetr.is_planned:
        raise RegisterError("The panel of a completed or cancelled C(E)TR is final.")
    if member.role != PanelMember.Role.CHAIR:
        member.delegated_chair = False
    if member.user_id is not None and not member.user.has_perm("dsr.sit_on_panels"):
        raise RegisterError(
            f"{member.user.full_name} has no panel member account: name them without one."
        )
    set_change_reason(member, "Panel member recorded", by=by)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        raise RegisterError("This account already has a seat on the panel.") from None
    return member


@transaction.atomic
def panel_member_remove(*, member: PanelMember, by: User) -> None:
    member.cetr = Cetr.objects.select_for_update().get(pk=member.cetr_id)
    if not member.cetr.is_planned:
        raise RegisterError("The panel of a completed or cancelled C(E)TR is final.")
    set_change_reason(member, "Panel member removed", by=by)
    member.delete()


FINDINGS = ("finding_safe", "finding_good_care", "finding_future", "finding_community")


@transaction.atomic
def cetr_findings_record(*, cetr: Cetr, by: User, **findings: str) -> Cetr:
    """Record the four key questions' findings (register staff, or a panel member through the
    pack page)."""
    cetr = Cetr.objects.select_for_update().get(pk=cetr.pk)
    if not cetr.is_planned:
        raise RegisterError("The findings of a completed or cancelled C(E)TR are final.")
    for name in FINDINGS:
        if name in findings:
            setattr(cetr, name, findings[name])
    set_change_reason(cetr, "C(E)TR findings recorded", by=by)
    cetr.save()
    return cetr


def panel_gaps(panel: list[PanelMember]) -> list[str]:
    """What the panel lacks for a C(E)TR to be completed (rule 9)."""
    roles = {member.role for member in panel}
    gaps = [
        f"a {label.lower()}"
        for role, label in [
            (PanelMember.Role.CHAIR, "Chair"),
            (PanelMember.Role.CLINICAL_EXPERT, "Independent clinical expert"),
            (PanelMember.Role.EXPERT_BY_EXPERIENCE, "Independent expert by experience"),
        ]
        if role not in roles
    ]
    unregistered = [
        m.name
        for m in panel
        if m.role == PanelMember.Role.CLINICAL_EXPERT and not m.professional_registration.strip()
    ]
    if unregistered:
        gaps.append("the current professional registration of " + ", ".join(unregistered))
    undeclared = [m.name for m in panel if not m.conflicts_declared]
    if undeclared:
        gaps.append("conflicts of interest declared by " + ", ".join(undeclared))
    return gaps


@transaction.atomic
def cetr_complete(
    *, cetr: Cetr, held_on: date, by: User, report_sent_on: date | None = None
) -> Cetr:
    """Mark a C(E)TR held. Refused without the required panel (rule 9) or the four findings.
    For someone still in hospital the next inpatient C(E)TR falls due on the cadence of rule 8."""
    cetr = Cetr.objects.select_for_update(of=("self",)).select_related("person").get(pk=cetr.pk)
    if not cetr.is_planned:
        raise RegisterError("This C(E)TR is already closed.")
    today = timezone.localdate()
    if held_on > today:
        raise RegisterError("The C(E)TR cannot be completed before it is held.")
    if report_sent_on and not held_on <= report_sent_on <= today:
        raise RegisterError("The report is sent on or after the review, and not in the future.")
    gaps = panel_gaps(list(cetr.panel.all()))
    if gaps:
        raise RegisterError("The C(E)TR cannot be completed without " + "; ".join(gaps) + ".")
    missing = [
        Cetr._meta.get_field(name).verbose_name
        for name in FINDINGS
        if not getattr(cetr, name).strip()
    ]
    if missing:
        raise RegisterError("Record the findings first: " + " ".join(missing))
    cetr.status = Cetr.Status.COMPLETED
    cetr.held_on = held_on
    cetr.report_sent_on = report_sent_on
    cetr.completed_by = by
    # In hospital, inpatient C(E)TRs repeat (rule 8); a community C(E)TR has no cycle.
    admission = register.open_admission(cetr.person) if cetr.admission_id else None
    cetr.next_due_on = (
        deadlines.inpatient_cetr_next_due(
            held_on, is_child=cetr.person.age(held_on) < 18, secure=admission.is_secure
        )
        if admission is not None and admission.pk == cetr.admission_id
        else None
    )
    set_change_reason(cetr, "C(E)TR completed", by=by)
    cetr.save()
    return cetr


@transaction.atomic
def cetr_report_sent(*, cetr: Cetr, sent_on: date, by: User) -> Cetr:
    cetr = Cetr.objects.select_for_update().get(pk=cetr.pk)
    if cetr.status != Cetr.Status.COMPLETED:
        raise RegisterError("Complete the C(E)TR before recording that its report was sent.")
    if sent_on < cetr.held_on or sent_on > timezone.localdate():
        raise RegisterError("The report is sent on or after the review, and not in the future.")
    cetr.report_sent_on = sent_on
    set_change_reason(cetr, "C(E)TR report sent", by=by)
    cetr.save()
    return cetr


@transaction.atomic
def cetr_cancel(*, cetr: Cetr, reason: str, by: User) -> Cetr:
    cetr = Cetr.objects.select_for_update().get(pk=cetr.pk)
    if not cetr.is_planned:
        raise RegisterError("Only a planned C(E)TR can be cancelled.")
    if not reason.strip():
        raise RegisterError("Give the reason for cancelling.")
    cetr.status = Cetr.Status.CANCELLED
    cetr.cancelled_reason = reason
    set_change_reason(cetr, "C(E)TR cancelled", by=by)
    cetr.save()
    return cetr


# --- Oversight visits --------------------------------------------------------------------------


@transaction.atomic
def visit_record(
    *, person: Person, visited_on: date, visited_by: str, findings: str, concerns: bool, by: User
) -> OversightVisit:
    """Record an on-site oversight visit to someone in hospital out of area (rule 12)."""
    Person.objects.select_for_update().get(pk=person.pk)
    admission = register.open_admission(person)
    if admission is None or not person.out_of_area:
        raise RegisterError("Oversight visits are for people in hospital out of area.")
    if visited_on > timezone.localdate() or visited_on < admission.admitted_on:
        raise RegisterError("The visit date must be during the admission and not in the future.")
    visit = OversightVisit(
        person=person,
        admission=admission,
        visited_on=visited_on,
        visited_by=visited_by,
        findings=findings,
        concerns=concerns,
        recorded_by=by,
    )
    set_change_reason(visit, "Oversight visit recorded", by=by)
    visit.save()
    return visit


# --- C(E)TR requests ---------------------------------------------------------------------------

REQUEST_SUBJECT = "reviews.cetrrequest"


def _new_request_reference(year: int) -> str:
    # Random, not sequential, like referral references: it gives away nothing about volume.
    return f"CR-{year}-{secrets.randbelow(900_000) + 100_000}"


def _tell_requester(
    request: CetrRequest, kind: str, *, letter: bool = False, **context: Any
) -> Notification:
    """One outbox message to the requester, in the way they asked to be told (or by letter
    when `letter` is set)."""
    by_letter = letter or request.contact_by == CetrRequest.ContactBy.LETTER
    notification = Notification.objects.create(
        subject_type=REQUEST_SUBJECT,
        subject_id=request.pk,
        local_authority_id=request.local_authority_id,
        kind=kind,
        recipient_key="requester-letter" if letter else "requester",
        recipient_name=request.requester_name,
        recipient_role=request.get_relationship_display(),
        channel=Notification.Channel.LETTER if by_letter else Notification.Channel.EMAIL,
        email="" if by_letter else request.requester_email,
        postal_address=request.requester_address if by_letter else "",
        context={"reference": request.reference, **context},
    )
    deliver_after_commit(1)
    return notification


def cetr_request_submit(
    *,
    fields: dict[str, Any],
    channel: str,
    submission_token: uuid.UUID,
    entered_by: User | None = None,
) -> CetrRequest:
    """Save a C(E)TR request and acknowledge it to the requester, all or nothing. The same
    submission token twice returns the first request and writes nothing more."""
    existing = CetrRequest.objects.filter(submission_token=submission_token).first()
    if existing is not None:
        return existing
    received_at = timezone.now()
    for _ in range(5):
        try:
            with transaction.atomic():
                request = CetrRequest(
                    **fields,
                    reference=_new_request_reference(timezone.localdate(received_at).year),
                    submission_token=submission_token,
                    channel=channel,
                    received_at=received_at,
                    entered_by=entered_by,
                )
                set_change_reason(request, "C(E)TR request received", by=entered_by)
                request.save()
                _tell_requester(request, "cetr_request_received")
                return request
        except IntegrityError as exc:
            existing = CetrRequest.objects.filter(submission_token=submission_token).first()
            if existing is not None:
                return existing
            if "reference" not in str(exc):
                raise RegisterError(
                    "The request could not be saved: check how we should contact you."
                ) from None
    raise RegisterError("The request could not be saved. Try again.")


@transaction.atomic
def cetr_request_arrange(*, request: CetrRequest, person: Person, kind: str, by: User) -> Cetr:
    """Accept a request: plan the C(E)TR for the person it is about and tell the requester."""
    request = CetrRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != CetrRequest.Status.RECEIVED:
        raise RegisterError("This request has already been triaged.")
    cetr = cetr_plan(person=person, kind=kind, by=by)
    request.status = CetrRequest.Status.ARRANGED
    request.person = person
    request.cetr = cetr
    request.triaged_at = timezone.now()
    request.triaged_by = by
    set_change_reason(request, "C(E)TR request arranged", by=by)
    request.save()
    _tell_requester(request, "cetr_request_arranged")
    return cetr


@transaction.atomic
def cetr_request_decline(
    *, request: CetrRequest, reason: str, by: User, person: Person | None = None
) -> CetrRequest:
    """Decline a request and tell the requester: the reason, written for them, goes in a
    letter; an email says only that no review is being arranged."""
    request = CetrRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != CetrRequest.Status.RECEIVED:
        raise RegisterError("This request has already been triaged.")
    if not reason.strip():
        raise RegisterError("Give the reason, written for the person who asked.")
    request.status = CetrRequest.Status.DECLINED
    request.decline_reason = reason
    request.person = person
    request.triaged_at = timezone.now()
    request.triaged_by = by
    set_change_reason(request, "C(E)TR request declined", by=by)
    request.save()
    # Emails carry no details beyond the outcome (ACCESS.md): the reason goes in a letter.
    # Someone who asked by email and gave no address hears the reason from the team.
    _tell_requester(request, "cetr_request_declined", reason=reason)
    if request.contact_by == CetrRequest.ContactBy.EMAIL and request.requester_address:
        _tell_requester(request, "cetr_request_declined", letter=True, reason=reason)
    return request
