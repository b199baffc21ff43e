"""Factories for reviews: meetings and their agendas, actions, C(E)TRs and their panels,
oversight visits and C(E)TR requests, in each state the database allows.

They write the rows as the services of reviews/services/ leave them, without the services'
checks and side effects: a meeting's agenda is not drawn from the register (add
AgendaItemFactory rows), no outbox message is written and no history row carries a change
reason. A test of a rule calls the service; these build what the test needs around it.

Defaults are fixed in the week of the frozen clock (tests/conftest.py `frozen_now`: Tuesday
10 March 2026, 09:30), so a test may assert on them.
"""

import datetime
import uuid

import factory
from django.utils import timezone

from dsr.models import Consent
from dsr.next_steps import cetr_name
from reviews.models import (
    Action,
    Agency,
    AgendaItem,
    AgendaReason,
    Attendee,
    Cetr,
    CetrRequest,
    Meeting,
    OversightVisit,
    PanelMember,
)
from tests.dsr.factories import PersonFactory, UserFactory
from tests.reviews.helpers import at

TODAY = datetime.date(2026, 3, 10)


def _open_admission(person):
    return person.admissions.get(discharged_on__isnull=True)


# --- Meetings ----------------------------------------------------------------------------------


class MeetingFactory(factory.django.DjangoModelFactory):
    """A planned DSR multi-agency review for every area on Thursday 12 March 2026 at 10:00,
    chaired by the member of staff who planned it, with nobody on its agenda yet."""

    class Meta:
        model = Meeting

    kind = Meeting.Kind.DSR_REVIEW
    held_at = factory.LazyFunction(lambda: at(datetime.date(2026, 3, 12)))
    local_authority = None
    chair = factory.SubFactory(UserFactory)
    status = Meeting.Status.PLANNED
    created_by = factory.SelfAttribute("chair")


class HeldMeetingFactory(MeetingFactory):
    """Held on Monday 9 March 2026 at 10:00, and marked as held an hour later: its minutes
    are final."""

    held_at = factory.LazyFunction(lambda: at(datetime.date(2026, 3, 9)))
    status = Meeting.Status.HELD
    held_recorded_at = factory.LazyAttribute(lambda o: o.held_at + datetime.timedelta(hours=1))


class CancelledMeetingFactory(MeetingFactory):
    status = Meeting.Status.CANCELLED
    cancelled_reason = "The chair is unwell; the people on the agenda move to the next meeting."


class AttendeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendee

    meeting = factory.SubFactory(MeetingFactory)
    name = factory.Sequence(lambda n: f"Attendee {n}")
    organisation = "Northshire Council"
    agency = Agency.SOCIAL_CARE
    attendance = Attendee.Attendance.INVITED


class AgendaItemFactory(factory.django.DjangoModelFactory):
    """A person added to a planned meeting's agenda by hand, not yet discussed."""

    class Meta:
        model = AgendaItem

    meeting = factory.SubFactory(MeetingFactory)
    person = factory.SubFactory(PersonFactory)
    reasons = factory.LazyFunction(lambda: [AgendaReason.BY_HAND])
    added_by = factory.SelfAttribute("meeting.created_by")


class DiscussedAgendaItemFactory(AgendaItemFactory):
    """Discussed by the chair at a meeting that has started (the person's risks reviewed, the
    rating left as it was)."""

    meeting = factory.SubFactory(MeetingFactory, held_at=factory.LazyFunction(lambda: at(TODAY, 9)))
    risk_factors = factory.LazyFunction(lambda: ["crisis"])
    discussion = "The new support package is working."
    discussed_at = factory.SelfAttribute("meeting.held_at")
    discussed_by = factory.SelfAttribute("meeting.chair")


# --- C(E)TRs -----------------------------------------------------------------------------------


class CetrFactory(factory.django.DjangoModelFactory):
    """A planned community C(E)TR, a CETR or a CTR by the person's age and EHCP as cetr_plan
    chooses (a CTR for the default 29-year-old), with no panel, findings or consent evidence.

    A hospital kind is linked to the person's open admission (record it first). Traits:
    `findings` (the four key questions answered) and `consented` (consent evidence recorded
    today, so the panel may read the pack)."""

    class Meta:
        model = Cetr

    class Params:
        findings = factory.Trait(
            finding_safe="Yes.",
            finding_good_care="Mostly.",
            finding_future="A discharge plan is agreed.",
            finding_community="Yes, with a new provider.",
        )
        consented = factory.Trait(
            consent_basis=Consent.Basis.OWN_CONSENT,
            consent_evidence="Signed form.",
            consent_recorded_on=TODAY,
            consent_recorded_by=factory.SelfAttribute("created_by"),
        )

    person = factory.SubFactory(PersonFactory)
    kind = Cetr.Kind.COMMUNITY
    education_element = factory.LazyAttribute(
        lambda o: cetr_name(o.person, timezone.localdate()) == "CETR"
    )
    admission = factory.LazyAttribute(
        lambda o: None if o.kind == Cetr.Kind.COMMUNITY else _open_admission(o.person)
    )
    status = Cetr.Status.PLANNED
    created_by = factory.SubFactory(UserFactory)


class CompletedCetrFactory(CetrFactory):
    """Held today with its four findings, completed by the member of staff who planned it
    (the panel is not checked: seat one with `full_panel` when a test reads it)."""

    findings = True
    status = Cetr.Status.COMPLETED
    held_on = TODAY
    completed_by = factory.SelfAttribute("created_by")


class CancelledCetrFactory(CetrFactory):
    status = Cetr.Status.CANCELLED
    cancelled_reason = "The person moved out of the area before the review."


