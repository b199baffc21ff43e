"""WCAG 2.2 AA checks with axe in Chromium on the public, sign-in and legal pages."""

import pytest
from django.urls import reverse

from tests.browser.helpers import serious_violations
from tests.figures import record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    ("pages:start", "Get support to stay well at home"),
    ("pages:privacy", "Privacy notice"),
    ("pages:accessibility", "Accessibility statement"),
    ("pages:cookies", "Cookies"),
    ("accounts:sign-in", "Sign in to the dynamic support register"),
    ("accounts:password-reset", "Reset your password"),
]


def test_public_and_sign_in_pages_have_no_serious_accessibility_violations(
    page, live_server, screenshot
):
    problems = {}
    for name, heading in PAGES:
        page.goto(live_server.url + reverse(name))
        assert page.get_by_role("heading", level=1).inner_text().startswith(heading)
        screenshot(name.replace(":", "-"))
        found = serious_violations(page)
        if found:
            problems[name] = found
    record("axe: pages checked (serious or critical violations)", f"{len(PAGES)} (0)")
    assert problems == {}
    assert page.csp_violations == []
    assert page.broken == []


def test_sign_in_errors_are_accessible_and_the_summary_links_to_the_fields(
    page, live_server, screenshot
):
    page.goto(live_server.url + reverse("accounts:sign-in"))
    page.get_by_role("button", name="Continue").click()

    summary = page.get_by_role("alert")
    assert "There is a problem" in summary.inner_text()
    summary.get_by_role("link", name="Enter your email address.").click()
    assert page.evaluate("document.activeElement.id") == "id_username"
    assert page.title().startswith("Error: ")
    screenshot("accounts-sign-in-errors")
    assert serious_violations(page) == []


def test_the_nhsuk_scripts_run_under_the_content_security_policy(page, live_server):
    page.goto(live_server.url + reverse("pages:start"))

    assert "nhsuk-frontend-supported" in page.evaluate("document.body.className")
    assert page.csp_violations == []


def test_the_dsr_teams_details_at_the_foot_of_public_pages_are_accessible(
    page, live_server, screenshot, organisations
):
    from dsr.services import team_contact_save
    from tests.conftest import make_persona

    team_contact_save(
        by=make_persona("dsr_lead", organisations),
        phone="01632 960 001",
        email="dsr.team@nhs.example",
        address="Dynamic support register team\nNHS Example Integrated Care Board\nNorwich",
        postcode="NR1 2DH",
        opening_hours="Monday to Friday, 9am to 5pm",
        complaints="Write to us and ask us to look at the decision again.",
    )
    problems = {}
    for name in ("pages:privacy", "referrals:who", "reviews:request-public"):
        page.goto(live_server.url + reverse(name))
        footer = page.get_by_role("contentinfo")
        assert footer.get_by_role("heading", name="How to contact the DSR team").is_visible()
        assert footer.get_by_role("link", name="01632 960 001").get_attribute("href") == (
            "tel:01632960001"
        )
        screenshot(f"team-contact-{name.replace(':', '-')}")
        found = serious_violations(page)
        if found:
            problems[name] = found
    assert problems == {}


def test_a_table_too_wide_for_the_screen_can_be_scrolled_from_the_keyboard(
    page, live_server, areas
):
    from dsr.roles import Role
    from tests.browser.helpers import sign_in
    from tests.dsr.factories import (
        OrganisationFactory,
        PersonFactory,
        TOTPDeviceFactory,
        UserFactory,
        on_register,
    )

    icb = OrganisationFactory(name="Browser ICB", local_authorities=[areas["north"]])
    staff = UserFactory(email="narrow@nhs.example", organisation=icb, roles=[Role.REGISTER_STAFF])
    device = TOTPDeviceFactory(user=staff)
    on_register(PersonFactory(local_authority=areas["north"], responsible_icb=icb), by=staff)
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, live_server.url + reverse("dsr:register-list"), staff, device)

    container = page.locator(".nhsuk-table-container").first
    assert container.evaluate("c => c.scrollWidth - c.clientWidth > 100")
    assert container.get_attribute("tabindex") == "0"
    assert container.get_attribute("role") == "region"
    assert container.get_attribute("aria-label")
    container.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.nhsuk-table-container').scrollLeft > 0")
    assert serious_violations(page) == []

    # Wider, the same table fits: it leaves the tab order (no stop that does nothing).
    page.evaluate(
        "document.querySelectorAll('.nhsuk-width-container')"
        ".forEach(e => { e.style.maxWidth = 'none'; })"
    )
    page.set_viewport_size({"width": 3000, "height": 800})
    assert container.evaluate("c => c.scrollWidth - c.clientWidth < 8")
    page.wait_for_function(
        "() => !document.querySelector('.nhsuk-table-container').hasAttribute('tabindex')"
    )
