"""HZ-10: once a person withdraws consent, the register stops acting on them: they leave the
register, their live escalations are resolved by the rules, and no new escalation, review
reminder or panel pack follows."""

import datetime

import pytest

from dsr.models import Reminder
from dsr.services import consent_withdraw
from dsr.sweeps import register_review_sweep
from escalation.models import Escalation
from escalation.sweeps import escalation_ladder_sweep, escalation_rules_sweep
from reviews.models import Agency, Meeting
from reviews.services import Owner, action_create, agenda_add, meeting_create
from tests.reviews.helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)


def test_after_consent_is_withdrawn_the_register_stops_acting_on_the_person(clerk, make_person):
    person = make_person("RED", family_name="Withdrawn")
    meeting = meeting_create(kind=Meeting.Kind.URGENT, held_at=at(TODAY, 8), chair=clerk, by=clerk)
    action_create(
        person=person,
        agenda_item=agenda_add(meeting=meeting, person=person, by=clerk),
        description="Book respite.",
        owner=Owner(user=clerk),
        agency=Agency.SOCIAL_CARE,
        due_on=datetime.date(2026, 3, 9),
        by=clerk,
    )
    escalation_rules_sweep(today=TODAY)
    before = set(Escalation.objects.filter(person=person).live().values_list("reason", flat=True))
    # Red from 5 January: rated red, red without a community C(E)TR, an overdue action.
    assert {"red_rating", "red_without_cetr", "overdue_action"} <= before

    consent_withdraw(
        person=person, withdrawn_on=TODAY, note="Does not want to be on the register.", by=clerk
    )
    reminders = Reminder.objects.count()  # only this person is on the register
    for day in range(0, 120, 7):
        # As the scheduled task runs them: raise by the rules, then clear and climb.
        escalation_rules_sweep(today=TODAY + datetime.timedelta(days=day))
        escalation_ladder_sweep(today=TODAY + datetime.timedelta(days=day))
        register_review_sweep(today=TODAY + datetime.timedelta(days=day))

    live = Escalation.objects.filter(person=person).live()
    assert list(live.values_list("reason", flat=True)) == []
    assert Escalation.objects.filter(person=person).count() == len(before)
    assert Reminder.objects.count() == reminders
