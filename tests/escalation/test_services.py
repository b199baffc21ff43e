"""An escalation is raised once per reason and triggering event, and anew for a new event."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from escalation.models import Escalation, EscalationTransition
from escalation.services import escalation_raise
from tests.dsr.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_the_same_event_raises_once_and_a_new_event_raises_anew():
    person = PersonFactory()

    first, created = escalation_raise(
        reason="referral_overdue", trigger_type="referrals.referral", trigger_id=1, person=person
    )
    again, created_again = escalation_raise(
        reason="referral_overdue", trigger_type="referrals.referral", trigger_id=1, person=person
    )
    other, created_other = escalation_raise(
        reason="referral_overdue", trigger_type="referrals.referral", trigger_id=2, person=person
    )

    assert (created, created_again, created_other) == (True, False, True)
    assert first == again != other
    assert first.local_authority == person.local_authority
    assert EscalationTransition.objects.filter(escalation=first).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_callers_at_once_raise_one_escalation():
    barrier = threading.Barrier(2)

    def raise_it():
        barrier.wait()
        escalation_raise(reason="referral_overdue", trigger_type="referrals.referral", trigger_id=9)
        connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = [pool.submit(raise_it) for _ in range(2)]
    for outcome in outcomes:
        outcome.result()  # an exception in either caller fails the test, not just its thread

    assert Escalation.objects.count() == 1
    assert EscalationTransition.objects.count() == 1
