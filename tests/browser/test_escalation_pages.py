"""Escalation pages in Chromium: WCAG 2.2 AA checks with axe on the queue, an escalation and the
summary, under the Content Security Policy."""

import datetime

import pytest
from django.urls import reverse

from dsr.roles import Role
from escalation.services import escalation_raise
from escalation.sweeps import escalation_rules_sweep
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

    sign_in(page, live_server.url + reverse("escalation:queue"), manager, device)
    problems = {}
    pages = {
        "queue": reverse("escalation:queue"),
        "queue-filtered": reverse("escalation:queue") + "?level=2",
        "escalation": escalation.get_absolute_url(),
        "acknowledge": reverse("escalation:acknowledge", kwargs={"pk": escalation.pk}),
    }
    for name, path in pages.items():
        page.goto(live_server.url + path)
        screenshot(f"escalation-{name}")
        found = serious_violations(page)
        if found:
            problems[name] = found
    record("axe: escalation pages checked (serious or critical violations)", f"{len(pages)} (0)")
    assert problems == {}
    assert page.csp_violations == []
    assert page.broken == []
