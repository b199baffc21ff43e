"""Unmet needs and barriers: noted on a person's record or at a meeting, counted by need and
area for commissioners (issue "Reports" point 3)."""

import datetime

import pytest
from django.urls import reverse

from dsr.models import PersonNeed
from dsr.roles import Role
from dsr.services import needs_note, register_close
from reports.queries import needs_table
from reviews.models import Meeting
from reviews.services import discussion_record, meeting_create
from tests.conftest import account, signed_in_client
from tests.reviews.helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def test_the_register_form_says_what_is_unmet_now(make_person, clerk):
    person = make_person("RED")
    client = signed_in_client(clerk)
    url = reverse("dsr:person-needs", kwargs={"pk": person.pk})
    client.post(url, {"needs": ["housing", "respite"]})
    client.post(url, {"needs": ["housing"]})  # respite is now met
    open_needs = PersonNeed.objects.filter(person=person, met_on__isnull=True)
    assert list(open_needs.values_list("need", flat=True)) == ["housing"]
    met = PersonNeed.objects.get(person=person, need="respite")
    assert (met.met_on, met.met_by) == (datetime.date(2026, 3, 10), clerk)
    assert "Housing" in client.get(person.get_absolute_url()).content.decode()


def test_a_meeting_adds_needs_without_closing_others(make_person, clerk):
    person = make_person("RED")
    needs_note(person=person, needs=["housing"], by=clerk, source="register")
    meeting = meeting_create(
        kind=Meeting.Kind.URGENT, held_at=at(datetime.date(2026, 3, 10), 8), chair=clerk, by=clerk
    )
    from reviews.services import agenda_add

    item = agenda_add(meeting=meeting, person=person, by=clerk)
    discussion_record(
        item=item,
        by=clerk,
        risk_factors=[],
        risk_notes="",
        discussion="No crisis service out of hours.",
        needs=["crisis", "housing"],
    )
    rows = PersonNeed.objects.filter(person=person, met_on__isnull=True).order_by("need")
    assert [(r.need, r.source) for r in rows] == [("crisis", "meeting"), ("housing", "register")]


def test_needs_are_counted_by_need_and_area_for_people_on_the_register(make_person, clerk):
    # A (north): housing, respite. B (north): housing. C (south): housing. D (north, off the
    # register): housing, not counted. Housing: north 2, south 1. Respite: north 1.
    a = make_person("RED")
    b = make_person("AMBER")
    c = make_person("AMBER", area="south")
    d = make_person("GREEN")
    for person, needs in [
        (a, ["housing", "respite"]),
        (b, ["housing"]),
        (c, ["housing"]),
        (d, ["housing"]),
    ]:
        needs_note(person=person, needs=needs, by=clerk, source="register")
    register_close(entry=d.register_entries.get(), reason="risk_reduced", by=clerk)
    table = needs_table(clerk)
    values = {label: [cell.value for cell in cells] for label, cells, _ in table.lines}
    assert table.columns == ["Northshire", "Southshire"]
    assert values["Housing"] == [2, 1]
    assert values["Short breaks or respite"] == [1, 0]
    assert table.total.value == 4


def test_commissioners_see_the_counts_and_no_names(make_person, clerk, organisations):
    person = make_person("RED", family_name="Unnamed")
    needs_note(person=person, needs=["housing"], by=clerk, source="register")
    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    client = signed_in_client(commissioner)
    page = client.get(reverse("reports:needs")).content.decode()
    assert "Housing" in page and "&lt;8" in page and "Unnamed" not in page
    csv = client.get(reverse("reports:needs-csv")).content.decode()
    assert "Housing,<8" in csv and "Unnamed" not in csv


def test_the_needs_report_runs_the_same_queries_at_two_sizes(
    make_person, clerk, organisations, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    client = signed_in_client(commissioner)
    url = reverse("reports:needs")
    needs_note(person=make_person("RED"), needs=["housing"], by=clerk, source="register")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    small = len(queries)
    for _ in range(30):
        needs_note(
            person=make_person("AMBER"), needs=["respite", "crisis"], by=clerk, source="register"
        )
    with django_assert_max_num_queries(small):
        response = client.get(url, {"age_group": "adult"})
    assert response.context["table"].total.value == 61
