"""Journeys through the live server in Chromium, as the people who use the service go, with axe
on every page on the way (no serious or critical violation) and a screenshot of each:

- a member of the public refers themselves online, from the service's start page;
- register staff sign in, review a referral and decide it;
- register staff change a person's rating, and see it on the record and its timeline;
- register staff plan a multi-agency review, discuss a person, agree an action, close it;
- a senior manager acknowledges an escalation from their queue;
and the public referral again with the keyboard alone, errors and all.
"""

import datetime
import re
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.models import Rating
from dsr.roles import Role
from escalation.models import Escalation
from escalation.sweeps import escalation_rules_sweep
from referrals.forms.public import STEP_SLUGS
from referrals.models import Referral
from reviews.models import Action, Meeting
from tests.browser.helpers import (
    choose,
    fill_step,
    focus_problem,
    press_continue,
    serious_violations,
    sign_in,
    tab_to,
    tick,
    type_into,
)
from tests.conftest import account
from tests.figures import record
from tests.referrals.factories import ReferralFactory
from tests.referrals.helpers import answers_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What axe found across this module's journeys, for the figure the run prints: each distinct
# page (its path with ids taken out, and whether it showed errors) and every violation.
CHECKED_PAGES: set[str] = set()
VIOLATIONS: list[str] = []
JOURNEYS: list[str] = []


def page_key(page) -> str:
    path = re.sub(r"\d+", "<id>", urlparse(page.url).path)
    return path + (" (errors)" if page.locator(".nhsuk-error-summary").count() else "")


class Journey:
    """One person's way through the pages: each page is photographed and checked by axe."""

    def __init__(self, name: str, page, screenshot) -> None:
        self.name = name
        self.page = page
        self.screenshot = screenshot
        self.steps = 0
        self.problems: dict[str, list[str]] = {}

    def check(self, label: str = "") -> None:
        page = self.page
        page.wait_for_load_state()
        # The web font is refused here: wait for the fallback so the screenshot shows text.
        page.evaluate("document.fonts.ready.then(() => true)")
        self.steps += 1
        key = page_key(page)
        label = label or key.strip("/").replace("/", "-").replace("<id>", "n") or "root"
        self.screenshot(f"journey-{self.name}-{self.steps:02d}-{label}")
        found = serious_violations(page)
        CHECKED_PAGES.add(key)
        VIOLATIONS.extend(found)
        if found:
            self.problems[f"{self.steps} {key}"] = found

    def heading(self) -> str:
        return self.page.get_by_role("heading", level=1).inner_text()

    def main_text(self) -> str:
        return self.page.get_by_role("main").inner_text()

    def finish(self) -> None:
        """Every page passed axe, nothing broke the Content Security Policy, no request failed;
        then the figure is recorded."""
        assert self.problems == {}
        assert self.page.csp_violations == []
        assert self.page.broken == []
        JOURNEYS.append(self.name)
        record(
            "axe: journey pages checked (serious or critical violations)",
            f"{len(CHECKED_PAGES)} ({len(VIOLATIONS)}) over {len(JOURNEYS)} journeys",
        )


def staff_sign_in(journey: Journey, url: str, user) -> None:
    """Sign in with a password and the authenticator's code, checking both sign-in pages."""
    sign_in(journey.page, url, user, user.totpdevice_set.get(), audit=journey.check)


