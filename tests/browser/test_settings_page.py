"""The DSR lead's settings page in Chromium: WCAG 2.2 AA checks with axe as it first shows, with
a wrong answer (the error summary takes the user to it) and once saved, under the Content
Security Policy."""

import pytest
from django.urls import reverse

from dsr.models import RegisterSettings
from dsr.roles import Role
from tests.browser.helpers import serious_violations, sign_in
from tests.dsr.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_settings_page_is_accessible_and_refuses_a_wrong_answer(
    page, live_server, areas, screenshot
):
    icb = OrganisationFactory(name="Browser ICB", local_authorities=[areas["north"]])
    lead = UserFactory(email="lead@nhs.example", organisation=icb, roles=[Role.DSR_LEAD])
    device = TOTPDeviceFactory(user=lead)
    url = live_server.url + reverse("dsr:settings")

    sign_in(page, url, lead, device)
    assert page.get_by_role("heading", level=1).inner_text() == "Settings"
    screenshot("settings")
    problems = {"first": serious_violations(page)}

    days = page.get_by_role("group", name="Amber for too long without a review").get_by_label(
        "Days rated amber without a review"
    )
    days.fill("0")
    page.get_by_role("button", name="Save settings").click()
    summary = page.get_by_role("alert")
    assert "There is a problem" in summary.inner_text()
    summary.get_by_role("link", name="Days rated amber without a review must be 1 or more").click()
    assert page.evaluate("document.activeElement.id") == "id_rule_amber_unreviewed_days"
    assert page.title().startswith("Error: ")
    screenshot("settings-errors")
    problems["errors"] = serious_violations(page)
    assert not RegisterSettings.objects.exists()

    days.fill("21")
    page.get_by_role("button", name="Save settings").click()
    assert "Settings saved." in page.get_by_role("main").inner_text()
    screenshot("settings-saved")
    problems["saved"] = serious_violations(page)
    assert (
        RegisterSettings.objects.get().values["DSR_ESCALATION_RULES"]["amber_unreviewed"]["days"]
        == 21
    )

    assert problems == {"first": [], "errors": [], "saved": []}
    assert page.csp_violations == []
    assert page.broken == []
