"""Delivery receipts in Chromium: the outbox's "not delivered" list and the referral page's
messages, with a few receipts; axe finds no serious or critical violation, and a screenshot of
each is kept."""

import pytest
from django.urls import reverse

from tests.browser.helpers import serious_violations, sign_in
from tests.dsr.test_receipts_shown import message
from tests.referrals.test_services import submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_receipts_on_the_outbox_the_referral_page_and_the_person_page(
    page, live_server, screenshot, staff_user, areas, make_person
):
    from dsr.models import Notification
    from referrals.models import Referral

    referral = submit(areas)
    person = make_person("RED", area="north")
    Referral.objects.filter(pk=referral.pk).update(person=person)
    Notification.objects.all().delete()
    message(referral, "referrer", receipt="delivered")
    parent = message(referral, "parent", receipt="permanent-failure", kind="referral_outcome")
    message(referral, "carer", receipt="temporary-failure", kind="referral_outcome")
    message(
        referral, "person", receipt="returned-letter", channel="letter", kind="referral_outcome"
    )
    message(referral, "advocate", kind="referral_outcome")
    problems = {}

    def audit(name: str) -> None:
        page.evaluate("document.fonts.ready.then(() => true)")
        screenshot(f"receipts-{name}")
        if found := serious_violations(page):
            problems[name] = found

    sign_in(
        page,
        live_server.url + reverse("dsr:outbox") + "?show=not_delivered",
        staff_user,
        staff_user.totpdevice_set.get(),
    )
    assert page.get_by_role("heading", level=1).inner_text() == "Outbox: messages not delivered"
    assert page.locator("tbody tr").count() == 3
    audit("outbox-not-delivered")

    # Marking one as dealt with: the form page, then the list without it.
    page.locator(f'a[href="{reverse("dsr:outbox-dealt-with", args=[parent.pk])}"]').click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Mark the message to Recipient parent as dealt with"
    )
    audit("outbox-dealt-with")
    page.get_by_label("What did you do? (optional)").fill("Phoned them with the outcome.")
    page.get_by_role("button", name="Mark as dealt with").click()
    assert page.locator("tbody tr").count() == 2

    page.goto(live_server.url + reverse("referrals:detail", args=[referral.pk]))
    section = page.locator("table", has_text="Acknowledgement and outcome")
    assert section.get_by_text("Not delivered: the address or number is wrong").count() == 1
    assert section.get_by_text("Phoned them with the outcome.", exact=False).count() == 1
    assert section.get_by_text("Letter returned to sender").count() == 1
    audit("referral-messages")

    page.goto(live_server.url + reverse("dsr:person-detail", args=[person.pk]))
    section = page.locator("table", has_text="Referral acknowledgements and outcomes")
    assert section.locator("tbody tr").count() == 5
    assert section.get_by_text("Not delivered: the inbox or phone was not available").count() == 1
    audit("person-messages")

    assert problems == {}