def test_a_member_of_the_public_refers_themselves(page, live_server, screenshot, areas):
    journey = Journey("self-referral", page, screenshot)
    page.goto(live_server.url + reverse("pages:start"))
    journey.check("service-start")
    page.get_by_role("link", name="Find out more about making a referral").click()
    assert journey.heading().startswith("Make a referral")
    journey.check("referral-start")
    page.get_by_role("link", name="I am referring myself or someone I care for").click()
    journey.check("who")
    page.get_by_label("I am referring myself").check()
    page.get_by_role("button", name="Continue").click()

    answers = answers_for("self", areas["north"].pk)
    for slug in STEP_SLUGS:
        journey.check(slug)
        fill_step(page, answers[slug])
        page.get_by_role("button", name="Continue").click()

    assert journey.heading().startswith("Check your answers")
    assert "Quillfeather" in journey.main_text()
    journey.check("check-your-answers")
    page.get_by_role("button", name="Send referral").click()
    assert journey.heading() == "Referral sent"
    journey.check("confirmation")

    referral = Referral.objects.get()
    assert referral.reference in journey.main_text()
    assert (referral.family_name, referral.referrer_kind) == ("Quillfeather", "self")
    assert referral.status == Referral.Status.RECEIVED
    journey.finish()


def test_register_staff_review_and_decide_a_referral(
    page, live_server, screenshot, organisations, areas
):
    staff = account(organisations["icb"], Role.REGISTER_STAFF, full_name="Sam Staff")
    referral = ReferralFactory(
        local_authority=areas["north"], given_name="Morgan", family_name="Ashdown"
    )
    journey = Journey("decision", page, screenshot)

    staff_sign_in(journey, live_server.url + reverse("referrals:queue"), staff)
    assert journey.heading().startswith("Referrals")
    journey.check("queue")
    page.get_by_role("link", name=referral.reference).click()
    assert journey.heading() == "Morgan Ashdown"
    journey.check("referral")

    page.get_by_role("link", name="Record the review with education and social care").click()
    journey.check("review")
    page.get_by_label("Who took part from education").fill("Jo Smith, SENCo")
    page.get_by_label("Who took part from social care").fill("Ravi Patel, social worker")
    page.get_by_role("button", name="Save the review").click()
    assert "Review recorded." in page.content()
    journey.check("referral-reviewed")

    page.get_by_role("link", name="Record the decision").click()
    journey.check("decision")
    # Each decision's questions show only once it is chosen (NHS.UK conditional radios).
    reason = page.get_by_label("If not eligible: why the person is not eligible")
    rationale = page.get_by_label("If added: reason for the rating")
    assert reason.is_hidden() and rationale.is_hidden()
    # Added without a rating: the error summary says what is missing, and nothing is decided.
    page.get_by_label("Added to the register").check()
    assert rationale.is_visible() and reason.is_hidden()
    page.get_by_role("button", name="Record the decision and tell everyone").click()
    assert "Choose the initial rating." in page.get_by_role("alert").inner_text()
    journey.check("decision-errors")
    page.get_by_role("radio", name=re.compile(r"^Amber")).check()
    page.get_by_label("If added: reason for the rating").fill(
        "Distress rising since the day service closed; support at home is holding."
    )
    page.get_by_role("button", name="Record the decision and tell everyone").click()
    assert journey.heading() == "Morgan Ashdown"
    text = journey.main_text()
    assert "Decision recorded." in page.content()
    assert "Added to the register" in text and "Messages to the person, family and referrer" in text
    journey.check("referral-decided")

    page.get_by_role("link", name="Morgan Ashdown on the register").click()
    assert journey.heading() == "Morgan Ashdown"
    assert "Amber" in journey.main_text()
    journey.check("person")

    referral.refresh_from_db()
    assert referral.status == Referral.Status.ADDED
    assert referral.person.register_entries.get().rating == "AMBER"
    assert referral.decided_by == staff
    journey.finish()


