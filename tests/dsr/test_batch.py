"""Several reads in one round trip (dsr.batch): the same objects as reading each queryset."""

from datetime import date

import pytest
from django.db import connection
from django.db.models import Count, Window
from django.test.utils import CaptureQueriesContext

from dsr.batch import read_together
from dsr.models import Consent, PersonContact, Rating, RegisterEntry
from dsr.services import rating_change
from tests.dsr.factories import PersonFactory, on_register

pytestmark = pytest.mark.django_db


def _fields(objects, *names):
    return [tuple(getattr(o, n) for n in names) for o in objects]


def test_read_together_gives_what_each_queryset_gives_in_one_round_trip(clerk):
    person = PersonFactory()
    entry = on_register(person, rating="AMBER", by=clerk, opened_on=date(2026, 1, 5))
    rating_change(entry=entry, rating="RED", rationale="Crisis.", by=clerk)
    PersonContact.objects.create(person=person, role="key_worker", name="Kim")
    ratings = (
        Rating.objects.filter(entry__person=person)
        .select_related("set_by", "entry__person")
        .annotate(count=Window(Count("id")))
        .order_by("-set_at", "-id")[:1]
    )
    entries = RegisterEntry.objects.filter(person=person).select_related("opened_by")
    contacts = PersonContact.objects.filter(person=person, name__startswith="100%")
    consents = Consent.objects.none()
    one_by_one = [list(qs.all()) for qs in (ratings, entries, contacts, consents)]

    with CaptureQueriesContext(connection) as captured:
        together = read_together(ratings, entries, contacts, consents)

    assert len(captured) == 1
    assert together == one_by_one
    (newest,) = together[0]
    assert (newest.rating, newest.rationale, newest.count) == ("RED", "Crisis.", 2)
    # select_related objects are built too: reading them needs no query.
    with CaptureQueriesContext(connection) as captured:
        assert newest.set_by == clerk and newest.entry.person == person
        assert together[1][0].opened_by == clerk
    assert len(captured) == 0
    assert together[2] == [] and together[3] == []


def test_read_together_with_nothing_to_read_runs_no_query():
    with CaptureQueriesContext(connection) as captured:
        assert read_together(Consent.objects.none(), Rating.objects.none()) == [[], []]
    assert len(captured) == 0
