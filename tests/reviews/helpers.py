"""Helpers for the review tests (the people and accounts are in tests/conftest.py, the rows in
tests/reviews/factories.py)."""

import datetime

from django.utils import timezone


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    """An aware London date and time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def agree_action(person, by, *, cetr, description: str, due_on: datetime.date):
    """An action agreed at the C(E)TR `cetr`, owned by `by`."""
    from reviews.models import Agency
    from reviews.services import Owner, action_create

    return action_create(
        person=person,
        cetr=cetr,
        description=description,
        owner=Owner(user=by),
        agency=Agency.HEALTH,
        due_on=due_on,
        by=by,
    )
