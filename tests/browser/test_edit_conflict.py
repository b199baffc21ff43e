"""The conflict page in Chromium (RELIABILITY H-1): a real browser posts the version it was
given, someone else saves meanwhile, and the page shows what they changed, keeps what was
typed, and passes axe."""

import datetime

import pytest
from django.urls import reverse

from dsr.roles import Role
from reviews.models import Meeting
from reviews.services import meeting_create, meeting_update
from tests.browser.helpers import serious_violations, sign_in
from tests.dsr.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_save_over_someone_elses_change_shows_the_conflict(page, live_server, areas, screenshot):
    from django.utils import timezone

    icb = OrganisationFactory(name="Browser ICB", local_authorities=[areas["north"]])
    staff = UserFactory(email="chair@nhs.example", organisation=icb, roles=[Role.REGISTER_STAFF])
    other = UserFactory(email="other@nhs.example", organisation=icb, roles=[Role.REGISTER_STAFF])
    device = TOTPDeviceFactory(user=staff)
    meeting = meeting_create(
        kind=Meeting.Kind.URGENT,
        held_at=timezone.now() + datetime.timedelta(days=2),
        chair=staff,
        by=staff,
        location="Room 1",
    )
    url = live_server.url + reverse("reviews:meeting-edit", kwargs={"pk": meeting.pk})
    sign_in(page, url, staff, device)

    meeting_update(meeting=meeting, by=other, location="Board room")  # while the page is open
    page.get_by_label("Where").fill("Room 2")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()

    summary = page.locator(".nhsuk-error-summary")
    assert "Someone else changed this record while you were editing it" in summary.inner_text()
    row = page.locator("table.nhsuk-table tbody tr").first
    assert [c.strip() for c in row.locator("th, td").all_inner_texts()] == [
        "Where",
        "Board room",
        "Room 2",
    ]
    assert page.get_by_label("Where").input_value() == "Room 2"
    screenshot("edit-conflict")
    assert serious_violations(page) == []
    meeting.refresh_from_db()
    assert meeting.location == "Board room"

    page.get_by_role("button", name="Save").click()  # seen it: save again
    page.wait_for_load_state()
    meeting.refresh_from_db()
    assert meeting.location == "Room 2"