def test_register_staff_change_a_rating_and_see_it_on_the_person_page_and_timeline(
    page, live_server, screenshot, organisations, make_person
):
    staff = account(organisations["icb"], Role.REGISTER_STAFF, full_name="Sam Staff")
    person = make_person("GREEN", given_name="Rowan", family_name="Hale")
    journey = Journey("rating", page, screenshot)

    staff_sign_in(journey, live_server.url + person.get_absolute_url(), staff)
    assert journey.heading() == "Rowan Hale"
    journey.check("person")
    page.get_by_role("link", name="Review or change the rating").click()
    journey.check("rating")
    # No reason given: refused with the error summary.
    page.get_by_role("radio", name=re.compile(r"^Amber")).check()
    page.get_by_role("button", name="Save the rating").click()
    assert "There is a problem" in page.get_by_role("alert").inner_text()
    journey.check("rating-errors")
    why = "Two crisis team visits this month; the placement is under strain."
    page.get_by_label("Reason for this rating").fill(why)
    page.get_by_role("button", name="Save the rating").click()

    assert journey.heading() == "Rowan Hale"
    assert "Rating saved." in page.content()
    assert f"Why: {why}" in page.locator(".nhsuk-summary-list").first.inner_text()
    journey.check("person-rated")
    page.get_by_role("link", name="See everything that has happened to Rowan").click()
    assert journey.heading() == "History"
    timeline = page.locator(".dsr-timeline").inner_text()
    assert "rating changed to amber" in timeline.lower() and why in timeline
    journey.check("person-history")

    rating = Rating.objects.filter(entry__person=person).latest("id")
    assert (rating.rating, rating.previous_rating, rating.rationale) == ("AMBER", "GREEN", why)
    assert rating.set_by == staff
    journey.finish()


def test_register_staff_hold_a_multi_agency_review(
    page, live_server, screenshot, organisations, areas, make_person
):
    staff = account(organisations["icb"], Role.REGISTER_STAFF, full_name="Sam Staff")
    person = make_person("RED", given_name="Ellis", family_name="Redmond")
    journey = Journey("meeting", page, screenshot)

    staff_sign_in(journey, live_server.url + reverse("reviews:meeting-list"), staff)
    assert journey.heading() == "Meetings"
    journey.check("meetings")
    page.get_by_role("link", name="Plan a meeting").click()
    journey.check("plan")
    today = timezone.localdate()
    page.get_by_label("DSR multi-agency review").check()
    day = page.get_by_role("group", name=re.compile("Date of the meeting"))
    day.get_by_label("Day").fill(str(today.day))
    day.get_by_label("Month").fill(str(today.month))
    day.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Start time").fill("00:00")  # today, so it has started
    page.get_by_label("Where").fill("Online")
    page.get_by_label("Area").select_option(label=areas["north"].name)
    page.get_by_label("Chair").select_option(str(staff.pk))
    page.get_by_role("button", name="Plan the meeting").click()
    meeting = Meeting.objects.get()
    assert "Meeting planned" in page.content()
    journey.check("meeting")

    page.get_by_role("link", name="Ellis Redmond", exact=True).click()
    assert journey.heading() == "Ellis Redmond: discussion"
    journey.check("discussion")
    page.get_by_role("checkbox", name="Person or family in crisis").check()
    discussion = "Crisis plan reviewed with the family; respite is the priority."
    page.get_by_label("Summary of the discussion").fill(discussion)
    page.get_by_role("button", name="Save the discussion").click()
    # Back on the meeting, the person is marked as discussed; their page takes the actions.
    assert "Discussion of Ellis Redmond saved." in page.content()
    assert "Discussed" in page.get_by_role("table").inner_text()
    journey.check("meeting-discussed")
    page.get_by_role("link", name="Ellis Redmond", exact=True).click()
    journey.check("discussion-saved")
    page.get_by_role("link", name="Agree an action").click()
    journey.check("action")
    page.get_by_label("What needs to be done").fill("Book a week of respite.")
    page.get_by_label("Owner with an account").select_option(str(staff.pk))
    page.get_by_label("Social care").check()
    due = today + datetime.timedelta(days=14)
    due_group = page.get_by_role("group", name=re.compile("Due date"))
    due_group.get_by_label("Day").fill(str(due.day))
    due_group.get_by_label("Month").fill(str(due.month))
    due_group.get_by_label("Year").fill(str(due.year))
    page.get_by_role("button", name="Agree the action").click()
    assert "Action agreed." in page.content()
    assert "Book a week of respite." in journey.main_text()
    journey.check("action-agreed")

    page.get_by_role("link", name="Back to the meeting").click()
    journey.check("meeting-with-action")
    page.get_by_role("link", name="Mark as held (minutes final)").click()
    journey.check("held")
    page.get_by_role("button", name="Mark as held").click()
    assert "Meeting marked as held. The minutes are final." in page.content()
    journey.check("meeting-held")

    meeting.refresh_from_db()
    item = meeting.items.get(person=person)
    assert meeting.status == Meeting.Status.HELD
    assert item.discussion == discussion and item.risk_factors == ["crisis"]
    action = Action.objects.get(agenda_item=item)
    assert (action.owner, action.due_on) == (staff, due)
    journey.finish()


