"""Helpers for the review tests (the people and accounts are in tests/conftest.py)."""

import datetime

from django.utils import timezone


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    """An aware London date and time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
