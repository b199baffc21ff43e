"""A partner's link to their action in Chromium: the register team sends it from the action's
page (a summary naming the person refused on the page), the partner opens the email's link
signed out, is asked what is in the way when they say nothing, marks the action done, and a
withdrawn link says so. WCAG 2.2 AA checks with axe on every page, under the Content Security
Policy."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from dsr.outbox.delivery import deliver_due
from dsr.roles import Role
from dsr.services import team_contact_save
from reviews.models import Action, ActionLink, Meeting
from reviews.services import Owner, action_create, agenda_add, meeting_create
from reviews.services.links import action_link_withdraw
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

SUMMARY = "Confirm the school transport starts on Monday, and tell us the pick-up time."


def test_a_partner_link_from_sending_to_done_is_accessible(page, live_server, areas, screenshot):
    icb = OrganisationFactory(name="Browser ICB", local_authorities=[areas["north"]])
    staff = UserFactory(email="chair@nhs.example", organisation=icb, roles=[Role.DSR_LEAD])
    device = TOTPDeviceFactory(user=staff)
    team_contact_save(
        by=staff,
        phone="01632 960 001",
        email="dsr.team@nhs.example",
        address="DSR team\n1 Example Street\nNorwich",
        postcode="NR1 2DH",
        opening_hours="Monday to Friday, 9am to 5pm",
        complaints="Write to us and ask us to look at the decision again.",
        young_people_guide_url="https://www.england.nhs.uk/example-young-people-guides/",
    )
    person = PersonFactory(
        given_name="Rowan", family_name="Hale", local_authority=areas["north"], responsible_icb=icb
    )
    on_register(person, rating="RED", by=staff, opened_on=datetime.date(2026, 1, 5))
    meeting = meeting_create(
        kind=Meeting.Kind.URGENT,
        held_at=timezone.now() - datetime.timedelta(hours=1),
        chair=staff,
        by=staff,
    )
    action = action_create(
        person=person,
        agenda_item=agenda_add(meeting=meeting, person=person, by=staff),
        description="Rowan's autism assessment is delayed; arrange school transport meanwhile.",
        owner=Owner(name="Jo Patel", organisation="Riverside School", email="jo@school.example"),
        agency="education",
        due_on=timezone.localdate() + datetime.timedelta(days=7),
        by=staff,
    )
    problems = {}

    def check(name: str) -> None:
        screenshot(f"partner-link-{name}")
        found = serious_violations(page)
        if found:
            problems[name] = found

    # The register team sends the link from the action's page.
    sign_in(page, live_server.url + action.get_absolute_url(), staff, device)
    check("action")
    page.get_by_role("link", name="Send the owner a link").click()
    check("send")
    page.get_by_label("What the partner needs to know").fill("Rowan needs school transport.")
    page.get_by_role("button", name="Send the link").click()
    assert "Take out their first name" in page.get_by_role("alert").inner_text()
    check("send-refused")
    page.get_by_label("What the partner needs to know").fill(SUMMARY)
    page.get_by_role("button", name="Send the link").click()
    assert "The link has been sent." in page.inner_text("body")
    check("action-with-link")

    # The email the partner receives.
    deliver_due()
    [email] = mail.outbox
    url = next(w for w in email.body.split() if "/your-action/" in w)
    page.set_content(email.alternatives[0][0])
    screenshot("partner-link-email")
    assert "Rowan" not in email.body and "autism" not in email.body

    # The partner, signed out, opens it.
    page.context.clear_cookies()
    page.goto(url.replace("https://dsr.test", live_server.url))
    assert SUMMARY in page.inner_text("main") and "Rowan" not in page.content()
    check("partner")
    page.get_by_label("Something is in the way").check()
    page.get_by_role("button", name="Send").click()
    assert "Say what is in the way." in page.get_by_role("alert").inner_text()
    check("partner-errors")
    page.get_by_label("It is done").check()
    page.get_by_label("Tell us more").fill("Transport booked from Monday.")
    page.get_by_role("button", name="Send").click()
    assert "the action is recorded as done" in page.inner_text("main")
    check("partner-done")
    assert Action.objects.get(pk=action.pk).status == "done"

    # Withdrawn, the link says so (410).
    action_link_withdraw(link=ActionLink.objects.get(), by=staff)
    page.reload()
    assert "This link has been withdrawn" in page.inner_text("main")
    check("partner-withdrawn")

    record("axe: partner link pages checked (serious or critical violations)", "8 (0)")
    assert problems == {}
    assert page.csp_violations == []
    assert [b for b in page.broken if "/your-action/" not in b] == []
