"""A partner's link to their action in Chromium: the register team sends it from the action's
page (a summary naming the person refused on the page), the partner opens the email's link
signed out, is asked what is in the way when they say nothing, marks the action done, and a
withdrawn link says so. WCAG 2.2 AA checks with axe on every page, under the Content Security
Policy."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from dsr.outbox.delivery import deliver_due
from dsr.roles import Role
from dsr.services import team_contact_save
from reviews.models import Action, Meeting
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
    action_link_withdraw(action=action, by=staff)
    page.reload()
    assert "This link has been withdrawn" in page.inner_text("main")
    check("partner-withdrawn")

    record("axe: partner link pages checked (serious or critical violations)", "8 (0)")
    assert problems == {}
    assert page.csp_violations == []
    assert [b for b in page.broken if "/your-action/" not in b] == []


def test_the_cetr_consent_and_held_forms_and_the_pack_are_accessible(
    page, live_server, areas, screenshot
):
    from reviews.models import Cetr, PanelMember
    from reviews.services import (
        cetr_consent_record,
        cetr_findings_record,
        cetr_plan,
        panel_member_save,
    )

    icb = OrganisationFactory(name="Browser ICB", local_authorities=[areas["north"]])
    staff = UserFactory(email="chair@nhs.example", organisation=icb, roles=[Role.REGISTER_STAFF])
    device = TOTPDeviceFactory(user=staff)
    panellist = UserFactory(email="panel@nhs.example", organisation=icb, roles=[Role.PANEL_MEMBER])
    panel_device = TOTPDeviceFactory(user=panellist)
    person = PersonFactory(
        given_name="Rowan",
        family_name="Hale",
        local_authority=areas["north"],
        responsible_icb=icb,
        date_of_birth=timezone.localdate().replace(year=timezone.localdate().year - 30),
        communication_needs="Uses Makaton; give time to answer.",
    )
    on_register(person, rating="RED", by=staff, opened_on=datetime.date(2026, 1, 5))
    cetr = cetr_plan(
        person=person,
        kind=Cetr.Kind.COMMUNITY,
        by=staff,
        scheduled_on=timezone.localdate() + datetime.timedelta(days=3),
    )
    for role in ("chair", "clinical_expert", "expert_by_experience"):
        panel_member_save(
            member=PanelMember(
                cetr=cetr,
                role=role,
                name=role.replace("_", " ").title(),
                user=panellist if role == "expert_by_experience" else None,
                conflicts_declared=True,
                professional_registration="NMC 1",
            ),
            by=staff,
        )
    cetr_findings_record(
        cetr=cetr,
        by=staff,
        finding_safe="Yes.",
        finding_good_care="Yes.",
        finding_future="Yes.",
        finding_community="Yes.",
    )
    problems = {}

    def check(name: str) -> None:
        screenshot(f"cetr-{name}")
        found = serious_violations(page)
        if found:
            problems[name] = found

    sign_in(page, live_server.url + reverse("reviews:cetr-consent", args=[cetr.pk]), staff, device)
    check("consent")
    page.get_by_label("Consent from a Gillick-competent child").check()
    page.get_by_label("The evidence").fill("Signed form in the care record.")
    page.locator('[name="recorded_on_day"]').fill(str(timezone.localdate().day))
    page.locator('[name="recorded_on_month"]').fill(str(timezone.localdate().month))
    page.locator('[name="recorded_on_year"]').fill(str(timezone.localdate().year))
    page.get_by_role("button", name="Save").click()
    assert (
        "Gillick competence applies to children under 16" in page.get_by_role("alert").inner_text()
    )
    check("consent-refused")

    page.goto(live_server.url + reverse("reviews:cetr-complete", args=[cetr.pk]))
    check("complete")
    page.locator('[name="held_on_day"]').fill(str(timezone.localdate().day))
    page.locator('[name="held_on_month"]').fill(str(timezone.localdate().month))
    page.locator('[name="held_on_year"]').fill(str(timezone.localdate().year))
    page.get_by_role("button", name="Record as held").click()
    assert "say why it was held earlier" in page.get_by_role("alert").inner_text()
    check("complete-refused")

    cetr_consent_record(
        cetr=cetr,
        basis="own_consent",
        evidence="Signed.",
        recorded_on=timezone.localdate(),
        by=staff,
    )
    page.context.clear_cookies()
    sign_in(
        page,
        live_server.url + reverse("reviews:cetr-pack", args=[cetr.pk]),
        panellist,
        panel_device,
    )
    assert "Rating history" in page.inner_text("main")
    check("pack")

    record("axe: C(E)TR form and pack pages checked (serious or critical violations)", "5 (0)")
    assert problems == {}
    assert page.csp_violations == []
    assert page.broken == []
