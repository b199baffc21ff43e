"""Tokens for BI tools in Chromium, as an administrator works them: from the header's link,
issue a token, copy it once, see the BI tool's call counted, withdraw it. Each page passes axe."""

import urllib.request

import pytest
from django.urls import reverse

from dsr.roles import Role
from tests.browser.helpers import serious_violations, sign_in
from tests.dsr.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _call(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310 (the test's own server)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_administrator_issues_and_withdraws_a_token(page, live_server, areas, screenshot):
    icb = OrganisationFactory(name="Browser ICB", local_authorities=[areas["north"]])
    admin = UserFactory(
        email="admin@nhs.example", organisation=icb, roles=[Role.ADMINISTRATOR], is_staff=True
    )
    device = TOTPDeviceFactory(user=admin)
    violations = []

    sign_in(page, live_server.url + reverse("dsr:home"), admin, device)
    more = page.get_by_role("button", name="More")  # the header's overflow menu, if any
    if more.is_visible():
        more.click()
    page.get_by_role("link", name="BI tokens").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Tokens for BI tools"
    violations += [(page.url, v) for v in serious_violations(page)]

    page.get_by_role("button", name="Issue a token").click()
    page.get_by_role("button", name="Issue the token").click()
    page.wait_for_load_state()
    assert "Enter what the token is for." in page.inner_text(".nhsuk-error-summary")
    violations += [(page.url, v) for v in serious_violations(page)]

    page.get_by_label("What the token is for").fill("Power BI for commissioning")
    page.get_by_label("Whose figures it reads").select_option(label="Browser ICB")
    page.get_by_label("1 year").check()
    page.get_by_role("button", name="Issue the token").click()
    page.wait_for_load_state()
    screenshot("api-token-issued")
    violations += [(page.url, v) for v in serious_violations(page)]
    token = page.get_by_label("Token").input_value()
    assert token.startswith("dsr_")

    feed = live_server.url + reverse("reports:api-areas")
    assert _call(feed, token) == 200

    page.get_by_role("link", name="Back to tokens for BI tools").click()
    page.wait_for_load_state()
    row = page.locator("tbody tr").first
    assert "Power BI for commissioning" in row.inner_text()
    assert "In use" in row.inner_text()
    assert token not in page.content()
    screenshot("api-token-list")

    row.get_by_role("link", name="Withdraw").click()
    page.get_by_role("button", name="Withdraw the token").click()
    page.wait_for_load_state()
    assert "has been withdrawn" in page.inner_text("main")
    assert "Withdrawn" in page.locator("tbody tr").first.inner_text()
    violations += [(page.url, v) for v in serious_violations(page)]
    assert _call(feed, token) == 401
    assert violations == []
