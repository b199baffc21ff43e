"""Escalation pages in Chromium: WCAG 2.2 AA checks with axe on the queue (with a person whose
three escalations are one row, one of them past the deadline), an escalation, acknowledging one
and acknowledging all of a person's at once, under the Content Security Policy."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.roles import Role
from escalation.models import Escalation
from escalation.queue_order import queue_order_refresh
from escalation.services import escalation_raise
from escalation.sweeps import escalation_rules_sweep
from tests.browser.conftest import ARTIFACTS
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


def test_escalation_pages_are_accessible(page, live_server, areas, screenshot):
    icb = OrganisationFactory(name="Browser ICB", local_authorities=[areas["north"]])
    council = OrganisationFactory(
        name="Browser Council", kind="local_authority", local_authorities=[areas["north"]]
    )
    staff = UserFactory(email="staff@nhs.example", organisation=icb, roles=[Role.REGISTER_STAFF])
    manager = UserFactory(
        email="manager@nhs.example", organisation=council, roles=[Role.SENIOR_MANAGER_LA]
    )
    device = TOTPDeviceFactory(user=manager)
    staff_device = TOTPDeviceFactory(user=staff)
    for number in range(3):
        person = PersonFactory(local_authority=areas["north"], responsible_icb=icb)
        on_register(
            person,
            rating="RED" if number else "AMBER",
            by=staff,
            opened_on=datetime.date(2026, 1, 5),
        )
    escalation_rules_sweep()
    escalation, _ = escalation_raise(
        reason="by_hand", trigger_type="t", trigger_id=1, person=person, level=2, note="Urgent."
    )
    for trigger_id in (2, 3):
        escalation_raise(
            reason="by_hand", trigger_type="t", trigger_id=trigger_id, person=person, level=2
        )
    Escalation.objects.filter(trigger_id=3).update(
        ack_due_on=timezone.localdate() - datetime.timedelta(days=2)
    )
    queue_order_refresh([person.pk])

    sign_in(page, live_server.url + reverse("escalation:queue"), manager, device)
    problems = {}
    pages = {
        "queue": reverse("escalation:queue"),
        "queue-filtered": reverse("escalation:queue") + "?level=2",
        "queue-past-deadline": reverse("escalation:queue") + "?past_deadline=on",
        "escalation": escalation.get_absolute_url(),
        "acknowledge": reverse("escalation:acknowledge", kwargs={"pk": escalation.pk}),
        "acknowledge-all": reverse("escalation:acknowledge-person", kwargs={"pk": person.pk}),
    }
    for name, path in pages.items():
        page.goto(live_server.url + path)
        screenshot(f"escalation-{name}")
        found = serious_violations(page)
        if found:
            problems[name] = found
    # The person's row: three escalations, one past the deadline, acknowledged in one step.
    page.goto(live_server.url + reverse("escalation:queue"))
    waiting = Escalation.objects.filter(person=person, status="open").count()
    assert waiting > 3  # the three by hand, and those the rules raised
    assert page.locator("strong.nhsuk-tag", has_text="Past the deadline").count() == 1
    page.get_by_role("link", name=f"Acknowledge all {waiting} for {person.full_name}").click()
    page.get_by_label("Note").fill("Meeting the family.")
    page.get_by_role("button", name=f"Acknowledge {waiting} escalations").click()
    assert f"{waiting} escalations acknowledged." in page.content()
    assert Escalation.objects.filter(person=person, status="open").count() == 0
    screenshot("escalation-queue-after-acknowledging-all")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot("escalation-queue-narrow")

    # The register team's queue: each escalation links to its fix (a C(E)TR, a meeting).
    context = page.context.browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("https://assets.nhs.uk/**", lambda route: route.abort())
    staff_page = context.new_page()
    sign_in(staff_page, live_server.url + reverse("escalation:queue"), staff, staff_device)
    staff_page.screenshot(
        path=str(ARTIFACTS / "escalation-queue-register-team.png"), full_page=True
    )
    assert staff_page.get_by_role("link", name="Plan a C(E)TR").count() >= 1
    assert staff_page.get_by_role("link", name="Add to a meeting").count() >= 1
    found = serious_violations(staff_page)
    if found:
        problems["queue-register-team"] = found
    context.close()
    record(
        "axe: escalation pages checked (serious or critical violations)",
        f"{len(pages) + 1} ({len(problems)})",
    )
    assert problems == {}
    assert page.csp_violations == []
    assert page.broken == []
