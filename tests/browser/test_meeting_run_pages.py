"""Running a meeting in Chromium (issue "Meetings a chair can run"): WCAG 2.2 AA checks with axe
on every page it adds or changes (the meeting with time slots, the discussion page with what the
chair needs, time slots, who came, the warnings before a second meeting and a repeated action,
marking held, the minutes with the people not discussed, a closed action), under the Content
Security Policy. The chair works through the pages as a user would."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.models import PersonContact
from dsr.roles import Role
from reviews.models import Action, Attendee, Meeting
from reviews.services import (
    Owner,
    action_close,
    action_create,
    agenda_add,
    discussion_record,
    meeting_create,
    meeting_mark_held,
)
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


def test_a_chair_runs_a_meeting_and_every_page_passes_axe(page, live_server, areas, screenshot):
    north = areas["north"]
    icb = OrganisationFactory(name="Browser ICB", local_authorities=[north])
    chair = UserFactory(email="chair@nhs.example", organisation=icb, roles=[Role.REGISTER_STAFF])
    device = TOTPDeviceFactory(user=chair)
    people = []
    for given, family, rating in [
        ("Rowan", "Hale", "RED"),
        ("Ash", "Cole", "GREEN"),
        ("Bea", "Dunn", "GREEN"),
    ]:
        person = PersonFactory(
            given_name=given, family_name=family, local_authority=north, responsible_icb=icb
        )
        on_register(person, rating=rating, by=chair, opened_on=datetime.date(2026, 1, 5))
        people.append(person)
    hale = people[0]
    PersonContact.objects.create(person=hale, role="key_worker", name="Jan Key", phone="0123")
    now = timezone.now()
    last = meeting_create(
        kind=Meeting.Kind.URGENT,
        held_at=now - datetime.timedelta(days=14),
        chair=chair,
        by=chair,
        local_authority=north,
    )
    agenda_add(meeting=last, person=hale, by=chair)
    discussion_record(
        item=last.items.get(),
        by=chair,
        risk_factors=["breakdown"],
        risk_notes="Placement under strain.",
        discussion="Placement support discussed.",
    )
    action_create(
        person=hale,
        agenda_item=last.items.get(),
        description="Arrange placement support visits.",
        owner=Owner(user=chair),
        agency="social_care",
        due_on=timezone.localdate() - datetime.timedelta(days=3),
        by=chair,
    )
    Attendee.objects.create(meeting=last, name="Kim Shah", agency="education", attendance="present")
    meeting_mark_held(meeting=last, by=chair)
    meeting = meeting_create(
        kind=Meeting.Kind.DSR_REVIEW,
        held_at=now - datetime.timedelta(minutes=30),
        chair=chair,
        by=chair,
        local_authority=north,
    )
    for person in people[1:]:
        agenda_add(meeting=meeting, person=person, by=chair)

    problems = {}
    checked = []

    def check(name: str) -> None:
        page.wait_for_load_state()
        checked.append(name)
        screenshot(f"meeting-run-{name}")
        found = serious_violations(page)
        if found:
            problems[name] = found

    sign_in(page, live_server.url + reverse("reviews:meeting-list"), chair, device)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Meetings").first.click()
    assert page.url.endswith(reverse("reviews:meeting-list"))
    page.goto(live_server.url + meeting.get_absolute_url())
    check("meeting")

    # A second meeting for the area the same day: the warning.
    page.goto(live_server.url + reverse("reviews:meeting-create"))
    page.get_by_label("DSR multi-agency review").check()
    today = timezone.localdate()
    page.locator('[name="day_day"]').fill(str(today.day))
    page.locator('[name="day_month"]').fill(str(today.month))
    page.locator('[name="day_year"]').fill(str(today.year))
    page.get_by_label("Start time").fill("23:30")
    page.get_by_label("Area").select_option(label=north.name)
    page.get_by_role("button", name="Plan the meeting").click()
    assert "There is already a meeting for" in page.get_by_role("main").inner_text()
    check("second-meeting-warning")

    # Time slots, then who came.
    page.goto(live_server.url + meeting.get_absolute_url())
    page.get_by_role("link", name="Plan time slots").click()
    check("time-slots")
    page.get_by_label("Minutes for each person").fill("10")
    page.get_by_role("button", name="Save the time slots").click()
    assert "Time slots saved." in page.get_by_role("main").inner_text()
    check("meeting-with-slots")
    page.get_by_role("link", name="Tick who came from the last meeting's attendees (1)").click()
    check("who-came")
    page.get_by_label("Kim Shah (Education)").check()
    page.get_by_role("button", name="Record who came").click()
    assert "Attendance recorded." in page.get_by_role("main").inner_text()

    # Hale's discussion: the overdue action and last time's risks.
    page.get_by_role("link", name="Rowan Hale", exact=True).click()
    main = page.get_by_role("main").inner_text()
    assert "Arrange placement support visits." in main and "Overdue" in main
    assert page.get_by_label("Risk of family or placement breakdown").is_checked()
    check("discussion")
    page.get_by_label("Summary of the discussion").fill("Placement steadier.")
    page.get_by_role("button", name="Save the discussion").click()
    item = meeting.items.get(person=hale)
    page.goto(
        live_server.url
        + reverse("reviews:item-action-add", kwargs={"pk": meeting.pk, "item_pk": item.pk})
    )
    page.get_by_label("What needs to be done").fill("Arrange placement support visits.")
    page.get_by_label("Owner with an account").select_option(label=chair.full_name)
    page.get_by_label("Owner's name").fill("Jo Patel")
    page.get_by_label("Social care").check()
    page.locator('[name="due_on_day"]').fill("1")
    page.locator('[name="due_on_month"]').fill("1")
    page.locator('[name="due_on_year"]').fill("2026")
    page.get_by_role("button", name="Agree the action").click()
    errors = page.get_by_role("alert").inner_text()
    assert "not both" in errors and "today or in the future" in errors
    check("action-errors")
    page.get_by_label("Owner's name").fill("")
    future = today + datetime.timedelta(days=14)
    page.locator('[name="due_on_day"]').fill(str(future.day))
    page.locator('[name="due_on_month"]').fill(str(future.month))
    page.locator('[name="due_on_year"]').fill(str(future.year))
    page.get_by_role("button", name="Agree the action").click()
    assert "already has this action open" in page.get_by_role("main").inner_text()
    check("action-warning")

    # A closed action offers no close form.
    done = Action.objects.get(person=hale)
    action_close(action=done, status="done", note="Visits booked.", by=chair)
    page.goto(live_server.url + reverse("reviews:action-close", kwargs={"pk": done.pk}))
    assert "This action is already closed" in page.get_by_role("main").inner_text()
    check("action-closed")

    # Mark held: two not discussed; the minutes list them.
    page.goto(live_server.url + meeting.get_absolute_url())
    page.get_by_role("link", name="Mark as held (minutes final)").click()
    assert "2 people on the agenda not discussed" in page.get_by_role("main").inner_text()
    check("mark-held")
    page.get_by_role("button", name="Mark as held").click()
    check("held")
    page.get_by_role("link", name="Minutes (printable)").click()
    minutes = page.get_by_role("main").inner_text()
    assert "Not discussed" in minutes and "Ash Cole" in minutes and "Bea Dunn" in minutes
    check("minutes")

    record(
        "axe: meeting run pages checked (serious or critical violations)",
        f"{len(checked)} ({sum(len(p) for p in problems.values())})",
    )
    assert problems == {}
    assert page.csp_violations == []
    assert page.broken == []
