"""Every review factory writes a row the database accepts, in the state its name says."""

import datetime

import pytest

from reviews.models import Action, Cetr, CetrRequest, Meeting
from reviews.services import panel_gaps
from tests.reviews import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.mark.parametrize(
    ("factory", "status"),
    [
        (factories.MeetingFactory, Meeting.Status.PLANNED),
        (factories.HeldMeetingFactory, Meeting.Status.HELD),
        (factories.CancelledMeetingFactory, Meeting.Status.CANCELLED),
        (factories.ActionFactory, Action.Status.OPEN),
        (factories.OverdueActionFactory, Action.Status.OPEN),
        (factories.DoneActionFactory, Action.Status.DONE),
        (factories.CancelledActionFactory, Action.Status.CANCELLED),
        (factories.CetrRecommendationFactory, Action.Status.OPEN),
        (factories.CetrFactory, Cetr.Status.PLANNED),
        (factories.CompletedCetrFactory, Cetr.Status.COMPLETED),
        (factories.CancelledCetrFactory, Cetr.Status.CANCELLED),
        (factories.CetrRequestFactory, CetrRequest.Status.RECEIVED),
        (factories.DeclinedCetrRequestFactory, CetrRequest.Status.DECLINED),
        (factories.ArrangedCetrRequestFactory, CetrRequest.Status.ARRANGED),
    ],
)
def test_each_state_is_a_valid_row(factory, status):
    made = factory()
    made.refresh_from_db()
    assert made.status == status


def test_the_other_rows_are_valid():
    item = factories.DiscussedAgendaItemFactory()
    attendee = factories.AttendeeFactory(meeting=item.meeting)
    cetr = factories.CetrFactory(consented=True, findings=True)
    panel = factories.full_panel(cetr)
    assert item.discussed_by == item.meeting.chair
    assert attendee.meeting == item.meeting
    assert cetr.has_consent_evidence
    assert panel_gaps(panel) == []
    assert factories.ActionFactory(named_owner=True).owner_label == "Jo Patel, Short breaks"


def test_a_visit_and_a_hospital_cetr_belong_to_the_open_admission(make_person, admit):
    person = make_person("RED", out_of_area=True)
    admission = admit(person, datetime.date(2026, 3, 2), community_cetr=True)
    visit_action = factories.VisitActionFactory(person=person)
    cetr = factories.CetrFactory(person=person, kind=Cetr.Kind.INPATIENT)
    assert (visit_action.visit.admission, cetr.admission) == (admission, admission)
