"""The easy-read referral and the pages about deciding whether to be on the register, in
Chromium: axe on every page (no serious or critical violation), a screenshot of each, every
picture loaded, and the easy-read referral made with the keyboard alone."""

import pytest
from django.urls import reverse

from referrals.forms.easy_read import EASY_READ_STEPS
from referrals.models import Referral, ReferralContact
from tests.browser.helpers import (
    choose,
    fill_step,
    press_continue,
    serious_violations,
    tab_to,
    type_into,
)
from tests.figures import record
from tests.flows.test_easy_read_referral import ANSWERS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INFORMATION_PAGES = [
    ("pages:deciding", "Deciding whether to be on the dynamic support register"),
    ("pages:deciding-easy-read", "Easy read: do you want to be on the register?"),
    ("pages:next-easy-read", "Easy read: what happens next"),
    ("referrals:easy-read-start", "Easy read: ask to be on the dynamic support register"),
]


def _pictures_loaded(page) -> bool:
    """Every picture on the page has loaded (a broken one has no natural width)."""
    return page.evaluate(
        "Array.from(document.images).every((img) => img.complete && img.naturalWidth > 0)"
    )


def test_easy_read_and_deciding_pages_have_no_serious_accessibility_violations(
    page, live_server, screenshot
):
    problems: dict[str, list[str]] = {}
    audited = 0

    def audit(name: str) -> None:
        nonlocal audited
        page.evaluate("document.fonts.ready.then(() => true)")
        screenshot(f"easy-read-{name}")
        assert _pictures_loaded(page), name
        found = serious_violations(page)
        audited += 1
        if found:
            problems[name] = found

    for name, heading in INFORMATION_PAGES:
        page.goto(live_server.url + reverse(name))
        assert page.get_by_role("heading", level=1).inner_text() == heading
        audit(name.split(":")[1])

    for step in EASY_READ_STEPS:
        url = live_server.url + reverse("referrals:easy-read-step", kwargs={"step": step.slug})
        page.goto(url)
        assert page.get_by_role("heading", level=1).inner_text().endswith(step.title("self"))
        audit(f"step-{step.slug}")
        # The page with its errors: the summary, each message, and the picture still there.
        with page.expect_navigation():
            page.get_by_role("button", name="Next").click()
        # Optional questions move on (the email too, as an address was given).
        if step.slug not in ("help", "address", "email"):
            assert "There is a problem" in page.get_by_role("alert").inner_text()
            audit(f"step-{step.slug}-error")
        page.goto(url)
        fill_step(page, ANSWERS[step.slug])
        with page.expect_navigation():
            page.get_by_role("button", name="Next").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Check your answers"
    audit("check")
    page.get_by_role("button", name="Send referral").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Referral sent"
    audit("confirmation")

    record("axe: easy-read and deciding pages checked", f"{audited} (0)")
    assert problems == {}
    assert page.csp_violations == []
    assert page.broken == []


def test_the_easy_read_referral_can_be_made_with_the_keyboard_alone(page, live_server):
    page.goto(live_server.url + reverse("referrals:start"))
    tab_to(page, f'a[href="{reverse("referrals:easy-read-start")}"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    first = reverse("referrals:easy-read-step", kwargs={"step": "name"})
    tab_to(page, f'a[href="{first}"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")

    type_into(page, "given_name", "Robin")
    type_into(page, "family_name", "Ashdown")
    press_continue(page, "Next")

    # A wrong date first: the error is shown and what was typed is kept.
    type_into(page, "date_of_birth_day", "31")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    page.keyboard.type("2004")
    press_continue(page, "Next")
    assert "There is a problem" in page.get_by_role("alert").inner_text()
    assert page.input_value('[name="date_of_birth_year"]') == "2004"
    tab_to(page, '[name="date_of_birth_day"]')
    page.keyboard.press("Control+A")
    page.keyboard.type("14")
    press_continue(page, "Next")

    choose(page, "diagnosis", "autism")
    press_continue(page, "Next")
    choose(page, "diagnosis_status", "confirmed")
    press_continue(page, "Next")
    type_into(page, "risks", "I might have to leave my flat.")
    press_continue(page, "Next")
    press_continue(page, "Next")  # what would help: optional
    type_into(page, "address", "10 Mill Lane\nNorwich")
    type_into(page, "postcode", "NR1 2DH")
    press_continue(page, "Next")
    type_into(page, "email", "robin@example.com")
    press_continue(page, "Next")
    choose(page, "consent_to_referral", "yes")
    press_continue(page, "Next")
    choose(page, "consent_to_share", "no")
    press_continue(page, "Next")

    assert page.get_by_role("heading", level=1).inner_text() == "Check your answers"
    press_continue(page, "Send referral")

    assert page.get_by_role("heading", level=1).inner_text() == "Referral sent"
    referral = Referral.objects.get()
    assert referral.reference in page.content()
    assert referral.accessible_formats == ["easy_read"]
    assert (referral.consent_to_referral, referral.consent_to_share) == (True, False)
    assert referral.date_of_birth.isoformat() == "2004-02-14"
    person = ReferralContact.objects.get(referral=referral)
    assert (person.role, person.email) == ("person", "robin@example.com")
    assert person.address == "10 Mill Lane\nNorwich\nNR1 2DH"
