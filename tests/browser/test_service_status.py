"""The service status page in Chromium, reached as register staff would reach it: from the
header's "Service status" link. A stopped worker reads as stopped; the page passes axe."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.models import Heartbeat
from dsr.roles import Role
from tests.browser.helpers import serious_violations, sign_in
from tests.dsr.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_see_which_background_process_has_stopped(page, live_server, areas, screenshot):
    icb = OrganisationFactory(name="Browser ICB", local_authorities=[areas["north"]])
    staff = UserFactory(email="staff@nhs.example", organisation=icb, roles=[Role.REGISTER_STAFF])
    device = TOTPDeviceFactory(user=staff)
    now = timezone.now()
    Heartbeat.objects.create(name="scheduler", last_seen_at=now)
    Heartbeat.objects.create(name="worker", last_seen_at=now - datetime.timedelta(minutes=20))

    sign_in(page, live_server.url + reverse("dsr:home"), staff, device)
    page.get_by_role("button", name="More").click()  # the header's overflow menu
    page.get_by_role("link", name="Service status").click()
    page.wait_for_load_state()
    screenshot("service-status")

    rows = {
        row.locator("th").inner_text(): row.locator("td").first.inner_text()
        for row in page.locator("tbody tr").all()
    }
    assert rows == {
        "The database": "Working",
        "The message broker": "Working",
        "A worker": "Stopped",
        "The scheduler": "Working",
    }
    assert serious_violations(page) == []
