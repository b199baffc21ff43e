"""The public referral pages in Chromium: axe on every page (no serious or critical violation),
a screenshot of each, and a self-referral made with the keyboard alone."""

import pytest
from django.urls import reverse

from referrals.forms.public import STEP_SLUGS
from referrals.models import Referral
from tests.browser.helpers import (
    choose,
    fill_step,
    press_continue,
    serious_violations,
    tab_to,
    tick,
    type_into,
)
from tests.figures import record
from tests.referrals.helpers import answers_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pages checked by axe across this module's tests, for the figure the run prints.
AUDITED = {"pages": 0, "with_problems": 0}


def count_audit(problems: list[str]) -> None:
    AUDITED["pages"] += 1
    AUDITED["with_problems"] += bool(problems)
    record(
        "axe: referral pages checked",
        f"{AUDITED['pages']} (with serious or critical violations: {AUDITED['with_problems']})",
    )


def test_referral_pages_have_no_serious_accessibility_violations(
    page, live_server, screenshot, areas
):
    problems: dict[str, list[str]] = {}

    def audit(name: str) -> None:
        # The web font is refused here: wait for the fallback so the screenshot shows text.
        page.evaluate("document.fonts.ready.then(() => true)")
        screenshot(f"referral-{name}")
        found = serious_violations(page)
        count_audit(found)
        if found:
            problems[name] = found

    page.goto(live_server.url + reverse("pages:start"))
    audit("service-start")
    page.goto(live_server.url + reverse("referrals:start"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Make a referral")
    audit("start")
    page.goto(live_server.url + reverse("referrals:printable"))
    audit("printable")
    page.emulate_media(media="print")
    screenshot("referral-printable-as-printed")
    assert not page.locator(".nhsuk-header").is_visible()
    page.emulate_media(media="screen")
    page.goto(live_server.url + reverse("referrals:confirmation"))
    audit("confirmation-nothing-to-show")

    page.goto(live_server.url + reverse("referrals:who"))
    audit("who")
    page.get_by_role("button", name="Continue").click()
    audit("who-error")
    page.get_by_label("I am referring myself").check()
    page.get_by_role("button", name="Continue").click()

    answers = answers_for("self", areas["north"].pk)
    for slug in STEP_SLUGS:
        audit(f"step-{slug}")
        if slug == "person":
            page.get_by_role("button", name="Continue").click()
            assert "There is a problem" in page.get_by_role("alert").inner_text()
            audit("step-person-errors")
        fill_step(page, answers[slug])
        page.get_by_role("button", name="Continue").click()

    assert page.get_by_role("heading", level=1).inner_text().startswith("Check your answers")
    audit("check")
    page.get_by_role("button", name="Send referral").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Referral sent"
    audit("confirmation")

    assert problems == {}
    assert page.csp_violations == []
    assert page.broken == []
    assert Referral.objects.count() == 1


@pytest.mark.parametrize("kind", ["professional", "family"])
def test_other_referrers_step_pages_have_no_serious_accessibility_violations(
    page, live_server, screenshot, areas, kind
):
    answers = answers_for(kind, areas["south"].pk)
    problems = {}
    page.goto(live_server.url + reverse("referrals:step", args=[kind, "about-you"]))
    for slug in STEP_SLUGS:
        page.evaluate("document.fonts.ready.then(() => true)")
        screenshot(f"referral-{kind}-{slug}")
        found = serious_violations(page)
        count_audit(found)
        if found:
            problems[slug] = found
        fill_step(page, answers[slug])
        page.get_by_role("button", name="Continue").click()

    assert problems == {}
    assert page.get_by_role("heading", level=1).inner_text().startswith("Check your answers")


# --- The keyboard alone ------------------------------------------------------------------------


def test_a_self_referral_can_be_made_with_the_keyboard_alone(page, live_server, areas):
    page.goto(live_server.url + reverse("referrals:start"))
    tab_to(page, f'a[href="{reverse("referrals:who")}"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")

    choose(page, "who", "self")
    press_continue(page)
    assert page.get_by_role("heading", level=1).inner_text().endswith("How can we contact you?")
    type_into(page, "referrer_email", "alex@example.com")
    press_continue(page)

    type_into(page, "given_name", "Alexandra")
    type_into(page, "family_name", "Quillfeather")
    type_into(page, "date_of_birth_day", "14")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    page.keyboard.type("2004")
    type_into(page, "address", "1 High Street\nNorwich")
    type_into(page, "postcode", "NR1 2DH")
    choose(page, "local_authority", str(areas["north"].pk))
    press_continue(page)

    choose(page, "diagnosis", "both")
    choose(page, "diagnosis_status", "awaiting_assessment")
    tick(page, "co_occurring", "adhd")
    press_continue(page)

    tick(page, "risk_factors", "crisis")
    type_into(page, "risks", "Crisis team called twice this month.")
    press_continue(page)

    choose(page, "has_ehcp", "unsure")
    press_continue(page)

    tick(page, "accessible_formats", "easy_read")
    press_continue(page)

    choose(page, "has_carer", "no")
    press_continue(page)

    choose(page, "consent_to_referral", "yes")
    choose(page, "consent_to_share", "yes")
    choose(page, "consent_basis", "own_consent")
    press_continue(page)

    assert page.get_by_role("heading", level=1).inner_text().startswith("Check your answers")
    press_continue(page, "Send referral")

    assert page.get_by_role("heading", level=1).inner_text() == "Referral sent"
    referral = Referral.objects.get()
    assert referral.reference in page.content()
    assert referral.diagnosis == "both"
    assert referral.diagnosis_status == "awaiting_assessment"
    assert referral.has_ehcp == "unsure"
    assert referral.accessible_formats == ["easy_read"]
    assert referral.address == "1 High Street\nNorwich"