def test_a_senior_manager_acknowledges_an_escalation(
    page, live_server, screenshot, organisations, make_person
):
    manager = account(
        organisations["north_council"], Role.SENIOR_MANAGER_LA, full_name="Maya Manager"
    )
    person = make_person("RED", given_name="Jordan", family_name="Crisp")
    escalation_rules_sweep()
    escalation = Escalation.objects.get(person=person, reason="red_rating")
    journey = Journey("escalation", page, screenshot)

    staff_sign_in(journey, live_server.url + reverse("escalation:queue"), manager)
    assert journey.heading() == "Escalation queue"
    assert "Jordan Crisp" in journey.main_text()
    journey.check("queue")
    page.get_by_role("link", name=escalation.get_reason_display(), exact=True).click()
    journey.check("escalation")
    page.get_by_role("link", name="Acknowledge", exact=True).click()
    journey.check("acknowledge")
    note = "Called the family; a crisis plan meeting is booked for Friday."
    page.get_by_label("Note").fill(note)
    page.get_by_role("button", name="Acknowledge").click()
    assert "Escalation acknowledged." in page.content()
    journey.check("acknowledged")

    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ACKNOWLEDGED
    assert escalation.acknowledged_by == manager
    journey.finish()


# --- The keyboard alone ------------------------------------------------------------------------

# Counts every real mouse or pointer press in the tab (kept across pages in sessionStorage), to
# show the journey below never used one: keys pressed on a button give a click, never these.
MOUSE_WATCH = """(() => {
    const count = (event) => {
        if (!event.isTrusted) return;
        const seen = Number(sessionStorage.getItem("mouse-presses") || 0);
        sessionStorage.setItem("mouse-presses", String(seen + 1));
    };
    for (const kind of ["mousedown", "pointerdown", "touchstart"]) {
        document.addEventListener(kind, count, true);
    }
})();"""


def focused(page, selector: str) -> bool:
    return page.evaluate("(s) => document.activeElement.matches(s)", selector)


def follow_error(page, message: str, field: str) -> None:
    """On a page sent back with errors: focus starts on the error summary; Tab to the error's
    link and press Enter, and focus lands on the field, showing where it is."""
    assert focused(page, ".nhsuk-error-summary")
    assert focus_problem(page) is None
    tab_to(page, ".nhsuk-error-summary__list a")
    assert page.evaluate("document.activeElement.innerText") == message
    page.keyboard.press("Enter")
    assert focused(page, field), page.evaluate("document.activeElement.outerHTML")
    assert focus_problem(page) is None


