"""Each role signs in and finds its most urgent work on the first screen of its home page, in
Chromium, with no serious or critical accessibility fault ("Every role's first screen is its
work")."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.browser.helpers import serious_violations, sign_in
from tests.dsr.test_home_work import build_work

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORT_HEIGHT = 900  # tests/browser/conftest.py's page


def _most_urgent(persona: str, made: dict) -> str:
    """The text of the link to each role's most urgent item."""
    today = timezone.localdate()
    return {
        "register_staff": f"Referral {made['urgent_referral'].reference}",
        "dsr_lead": f"Referral {made['urgent_referral'].reference}",
        "senior_manager_la": made["late_person"].full_name,
        "executive_lead": made["late_person"].full_name,
        "panel_member": "Read the pack",
        "planning_commissioner": f"The register on {today:%-d %B %Y}",
        "administrator": "active accounts not used",
        "professional_referrer": "See the status of all your referrals",
    }[persona]


@pytest.mark.parametrize(
    "persona",
    [
        "register_staff",
        "dsr_lead",
        "senior_manager_la",
        "executive_lead",
        "panel_member",
        "planning_commissioner",
        "administrator",
        "professional_referrer",
    ],
)
def test_each_role_finds_its_most_urgent_work_on_the_first_screen(
    page, live_server, screenshot, personas, areas, organisations, persona
):
    made = build_work(personas, areas, organisations, 4)
    user = personas["users"][persona]

    sign_in(page, live_server.url + reverse("dsr:home"), user, user.totpdevice_set.get())

    link = page.get_by_role("link", name=_most_urgent(persona, made)).first
    assert link.is_visible()
    box = link.bounding_box()
    assert box is not None and box["y"] + box["height"] <= VIEWPORT_HEIGHT
    screenshot(f"home-{persona}")
    assert serious_violations(page) == []
    assert page.csp_violations == []
    assert page.broken == []


def test_the_dashboard_shows_referrals_due_and_overdue_and_reads_well(
    page, live_server, screenshot, personas, areas, organisations
):
    made = build_work(personas, areas, organisations, 4)
    user = personas["users"]["register_staff"]

    sign_in(
        page, live_server.url + reverse("dsr:register-dashboard"), user, user.totpdevice_set.get()
    )

    assert page.get_by_role("heading", name="Referrals due this week and overdue").is_visible()
    link = page.get_by_role("link", name=f"Referral {made['urgent_referral'].reference}")
    assert link.is_visible()
    assert page.get_by_role(
        "heading", name="Consent reviews overdue or due in the next 30 days"
    ).is_visible()
    screenshot("register-dashboard")
    assert serious_violations(page) == []
    assert page.csp_violations == []
    assert page.broken == []
