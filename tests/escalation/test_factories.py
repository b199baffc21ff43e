"""Every escalation factory writes a row the database accepts, with the transition rows its
state implies, so the services act on it as on one they raised."""

import pytest

from escalation.models import Escalation
from escalation.permissions import can_act
from tests.escalation import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.mark.parametrize(
    ("factory", "moves"),
    [
        (factories.EscalationFactory, [("", "open")]),
        (factories.AcknowledgedEscalationFactory, [("", "open"), ("open", "acknowledged")]),
        (factories.ResolvedEscalationFactory, [("", "open"), ("open", "resolved")]),
    ],
)
def test_each_state_has_its_transition_rows(factory, moves):
    escalation = factory()
    assert list(escalation.transitions.values_list("from_status", "to_status")) == moves
    assert escalation.status == moves[-1][1]


def test_an_escalation_about_a_red_person_is_due_next_working_day(make_person, personas):
    escalation = factories.EscalationFactory(person=make_person("RED"), level=2)
    assert escalation.local_authority == escalation.person.local_authority
    assert escalation.ack_due_on.isoformat() == "2026-03-11"
    assert can_act(personas["users"]["senior_manager_la"], escalation)
    assert factories.EscalationNoteFactory(escalation=escalation).escalation == escalation
    assert Escalation.objects.count() == 1
