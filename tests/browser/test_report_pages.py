"""The register snapshot report in Chromium: WCAG 2.2 AA with axe, under the CSP, charts and
tables together."""

import pytest
from django.urls import reverse

from dsr.roles import Role
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


def test_the_report_pages_are_accessible(page, live_server, areas, screenshot):
    icb = OrganisationFactory(
        name="Browser ICB", local_authorities=[areas["north"], areas["south"]]
    )
    commissioner = UserFactory(
        email="commissioner@nhs.example", organisation=icb, roles=[Role.PLANNING_COMMISSIONER]
    )
    device = TOTPDeviceFactory(user=commissioner)
    for number in range(30):
        person = PersonFactory(
            local_authority=areas["north" if number % 3 else "south"], responsible_icb=icb
        )
        on_register(person, rating=["RED", "AMBER", "GREEN"][number % 3], by=commissioner)

    sign_in(page, live_server.url + reverse("reports:snapshot"), commissioner, device)
    assert page.get_by_role("heading", level=1).inner_text().startswith("The register on")
    screenshot("reports-snapshot")
    serious = serious_violations(page)
    page.goto(live_server.url + reverse("reports:flows"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Flows from")
    screenshot("reports-flows")
    serious += serious_violations(page)
    record("axe: report pages checked (serious or critical violations)", f"2 ({len(serious)})")
    assert serious == []
    assert page.csp_violations == []
    assert page.broken == []


def test_the_being_counted_notice_is_accessible(page, live_server, areas, nothing_counted):
    icb = OrganisationFactory(name="Browser ICB", local_authorities=[areas["north"]])
    commissioner = UserFactory(
        email="commissioner@nhs.example", organisation=icb, roles=[Role.PLANNING_COMMISSIONER]
    )
    device = TOTPDeviceFactory(user=commissioner)

    sign_in(page, live_server.url + reverse("reports:snapshot"), commissioner, device)
    assert page.get_by_text("These figures are being counted.").is_visible()
    assert page.get_by_role("link", name="Try again").is_visible()
    serious = serious_violations(page)
    record("axe: the being counted notice (serious or critical violations)", f"1 ({len(serious)})")
    assert serious == []
    assert page.csp_violations == []