class PanelMemberFactory(factory.django.DjangoModelFactory):
    """A chair without an account who has declared their conflicts of interest. A clinical
    expert gets a professional registration."""

    class Meta:
        model = PanelMember

    cetr = factory.SubFactory(CetrFactory)
    role = PanelMember.Role.CHAIR
    name = factory.LazyAttribute(lambda o: f"{PanelMember.Role(o.role).label} name")
    conflicts_declared = True
    professional_registration = factory.LazyAttribute(
        lambda o: "GMC 1234567" if o.role == PanelMember.Role.CLINICAL_EXPERT else ""
    )


REQUIRED_PANEL = (
    PanelMember.Role.CHAIR,
    PanelMember.Role.CLINICAL_EXPERT,
    PanelMember.Role.EXPERT_BY_EXPERIENCE,
)


def full_panel(cetr: Cetr, *, skip: str | None = None, **fields) -> list[PanelMember]:
    """The panel rule 9 requires: a chair, a registered independent clinical expert and an
    independent expert by experience (`skip` leaves one role out; `fields` apply to each)."""
    return [
        PanelMemberFactory(cetr=cetr, role=role, **fields)
        for role in REQUIRED_PANEL
        if role != skip
    ]


class OversightVisitFactory(factory.django.DjangoModelFactory):
    """A visit today with no concerns, to a person in hospital (record the admission first)."""

    class Meta:
        model = OversightVisit

    person = factory.SubFactory(PersonFactory)
    admission = factory.LazyAttribute(lambda o: _open_admission(o.person))
    visited_on = TODAY
    visited_by = "Case manager"
    findings = "Settled."
    concerns = False
    recorded_by = factory.SubFactory(UserFactory)


# --- Actions -----------------------------------------------------------------------------------


class ActionFactory(factory.django.DjangoModelFactory):
    """An open action agreed at a meeting about the person, owned by the member of staff who
    agreed it, due today. Trait `named_owner`: owned by someone without an account."""

    class Meta:
        model = Action

    class Params:
        named_owner = factory.Trait(
            owner=None,
            owner_name="Jo Patel",
            owner_organisation="Short breaks",
            owner_email="jo@example.org",
            created_by=factory.SubFactory(UserFactory),
        )

    person = factory.SubFactory(PersonFactory)
    source = Action.Source.MEETING
    agenda_item = factory.SubFactory(AgendaItemFactory, person=factory.SelfAttribute("..person"))
    description = "Arrange respite."
    owner = factory.SubFactory(UserFactory)
    agency = Agency.SOCIAL_CARE
    due_on = TODAY
    status = Action.Status.OPEN
    created_by = factory.SelfAttribute("owner")


class OverdueActionFactory(ActionFactory):
    """Due yesterday and still open."""

    due_on = TODAY - datetime.timedelta(days=1)


class DoneActionFactory(ActionFactory):
    status = Action.Status.DONE
    completion_note = "Booked."
    closed_on = TODAY
    closed_by = factory.SelfAttribute("created_by")


class CancelledActionFactory(ActionFactory):
    status = Action.Status.CANCELLED
    completion_note = "No longer needed: the placement found its own respite."
    closed_on = TODAY
    closed_by = factory.SelfAttribute("created_by")


class CetrRecommendationFactory(ActionFactory):
    """An open action recommended by a C(E)TR about the person."""

    source = Action.Source.CETR
    agenda_item = None
    cetr = factory.SubFactory(CetrFactory, person=factory.SelfAttribute("..person"))


class VisitActionFactory(ActionFactory):
    """An open action agreed at an oversight visit (the person must be in hospital)."""

    source = Action.Source.OVERSIGHT_VISIT
    agenda_item = None
    visit = factory.SubFactory(OversightVisitFactory, person=factory.SelfAttribute("..person"))


# --- C(E)TR requests ---------------------------------------------------------------------------


class CetrRequestFactory(factory.django.DjangoModelFactory):
    """A request received online now from Ellis Ward's family, by email, waiting to be
    triaged. No acknowledgement is written to the outbox (cetr_request_submit writes one)."""

    class Meta:
        model = CetrRequest

    # A leading 0: cetr_request_submit's references run from CR-2026-100000.
    reference = factory.Sequence(lambda n: f"CR-2026-{n:06d}")
    submission_token = factory.LazyFunction(uuid.uuid4)
    channel = CetrRequest.Channel.ONLINE
    received_at = factory.LazyFunction(timezone.now)
    relationship = CetrRequest.Relationship.FAMILY
    requester_name = "Morgan Ward"
    requester_email = "morgan@example.com"
    contact_by = CetrRequest.ContactBy.EMAIL
    given_name = "Ellis"
    family_name = "Ward"
    date_of_birth = datetime.date(2000, 4, 1)
    local_authority = None
    in_hospital = CetrRequest.InHospital.NO
    reason = "Things are getting harder at home."
    person_knows = True
    status = CetrRequest.Status.RECEIVED


class DeclinedCetrRequestFactory(CetrRequestFactory):
    status = CetrRequest.Status.DECLINED
    decline_reason = "Not now."
    triaged_at = factory.LazyFunction(timezone.now)
    triaged_by = factory.SubFactory(UserFactory)


class ArrangedCetrRequestFactory(CetrRequestFactory):
    """Arranged: linked to a person and the C(E)TR planned for them."""

    status = CetrRequest.Status.ARRANGED
    person = factory.SubFactory(PersonFactory)
    cetr = factory.SubFactory(CetrFactory, person=factory.SelfAttribute("..person"))
    triaged_at = factory.LazyFunction(timezone.now)
    triaged_by = factory.SubFactory(UserFactory)
