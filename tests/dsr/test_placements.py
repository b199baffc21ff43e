"""Recording a placement or care package, and an admission's optional cost, funder and planned
discharge date: saved with history; bad input gets a clear error and writes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from dsr.models import Admission, Placement

pytestmark = pytest.mark.django_db


def _date(name: str, day: datetime.date | None) -> dict[str, str]:
    if day is None:
        return {f"{name}_day": "", f"{name}_month": "", f"{name}_year": ""}
    return {
        f"{name}_day": str(day.day),
        f"{name}_month": str(day.month),
        f"{name}_year": str(day.year),
    }


def _placement(**changes) -> dict[str, str]:
    data = {
        "placement_type": "supported_living",
        "out_of_area": "yes",
        "provider_name": "Riverside Homes",
        "weekly_cost": "2450.00",
        "funder": "joint",
        **_date("started_on", datetime.date(2026, 2, 1)),
        **_date("ended_on", None),
    }
    data.update(changes)
    return data


def test_a_placement_is_recorded_with_its_cost_and_history(make_person, staff_client, frozen_now):
    person = make_person("AMBER")
    url = reverse("dsr:person-placement", args=[person.pk])
    assert "Record a placement or care package" in staff_client.get(url).content.decode()
    response = staff_client.post(url, _placement())
    assert response.status_code == 302
    placement = Placement.objects.get(person=person)
    assert (placement.placement_type, placement.out_of_area) == ("supported_living", True)
    assert (placement.weekly_cost, placement.funder) == (Decimal("2450.00"), "joint")
    assert placement.started_on == datetime.date(2026, 2, 1)
    assert placement.ended_on is None
    (history,) = placement.history.all()
    assert history.history_change_reason == "Placement recorded"
    assert history.weekly_cost == Decimal("2450.00")


def test_the_person_page_offers_the_placement_form(make_person, staff_client):
    person = make_person("AMBER")
    page = staff_client.get(person.get_absolute_url()).content.decode()
    assert reverse("dsr:person-placement", args=[person.pk]) in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            _date("ended_on", datetime.date(2026, 1, 31)),
            "The end date must be on or after the start date.",
        ),
        ({"weekly_cost": "-5"}, "The weekly cost cannot be less than zero."),
        ({"weekly_cost": "lots"}, "Enter the weekly cost as a number of pounds, like 4250.00."),
        ({"weekly_cost": "12.345"}, "Enter the weekly cost to the nearest penny."),
        ({"funder": "charity"}, "Choose who pays for the placement from the list."),
        ({"placement_type": ""}, "Choose the type of placement."),
        (_date("started_on", datetime.date(2026, 4, 1)), "must be today or in the past"),
    ],
)
def test_bad_placement_input_gets_an_error_and_writes_nothing(
    make_person, staff_client, frozen_now, changes, message
):
    person = make_person("AMBER")
    response = staff_client.post(
        reverse("dsr:person-placement", args=[person.pk]), _placement(**changes)
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "nhsuk-error-summary" in text
    assert message in text
    assert not Placement.objects.exists()


def test_an_admission_records_its_optional_cost_funder_and_planned_discharge(
    make_person, staff_client, frozen_now
):
    person = make_person("RED")
    data = {
        "hospital_name": "Riverside Hospital",
        "hospital_ods_code": "RMY01",
        "cqc_rating": "good",
        "ward_security": "general",
        "community_cetr_before_admission": "yes",
        "weekly_cost": "5250",
        "funder": "icb",
        **_date("admitted_on", datetime.date(2026, 3, 1)),
        **_date("planned_discharge_on", datetime.date(2026, 6, 30)),
    }
    url = reverse("dsr:person-admission", args=[person.pk])
    bad = staff_client.post(
        url, {**data, **_date("planned_discharge_on", datetime.date(2026, 2, 1))}
    )
    assert "The planned discharge date must be after the admission." in bad.content.decode()
    assert not Admission.objects.exists()
    assert staff_client.post(url, data).status_code == 302
    admission = Admission.objects.get(person=person)
    assert (admission.weekly_cost, admission.funder) == (Decimal("5250"), "icb")
    assert admission.planned_discharge_on == datetime.date(2026, 6, 30)
    assert admission.history.get().planned_discharge_on == datetime.date(2026, 6, 30)


# --- The person page's placements, and ending one ---------------------------------------------


def _record(person, clerk, **changes):
    from dsr.services import placement_record

    fields = {
        "placement_type": "supported_living",
        "out_of_area": True,
        "provider_name": "Riverside Homes",
        "started_on": datetime.date(2026, 1, 10),
        "weekly_cost": Decimal("2450.00"),
        "funder": "joint",
        **changes,
    }
    return placement_record(person=person, by=clerk, **fields)


def _section(page: str) -> str:
    """The placements section of a person page."""
    start = page.index('id="placements"')
    return page[start : page.index("<h2", start + 1)]


def test_the_person_page_lists_current_placements_and_links_to_the_past_ones(
    make_person, clerk, staff_client, frozen_now
):
    person = make_person("AMBER")
    current = _record(person, clerk)
    past = _record(
        person,
        clerk,
        placement_type="residential_care",
        out_of_area=False,
        provider_name="",
        started_on=datetime.date(2025, 6, 1),
        ended_on=datetime.date(2026, 1, 9),
        weekly_cost=None,
        funder="",
    )
    section = _section(staff_client.get(person.get_absolute_url()).content.decode())
    (current_table,) = section.split("<table")[1:]
    assert "Current" in current_table
    assert "Supported living, out of area" in current_table
    assert "Riverside Homes" in current_table
    assert "From 10 January 2026" in current_table
    assert "£2,450.00 a week" in current_table
    assert "Jointly funded (ICB and local authority)" in current_table
    assert reverse("dsr:person-placement-end", args=[person.pk, current.pk]) in current_table
    assert "Residential care" not in section
    all_placements = reverse("dsr:person-placements", args=[person.pk])
    assert f'<a href="{all_placements}">Show all placements, with the 1 that ended</a>' in section
    assert reverse("dsr:person-placement", args=[person.pk]) in section

    # One click away: every placement, the past ones with no end link.
    page = staff_client.get(all_placements).content.decode()
    current_table, past_table = page.split("<table")[1:]
    assert "Current" in current_table and "Past" in past_table
    assert reverse("dsr:person-placement-end", args=[person.pk, current.pk]) in current_table
    assert "Residential care, in area" in past_table
    assert "From 1 June 2025 to 9 January 2026" in past_table
    assert "No cost recorded" in past_table
    assert "End this placement" not in past_table
    assert reverse("dsr:person-placement-end", args=[person.pk, past.pk]) not in page
    assert reverse("dsr:person-placement", args=[person.pk]) in page


def test_the_placements_page_lists_a_long_history_newest_first_up_to_its_limit(
    make_person, clerk, staff_client, frozen_now, monkeypatch
):
    from dsr.views import people

    monkeypatch.setattr(people, "PLACEMENTS_SHOWN", 3)
    person = make_person("AMBER")
    _record(person, clerk)
    for month in range(1, 6):
        _record(
            person,
            clerk,
            provider_name=f"Home {month}",
            started_on=datetime.date(2025, month, 1),
            ended_on=datetime.date(2025, month, 20),
        )
    page = staff_client.get(reverse("dsr:person-placements", args=[person.pk])).text

    assert "Riverside Homes" in page and "Home 5" in page and "Home 4" in page
    assert "Home 3" not in page
    assert "Only the current placements and the newest that ended are listed: 3 in all." in page
    person_page = staff_client.get(person.get_absolute_url()).text
    assert "Show all placements, with the 5 that ended" in person_page
    assert "Home 5" not in person_page


def test_senior_managers_see_no_placements_or_costs(personas, register_objects):
    url = register_objects["north_red"].get_absolute_url()
    staff = personas["clients"]["register_staff"].get(url).content.decode()
    assert "£1,800.00 a week" in _section(staff)
    response = personas["clients"]["senior_manager_la"].get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="placements"' not in page
    assert "1,800.00" not in page


def test_ending_a_placement_keeps_its_history_and_the_start_is_kept(
    make_person, clerk, staff_client, frozen_now
):
    person = make_person("AMBER")
    placement = _record(person, clerk)
    url = reverse("dsr:person-placement-end", args=[person.pk, placement.pk])
    assert "End the placement" in staff_client.get(url).content.decode()
    response = staff_client.post(url, _date("ended_on", datetime.date(2026, 3, 1)))
    assert response.status_code == 302
    placement.refresh_from_db()
    assert placement.ended_on == datetime.date(2026, 3, 1)
    newest, first = placement.history.all()
    assert (newest.history_change_reason, newest.ended_on) == (
        "Placement ended",
        datetime.date(2026, 3, 1),
    )
    assert first.ended_on is None
    # Ended, it can be ended no more.
    assert staff_client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (datetime.date(2026, 1, 9), "The end date must be on or after the start date"),
        (datetime.date(2026, 3, 11), "The end date must be today or in the past."),
        (None, "Enter the end date"),
    ],
)
def test_a_bad_end_date_gets_an_error_summary_and_writes_nothing(
    make_person, clerk, staff_client, frozen_now, day, message
):
    person = make_person("AMBER")
    placement = _record(person, clerk)
    url = reverse("dsr:person-placement-end", args=[person.pk, placement.pk])
    response = staff_client.post(url, _date("ended_on", day))
    assert response.status_code == 200
    text = response.content.decode()
    assert "nhsuk-error-summary" in text
    assert message in text
    placement.refresh_from_db()
    assert placement.ended_on is None
    assert placement.history.count() == 1


def test_the_service_refuses_an_end_outside_the_placement_or_in_the_future(
    make_person, clerk, frozen_now
):
    from dsr.exceptions import RegisterError
    from dsr.services import placement_end

    person = make_person("AMBER")
    placement = _record(person, clerk)
    for day in (datetime.date(2026, 1, 9), datetime.date(2026, 3, 11)):
        with pytest.raises(RegisterError, match="between the start date and today"):
            placement_end(placement=placement, ended_on=day, by=clerk)
    with pytest.raises(RegisterError, match="between the start date and today"):
        _record(person, clerk, ended_on=datetime.date(2026, 4, 1))
    placement_end(placement=placement, ended_on=datetime.date(2026, 3, 10), by=clerk)
    with pytest.raises(RegisterError, match="already ended"):
        placement_end(placement=placement, ended_on=datetime.date(2026, 3, 10), by=clerk)


def test_another_persons_placement_cannot_be_ended_through_this_person(
    make_person, clerk, staff_client, frozen_now
):
    person, other = make_person("AMBER"), make_person("GREEN")
    theirs = _record(other, clerk)
    url = reverse("dsr:person-placement-end", args=[person.pk, theirs.pk])
    assert staff_client.post(url, _date("ended_on", datetime.date(2026, 3, 1))).status_code == 404
    theirs.refresh_from_db()
    assert theirs.ended_on is None


# --- One source of truth: where the person lives is their open placement -------------------


def test_where_the_person_lives_follows_their_open_placement(make_person, clerk, frozen_now):
    from dsr.services import placement_end

    person = make_person("AMBER", placement_type="family_home", out_of_area=False)
    placement = _record(person, clerk)
    person.refresh_from_db()
    assert (person.placement_type, person.out_of_area) == ("supported_living", True)
    assert person.history.first().history_change_reason == (
        "Where they live: from the current placement"
    )
    newer = _record(
        person,
        clerk,
        placement_type="residential_care",
        out_of_area=False,
        started_on=datetime.date(2026, 2, 1),
    )
    person.refresh_from_db()
    assert (person.placement_type, person.out_of_area) == ("residential_care", False)
    # Ending the newer one: the older open one is where they live again.
    placement_end(placement=newer, ended_on=datetime.date(2026, 3, 1), by=clerk)
    person.refresh_from_db()
    assert (person.placement_type, person.out_of_area) == ("supported_living", True)
    # A past placement recorded after the fact changes nothing.
    _record(
        person,
        clerk,
        placement_type="foster_care",
        started_on=datetime.date(2025, 1, 1),
        ended_on=datetime.date(2025, 6, 1),
    )
    person.refresh_from_db()
    assert person.placement_type == "supported_living"
    assert placement.ended_on is None


def test_the_details_form_and_an_import_do_not_change_where_someone_with_a_placement_lives(
    make_person, clerk, staff_client, frozen_now
):
    from dsr.services import person_update

    person = make_person("AMBER")
    edit = reverse("dsr:person-edit", args=[person.pk])
    assert 'name="placement_type"' in staff_client.get(edit).content.decode()
    _record(person, clerk)
    form = staff_client.get(edit).content.decode()
    assert 'name="placement_type"' not in form
    assert 'name="out_of_area"' not in form
    person_update(
        person=person, by=clerk, placement_type="foster_care", out_of_area=False, given_name="Al"
    )
    person.refresh_from_db()
    assert (person.placement_type, person.out_of_area, person.given_name) == (
        "supported_living",
        True,
        "Al",
    )
