"""Review pages in Chromium: WCAG 2.2 AA checks with axe on the meeting, discussion, minutes,
C(E)TR, "my actions" and public C(E)TR request pages, under the Content Security Policy, with a
stored script in a discussion that must stay text."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.roles import Role
from reviews.models import Cetr, Meeting
from reviews.services import (
    Owner,
    action_create,
    cetr_plan,
    discussion_record,
    meeting_create,
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

PAYLOAD = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'


def test_review_pages_are_accessible_and_stored_text_never_runs(
    page, live_server, areas, screenshot
):
    icb = OrganisationFactory(name="Browser ICB", local_authorities=[areas["north"]])
    staff = UserFactory(email="chair@nhs.example", organisation=icb, roles=[Role.REGISTER_STAFF])
    device = TOTPDeviceFactory(user=staff)
    person = PersonFactory(
        given_name="Rowan", family_name="Hale", local_authority=areas["north"], responsible_icb=icb
    )
    on_register(person, rating="RED", by=staff, opened_on=datetime.date(2026, 1, 5))
    meeting = meeting_create(
        kind=Meeting.Kind.DSR_REVIEW,
        held_at=timezone.now() - datetime.timedelta(hours=1),
        chair=staff,
        by=staff,
    )
    item = meeting.items.get()
    discussion_record(
        item=item, by=staff, risk_factors=["crisis"], risk_notes="", discussion=PAYLOAD
    )
    action_create(
        person=person,
        agenda_item=item,
        description=PAYLOAD,
        owner=Owner(user=staff),
        agency="health",
        due_on=timezone.localdate() - datetime.timedelta(days=1),
        by=staff,
    )
    cetr = cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=staff)

    sign_in(page, live_server.url + reverse("reviews:meeting-list"), staff, device)

    pages = {
        "meetings": reverse("reviews:meeting-list"),
        "meeting": meeting.get_absolute_url(),
        "discussion": reverse(
            "reviews:item-discuss", kwargs={"pk": meeting.pk, "item_pk": item.pk}
        ),
        "minutes": reverse("reviews:meeting-minutes", kwargs={"pk": meeting.pk}),
        "cetr": cetr.get_absolute_url(),
        "my-actions": reverse("reviews:my-actions"),
        "person": person.get_absolute_url(),
        # One click from the person page.
        "person-history": reverse("dsr:person-history", args=[person.pk]),
        "person-placements": reverse("dsr:person-placements", args=[person.pk]),
        "person-actions": reverse("reviews:person-actions", args=[person.pk]),
    }
    problems = {}
    for name, path in pages.items():
        page.goto(live_server.url + path)
        assert page.title() != "pwned" and page.title() != "1", name
        screenshot(f"reviews-{name}")
        found = serious_violations(page)
        if found:
            problems[name] = found
    # The stored payload is shown as text where it is shown.
    page.goto(live_server.url + pages["minutes"])
    assert PAYLOAD in page.get_by_role("main").inner_text()

    # The public request form, and its errors.
    page.context.clear_cookies()
    page.goto(live_server.url + reverse("reviews:request-public"))
    screenshot("reviews-request-public")
    found = serious_violations(page)
    if found:
        problems["request"] = found
    page.get_by_role("button", name="Send request").click()
    assert "There is a problem" in page.get_by_role("alert").inner_text()
    screenshot("reviews-request-public-errors")
    found = serious_violations(page)
    if found:
        problems["request-errors"] = found

    record("axe: review pages checked (serious or critical violations)", f"{len(pages) + 2} (0)")
    assert problems == {}
    assert page.csp_violations == []
    assert page.broken == []
