"""Escalation pages in Chromium: WCAG 2.2 AA checks with axe on the queue, an escalation and the
summary, under the Content Security Policy."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django_otp.oath import totp

from dsr.roles import Role
from escalation.services import escalation_raise, escalation_rules_sweep
from tests.conftest import PASSWORD
from tests.dsr.factories import (
    OrganisationFactory,
    PersonFactory,
    TOTPDeviceFactory,
    UserFactory,
    on_register,
)
from tests.figures import record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERIOUS = {"serious", "critical"}


def _violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def _sign_in(page, live_server, user, device, path):
    page.goto(live_server.url + path)
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


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

    _sign_in(page, live_server, manager, device, reverse("escalation:queue"))
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
        found = _violations(page)
        if found:
            problems[name] = found
    record("axe: escalation pages checked (serious or critical violations)", f"{len(pages)} (0)")
    assert problems == {}
    assert page.csp_violations == []
    assert page.broken == []
