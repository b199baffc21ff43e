"""The register snapshot report in Chromium: WCAG 2.2 AA with axe, under the CSP, charts and
tables together."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django_otp.oath import totp

from dsr.roles import Role
from tests.conftest import PASSWORD
from tests.dsr.factories import (
    OrganisationFactory,
    PersonFactory,
    TOTPDeviceFactory,
    UserFactory,
    on_register,
)
from tests.figures import record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _serious(page) -> list[str]:
    results = Axe().run(page)
    return [
        v["id"] for v in results.response["violations"] if v["impact"] in {"serious", "critical"}
    ]


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

    page.goto(live_server.url + reverse("reports:snapshot"))
    page.get_by_label("Email address").fill(commissioner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("The register on")
    screenshot("reports-snapshot")
    serious = _serious(page)
    page.goto(live_server.url + reverse("reports:flows"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Flows from")
    screenshot("reports-flows")
    serious += _serious(page)
    record("axe: report pages checked (serious or critical violations)", f"2 ({len(serious)})")
    assert serious == []
    assert page.csp_violations == []
    assert page.broken == []
