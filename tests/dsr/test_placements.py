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
