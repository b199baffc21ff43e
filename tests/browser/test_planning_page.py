"""A planning commissioner's job in Chromium: sign in, start from the home page, open the
planning figures, choose a year, read trends, hospital use, placements and committed spend;
WCAG 2.2 AA with axe, under the CSP. Screenshots go to test-artifacts/."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.models import Admission, PlacementType
from dsr.roles import Role
from dsr.services import admission_discharge, admission_record, placement_record
from tests.browser.helpers import serious_violations, sign_in
from tests.dsr.factories import (
    OrganisationFactory,
    PersonFactory,
    TOTPDeviceFactory,
    UserFactory,
    on_register,
)
from tests.figures import record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _seed(areas, icb, clerk, year: int) -> None:
    """24 people in Northshire on the register from 5 January of `year`, each with a supported
    living placement from then at £700 to £16,800 a week; ten admitted on 3 March and
    discharged from 13 March on."""
    people = []
    for number in range(24):
        person = PersonFactory(local_authority=areas["north"], responsible_icb=icb)
        on_register(person, rating="AMBER", by=clerk, opened_on=datetime.date(year, 1, 5))
        placement_record(
            person=person,
            placement_type=PlacementType.SUPPORTED_LIVING,
            started_on=datetime.date(year, 1, 5),
            weekly_cost=Decimal(700 * (number + 1)),
            funder="icb",
            by=clerk,
        )
        people.append(person)
    for number, person in enumerate(people[:10]):
        admission = admission_record(
            person=person,
            hospital_name="Riverside Hospital",
            hospital_ods_code="RMY01",
            cqc_rating=Admission.CqcRating.GOOD,
            admitted_on=datetime.date(year, 3, 3),
            ward_security=Admission.WardSecurity.GENERAL,
            community_cetr_before_admission=True,
            by=clerk,
        )
        admission_discharge(
            admission=admission, discharged_on=datetime.date(year, 3, 13 + number), by=clerk
        )


def test_a_commissioner_plans_from_the_planning_figures(page, live_server, areas, screenshot):
    today = timezone.localdate()
    year = today.year if today.month > 4 else today.year - 1
    icb = OrganisationFactory(
        name="Browser ICB", local_authorities=[areas["north"], areas["south"]]
    )
    clerk = UserFactory(email="clerk@nhs.example", organisation=icb, roles=[Role.REGISTER_STAFF])
    _seed(areas, icb, clerk, year)
    commissioner = UserFactory(
        email="commissioner@nhs.example", organisation=icb, roles=[Role.PLANNING_COMMISSIONER]
    )
    device = TOTPDeviceFactory(user=commissioner)

    sign_in(page, live_server.url + reverse("dsr:home"), commissioner, device)
    screenshot("planning-0-home")
    page.get_by_role("link", name="Planning figures").click()
    page.wait_for_load_state()
    page.get_by_label("Year").select_option(str(year))
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == f"Planning figures for {year}"
    screenshot("planning-1-year")
    text = page.inner_text("main")
    assert f"March {year}" in text
    assert "Committed spend by month and local authority" in text
    assert "£" in text
    serious = serious_violations(page)
    record("axe: planning page checked (serious or critical violations)", f"1 ({len(serious)})")
    assert serious == []
    assert page.csp_violations == []
    assert page.broken == []
    assert page.url.startswith(live_server.url + reverse("reports:planning"))
