"""Rating review and consent check reminders: one per due date, inserted set-based."""

from datetime import date, timedelta

import pytest

from dsr.models import Notification, Reminder
from dsr.outbox.delivery import deliver_due
from dsr.services import rating_change
from dsr.sweeps import register_review_sweep
from tests.dsr.factories import PersonFactory, UserFactory, on_register

pytestmark = pytest.mark.django_db


def test_a_rating_review_due_is_remembered_once_per_cycle(frozen_now):
    staff = UserFactory()
    entry = on_register(PersonFactory(), rating="RED", by=staff, opened_on=date(2026, 3, 1))
    assert entry.rating_review_due == date(2026, 3, 8)

    register_review_sweep(today=date(2026, 3, 7))
    assert not Reminder.objects.filter(kind="rating_review_due").exists()
    register_review_sweep(today=date(2026, 3, 8))
    register_review_sweep(today=date(2026, 3, 9))  # again: nothing new
    assert Reminder.objects.filter(kind="rating_review_due").count() == 1

    rating_change(entry=entry, rating="RED", rationale="Reviewed.", by=staff)  # due 17 March
    register_review_sweep(today=date(2026, 3, 17))
    reminders = Reminder.objects.filter(kind="rating_review_due").order_by("due_on")
    assert [r.due_on for r in reminders] == [date(2026, 3, 8), date(2026, 3, 17)]
    assert Notification.objects.filter(kind="rating_review_due").count() == 2


def test_consent_checks_are_remembered_30_days_ahead_for_people_on_the_register(frozen_now):
    staff = UserFactory()
    entry = on_register(PersonFactory(), by=staff, opened_on=date(2026, 1, 5))
    due = entry.consent.review_due  # a year after 5 January 2026

    register_review_sweep(today=due - timedelta(days=31))
    assert not Reminder.objects.filter(kind="consent_review_due").exists()
    register_review_sweep(today=due - timedelta(days=30))
    assert Reminder.objects.get(kind="consent_review_due").due_on == due


def test_reminder_emails_name_no_one(frozen_now):
    staff = UserFactory()
    person = PersonFactory(given_name="Zebedee", family_name="Quixote")
    on_register(person, rating="RED", by=staff, opened_on=date(2026, 3, 1))
    register_review_sweep(today=date(2026, 3, 9))

    deliver_due()

    from django.core import mail

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "Zebedee" not in message.subject + message.body
    assert f"/people/{person.pk}/" in message.body