def test_the_public_referral_with_the_keyboard_alone(page, live_server, areas):
    page.add_init_script(MOUSE_WATCH)
    pages_sent = errors_recovered = 0
    page.goto(live_server.url + reverse("pages:start"))

    # The first Tab reaches the skip link, which takes focus past the header to the content.
    page.keyboard.press("Tab")
    assert focused(page, 'a.nhsuk-skip-link[href="#maincontent"]')
    assert focus_problem(page) is None
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "maincontent"
    tab_to(page, f'a[href="{reverse("referrals:who")}"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # Continue without an answer, then follow the error to the radios and answer there.
    press_continue(page)
    follow_error(
        page,
        "Choose whether you are referring yourself or someone you care for.",
        'input[type="radio"][name="who"]',
    )
    page.keyboard.press("Space")  # the first choice: "I am referring myself"
    assert page.is_checked('input[name="who"][value="self"]')
    errors_recovered += 1
    press_continue(page)
    pages_sent += 1
    assert page.get_by_role("heading", level=1).inner_text().endswith("How can we contact you?")

    type_into(page, "referrer_email", "alex@example.com")
    press_continue(page)
    pages_sent += 1

    # A typo in the first name, put right by going back a field with Shift+Tab; the last name
    # is left out, and put in after following the error.
    type_into(page, "given_name", "Alexandr")
    page.keyboard.press("Tab")
    assert focused(page, '[name="family_name"]')
    page.keyboard.press("Shift+Tab")
    assert focused(page, '[name="given_name"]') and focus_problem(page) is None
    page.keyboard.press("End")
    page.keyboard.type("a")
    type_into(page, "date_of_birth_day", "14")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    page.keyboard.type("2004")
    type_into(page, "address", "1 High Street\nNorwich")
    type_into(page, "postcode", "NR1 2DH")
    choose(page, "local_authority", str(areas["north"].pk))
    press_continue(page)
    follow_error(page, "Enter your last name.", '[name="family_name"]')
    page.keyboard.type("Quillfeather")
    errors_recovered += 1
    press_continue(page)
    pages_sent += 1

    choose(page, "diagnosis", "both")
    choose(page, "diagnosis_status", "awaiting_assessment")
    tick(page, "co_occurring", "adhd")
    press_continue(page)
    pages_sent += 1

    tick(page, "risk_factors", "crisis")
    type_into(page, "risks", "Crisis team called twice this month.")
    press_continue(page)
    pages_sent += 1

    choose(page, "has_ehcp", "unsure")
    press_continue(page)
    pages_sent += 1

    tick(page, "accessible_formats", "easy_read")
    press_continue(page)
    pages_sent += 1

    choose(page, "has_carer", "no")
    press_continue(page)
    pages_sent += 1

    choose(page, "consent_to_referral", "yes")
    choose(page, "consent_to_share", "yes")
    choose(page, "consent_basis", "own_consent")
    press_continue(page)
    pages_sent += 1

    assert page.get_by_role("heading", level=1).inner_text().startswith("Check your answers")
    press_continue(page, "Send referral")
    pages_sent += 1
    assert page.get_by_role("heading", level=1).inner_text() == "Referral sent"

    referral = Referral.objects.get()
    assert referral.reference in page.get_by_role("main").inner_text()
    assert (referral.given_name, referral.family_name) == ("Alexandra", "Quillfeather")
    assert referral.referrer_kind == "self" and referral.diagnosis == "both"
    assert referral.address == "1 High Street\nNorwich"
    assert page.evaluate("sessionStorage.getItem('mouse-presses')") is None
    assert page.csp_violations == []
    record(
        "keyboard-only public journey: steps completed",
        f"{pages_sent} of {len(STEP_SLUGS) + 2} pages sent, {errors_recovered} errors put right, "
        "focus visible at every stop, 0 mouse presses",
    )


def test_the_keyboard_checks_see_a_hidden_focus_and_the_mouse(page, live_server):
    """The checks above can fail: a link whose focus style is taken away is reported, and a
    mouse press is counted."""
    page.add_init_script(MOUSE_WATCH)
    page.goto(live_server.url + reverse("pages:start"))
    tab_to(page, f'a[href="{reverse("referrals:start")}"]')
    assert focus_problem(page) is None
    page.evaluate(
        """() => {
            const style = document.activeElement.style;
            style.setProperty("outline", "none", "important");
            style.setProperty("box-shadow", "none", "important");
            style.setProperty("background-color", "transparent", "important");
        }"""
    )
    assert "Find out more about making a referral" in focus_problem(page)
    page.mouse.click(5, 5)
    assert page.evaluate("sessionStorage.getItem('mouse-presses')") == "2"  # down, pointer down
