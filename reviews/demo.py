"""Demo meetings, actions, C(E)TRs and requests (registered with dsr.demo; DEBUG only).

Everything goes through the review services, so the demo shows what real use produces: a
review meeting every four weeks of the past year with its actions (most done about on time, some
late, a few overdue now), next week's meeting with its agenda drawn from the register, C(E)TRs
in each state (one whose pack the demo panel member can read), C(E)TR requests waiting for
triage, and oversight visits.
"""

import uuid
from datetime import datetime, time, timedelta

from django.utils import timezone

from dsr.exceptions import RegisterError
from dsr.models import RAG, Admission, Consent, Person, RegisterEntry, User
from reviews.models import Action, Agency, Cetr, CetrRequest, Meeting, PanelMember
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

# Meetings in the demo's year: a DSR review meeting every MEETING_WEEKS weeks, on a Wednesday.
MEETING_WEEKS = 4
ACTIONS = [
    ("Arrange a short break for the family.", Agency.SOCIAL_CARE),
    ("Ask the school for an updated support plan.", Agency.EDUCATION),
    ("Review medication with the consultant.", Agency.HEALTH),
    ("Update the crisis plan and share it with the family.", Agency.HEALTH),
    ("Find a second carer for evenings.", Agency.SOCIAL_CARE),
]
# The chance, on each working day from a few days before its due date, that an open action is
# done (most are done about on time, some late); and the share that stall until someone chases
# them up, done weeks after their due date.
ACTION_DONE = 0.12
STALLED = 0.08
CHASED_LATE = 12
_STALLED: dict[int, int] = {}


def _meeting_day(moment, staff: User, lead: User, manager: User) -> None:
    """A review meeting on `moment.day`: the agenda drawn from the register, everyone on it
    discussed (so nobody is carried to the next one and the demo's agendas keep a meeting's
    size), the first eight with an action each (due in two to six weeks), the minutes final."""
    rng = moment.rng
    moment.at(10)
    meeting = meeting_create(
        kind=Meeting.Kind.DSR_REVIEW,
        held_at=_at(moment.day, 10, 30),
        chair=lead,
        by=staff,
        location=rng.choice(["Online", "Room 2, County Hall, and online"]),
    )
    for name, organisation, agency in [
        ("Priya Shah", "Integrated Care Board", Agency.HEALTH),
        ("Tom Reed", "County Council SEND team", Agency.EDUCATION),
        ("Grace Obi", "Adult social care", Agency.SOCIAL_CARE),
    ]:
        meeting.attendees.create(
            name=name, organisation=organisation, agency=agency, attendance="present"
        )
    moment.at(10, 45)
    for number, item in enumerate(meeting.items.select_related("person")):
        entry = RegisterEntry.objects.filter(person=item.person, status="open").first()
        if entry is None:
            continue
        discussion_record(
            item=item,
            by=staff,
            risk_factors=["crisis"] if entry.rating == RAG.RED else [],
            risk_notes="Reviewed with the family's account of the last month.",
            discussion="Support at home discussed; the team agreed the next steps below."
            if number < 8
            else "Support at home discussed; no change to the plan.",
        )
        if number >= 8:
            continue
        description, agency = rng.choice(ACTIONS)
        action = action_create(
            person=item.person,
            agenda_item=item,
            description=description,
            owner=Owner(user=manager)
            if number % 2 and entry.rating in (RAG.RED, RAG.AMBER)
            else Owner(name="Jo Patel", organisation="Short breaks service"),
            agency=agency,
            due_on=moment.day + timedelta(days=rng.randint(14, 42)),
            by=staff,
        )
        if rng.random() < STALLED:
            _STALLED[action.pk] = rng.randint(20, 60)
        if action.pk % CHASED_LATE == 0:
            # One in a dozen waits months for someone to chase it: the few overdue today.
            _STALLED[action.pk] = 120
    meeting_mark_held(meeting=meeting, by=staff)


def _at(day, hour: int, minute: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def reviews_demo_day(moment) -> None:
    """One working day of the demo's year: the meeting when one is due, and actions done."""
    staff = User.objects.get(email="staff@dsr.example")
    weeks = (moment.today - moment.day).days // 7
    if moment.day.weekday() == 2 and weeks % MEETING_WEEKS == 1:
        lead = User.objects.get(email="lead@dsr.example")
        manager = User.objects.get(email="health.manager@dsr.example")
        _meeting_day(moment, staff, lead, manager)
    moment.at(10, 50)
    for action in Action.objects.filter(
        status=Action.Status.OPEN, due_on__lte=moment.day + timedelta(days=3)
    ).order_by("id"):
        late_by = (moment.day - action.due_on).days
        if late_by >= _STALLED.get(action.pk, -3) and moment.rng.random() < ACTION_DONE:
            action_close(action=action, status="done", note="Done and recorded.", by=staff)


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
            # The basis fits the person's age, as the register's consent rules ask.
            cetr_consent_record(
                cetr=cetr,
                basis=Consent.Basis.OWN_CONSENT
                if person.age(timezone.localdate()) >= 16
                else Consent.Basis.PARENTAL_RESPONSIBILITY,
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
    """Seed once: skipped when a meeting is planned. The meetings of the past year were held
    through it (each_day, above); this plans next week's. Returns the meetings created."""
    if Meeting.objects.filter(held_at__gt=timezone.now()).exists():
        return 0
    staff = User.objects.get(email="staff@dsr.example")
    lead = User.objects.get(email="lead@dsr.example")
    panel = User.objects.get(email="panel@dsr.example")
    upcoming = meeting_create(
        kind=Meeting.Kind.DSR_REVIEW,
        held_at=timezone.now() + timedelta(days=7),
        chair=lead,
        by=staff,
        location="Room 2, County Hall, and online",
    )
    # One green person added by hand, not one the register already put on the agenda.
    green = Person.objects.filter(
        register_entries__status="open", register_entries__rating=RAG.GREEN
    ).exclude(pk__in=upcoming.items.values("person"))
    for person in green.order_by("id")[:1]:
        agenda_add(meeting=upcoming, person=person, by=staff)
    _cetrs(staff, panel)
    _requests()
    _STALLED.clear()
    return 1


seed_reviews.each_day = reviews_demo_day  # type: ignore[attr-defined]
