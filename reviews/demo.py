"""Demo meetings, actions, C(E)TRs and requests (registered with dsr.demo; DEBUG only).

Everything goes through the review services, so the demo shows what real use produces: a
meeting held last week with ratings and actions (some now overdue), next week's meeting with its
agenda drawn from the register, C(E)TRs in each state (one whose pack the demo panel member can
read), C(E)TR requests waiting for triage, and oversight visits.
"""

import uuid
from datetime import timedelta

from django.utils import timezone

from dsr.exceptions import RegisterError
from dsr.models import RAG, Admission, Consent, Person, RegisterEntry, User
from reviews.models import Agency, Cetr, CetrRequest, Meeting, PanelMember
from reviews.services import (
    Owner,
    action_close,
    action_create,
    agenda_add,
    cetr_consent_record,
    cetr_plan,
    cetr_request_submit,
    discussion_record,
    meeting_create,
    meeting_mark_held,
    panel_member_save,
)


def _held_meeting(staff: User, lead: User, manager: User) -> None:
    now = timezone.now()
    meeting = meeting_create(
        kind=Meeting.Kind.DSR_REVIEW,
        held_at=now - timedelta(days=7),
        chair=lead,
        by=staff,
        location="Online",
    )
    for name, organisation, agency in [
        ("Priya Shah", "Integrated Care Board", Agency.HEALTH),
        ("Tom Reed", "County Council SEND team", Agency.EDUCATION),
        ("Grace Obi", "Adult social care", Agency.SOCIAL_CARE),
    ]:
        meeting.attendees.create(
            name=name, organisation=organisation, agency=agency, attendance="present"
        )
    for number, item in enumerate(meeting.items.select_related("person")[:8]):
        entry = RegisterEntry.objects.get(person=item.person, status="open")
        rating = entry.rating if entry.rating != RAG.BLUE else ""
        try:
            discussion_record(
                item=item,
                by=staff,
                risk_factors=["crisis"] if entry.rating == RAG.RED else [],
                risk_notes="Reviewed with the family's account of the last fortnight.",
                discussion="Support at home discussed; the team agreed the next steps below.",
                rating=rating if entry.rating_since <= timezone.localdate(meeting.held_at) else "",
                rationale="Reviewed at the multi-agency meeting.",
            )
        except RegisterError:
            continue
        action = action_create(
            person=item.person,
            agenda_item=item,
            description="Arrange a short break for the family.",
            owner=Owner(user=manager)
            if number % 2 and entry.rating in (RAG.RED, RAG.AMBER)
            else Owner(name="Jo Patel", organisation="Short breaks service"),
            agency=Agency.SOCIAL_CARE,
            due_on=timezone.localdate() - timedelta(days=number % 3),
            by=staff,
        )
        if number % 4 == 0:
            action_close(action=action, status="done", note="Booked for the half term.", by=staff)
    meeting_mark_held(meeting=meeting, by=staff)


def _cetrs(staff: User, panel: User) -> None:
    red = Person.objects.filter(register_entries__status="open", register_entries__rating=RAG.RED)
    for number, person in enumerate(red[:3]):
        try:
            cetr = cetr_plan(
                person=person,
                kind=Cetr.Kind.COMMUNITY,
                by=staff,
                scheduled_on=timezone.localdate() + timedelta(days=10 + number),
            )
        except RegisterError:
            continue
        if number == 0:
            for role, name, user in [
                (PanelMember.Role.CHAIR, "Alex Morgan", None),
                (PanelMember.Role.CLINICAL_EXPERT, "Dr Sam Idowu", None),
                (PanelMember.Role.EXPERT_BY_EXPERIENCE, panel.full_name, panel),
            ]:
                panel_member_save(
                    member=PanelMember(
                        cetr=cetr,
                        role=role,
                        name=name,
                        user=user,
                        conflicts_declared=True,
                        professional_registration="GMC 7012345"
                        if user is None and "Dr" in name
                        else "",
                    ),
                    by=staff,
                )
            cetr_consent_record(
                cetr=cetr,
                basis=Consent.Basis.OWN_CONSENT,
                evidence="Signed consent form, scanned to the care record.",
                recorded_on=timezone.localdate(),
                by=staff,
            )
    blue = Admission.objects.filter(
        discharged_on__isnull=True, community_cetr_before_admission=False
    )
    for admission in blue.select_related("person")[:2]:
        try:
            cetr_plan(person=admission.person, kind=Cetr.Kind.POST_ADMISSION, by=staff)
        except RegisterError:
            continue


def _requests() -> None:
    for given, family, relationship in [
        ("Ellis", "Ward", "family"),
        ("Jordan", "Price", "advocate"),
    ]:
        cetr_request_submit(
            fields={
                "relationship": relationship,
                "requester_name": "Morgan Ward" if relationship == "family" else "Casey Lane",
                "requester_email": "family@example.com",
                "contact_by": CetrRequest.ContactBy.EMAIL,
                "given_name": given,
                "family_name": family,
                "date_of_birth": timezone.localdate() - timedelta(days=16 * 365),
                "in_hospital": CetrRequest.InHospital.NO,
                "reason": "Things at home are getting harder and the school placement may end.",
                "person_knows": True,
            },
            channel=CetrRequest.Channel.ONLINE,
            submission_token=uuid.uuid4(),
        )


def seed_reviews() -> int:
    """Seed once: skipped when any meeting exists. Returns the number of meetings created."""
    if Meeting.objects.exists():
        return 0
    staff = User.objects.get(email="staff@dsr.example")
    lead = User.objects.get(email="lead@dsr.example")
    manager = User.objects.get(email="health.manager@dsr.example")
    panel = User.objects.get(email="panel@dsr.example")
    _held_meeting(staff, lead, manager)
    upcoming = meeting_create(
        kind=Meeting.Kind.DSR_REVIEW,
        held_at=timezone.now() + timedelta(days=7),
        chair=lead,
        by=staff,
        location="Room 2, County Hall, and online",
    )
    green = Person.objects.filter(
        register_entries__status="open", register_entries__rating=RAG.GREEN
    )
    for person in green[:1]:
        agenda_add(meeting=upcoming, person=person, by=staff)
    _cetrs(staff, panel)
    _requests()
    return 2
