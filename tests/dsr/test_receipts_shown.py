"""Staff see what GOV.UK Notify reported about each message: on the outbox (and its list of
messages not delivered, with what to do), on the referral page and on the person page; the
privacy notice names GOV.UK Notify and what it is given."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dsr.models import Notification
from referrals.models import Referral
from tests.referrals.test_services import submit

pytestmark = pytest.mark.django_db

RECEIVED_AT = datetime.datetime(2026, 12, 6, 10, 30, tzinfo=datetime.UTC)


def message(referral, key, *, receipt="", channel="email", kind="referral_received", **fields):
    address = {"email": f"{key}@example.org"}
    if channel == "letter":
        address = {"postal_address": "1 High St\nNorwich\nNR1 2DH"}
    elif channel == "sms":
        address = {"phone": "07700 900982"}
    return Notification.objects.create(
        subject_type="referrals.referral",
        subject_id=referral.pk,
        local_authority=referral.local_authority,
        kind=kind,
        recipient_key=key,
        recipient_name=f"Recipient {key}",
        recipient_role="Parent",
        channel=channel,
        status=Notification.Status.SENT,
        sent_at=timezone.now(),
        provider_reference=f"notify-{key}",
        receipt=receipt,
        receipt_at=RECEIVED_AT if receipt else None,
        **address,
        **fields,
    )


@pytest.fixture
def referral(areas, frozen_now):
    referral = submit(areas)
    # The acknowledgements written on receipt are not what these tests look at.
    Notification.objects.all().delete()
    return referral


def _rows(html: str) -> list[str]:
    """Each table body row's text, whitespace collapsed."""
    body = html.split('<tbody class="nhsuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr.*?</tr>", body, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def test_the_not_delivered_list_holds_the_failures_with_what_to_do(staff_client, referral):
    message(referral, "bounced", receipt="permanent-failure")
    message(referral, "full", receipt="temporary-failure")
    message(referral, "fault", receipt="technical-failure")
    message(referral, "returned", receipt="returned-letter", channel="letter")
    message(referral, "ok", receipt="delivered")
    message(referral, "none")

    page = staff_client.get(reverse("dsr:outbox") + "?show=not_delivered").text
    rows = _rows(page)

    assert "Messages not delivered (4)" in page
    assert len(rows) == 4
    assert not any("Recipient ok" in row or "Recipient none" in row for row in rows)
    by_name = {row.split()[1]: row for row in rows}
    assert "Not delivered: the address or number is wrong" in by_name["bounced"]
    assert "Check the email address or phone number" in by_name["bounced"]
    assert "Not delivered: the inbox or phone was not available" in by_name["full"]
    assert "Not delivered: a technical fault" in by_name["fault"]
    assert "Letter returned to sender" in by_name["returned"]
    assert "print the letter and post it by hand" in by_name["returned"]
    assert "Download the letter" in by_name["returned"]
    assert "6 Dec 2026 10:30" in by_name["bounced"]


def test_only_the_not_delivered_list_has_a_delivery_column(staff_client, referral):
    """The other lists hold messages not yet sent, or that failed before Notify had them: none
    has a receipt, so the column would always be empty there."""
    message(referral, "bounced", receipt="permanent-failure")
    Notification.objects.create(
        subject_type="referrals.referral",
        subject_id=referral.pk,
        local_authority=referral.local_authority,
        kind="referral_outcome",
        recipient_key="failed",
        recipient_name="Recipient failed",
        channel="email",
        email="failed@example.org",
        status=Notification.Status.FAILED,
        error="The mail server refused it.",
    )
    header = '<th class="nhsuk-table__header" scope="col">Delivery</th>'

    failed = staff_client.get(reverse("dsr:outbox") + "?show=failed").text
    not_delivered = staff_client.get(reverse("dsr:outbox") + "?show=not_delivered").text

    assert "Recipient failed" in failed and header not in failed
    assert header in not_delivered


def test_the_outbox_runs_the_same_number_of_queries_whatever_it_holds(
    staff_client, referral, django_assert_max_num_queries
):
    message(referral, "a", receipt="permanent-failure")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(reverse("dsr:outbox") + "?show=not_delivered").status_code
        return len(captured)

    few = queries()
    for key in "bcdefgh":
        message(referral, key, receipt="returned-letter", channel="letter")
    with django_assert_max_num_queries(few):
        staff_client.get(reverse("dsr:outbox") + "?show=not_delivered")


def test_the_referral_page_shows_whether_each_message_was_delivered(staff_client, referral):
    message(referral, "referrer", receipt="delivered")
    message(referral, "parent", receipt="permanent-failure", kind="referral_outcome")

    page = staff_client.get(reverse("referrals:detail", args=[referral.pk])).text
    section = page.split("Messages to the person, family and referrer", 1)[1].split("History")[0]
    rows = _rows(section)

    assert "Delivered" in rows[0]
    assert "Not delivered: the address or number is wrong" in rows[1]


def test_the_person_page_lists_messages_about_their_referrals_with_receipts(
    make_person, staff_client, referral, areas, django_assert_max_num_queries
):
    person = make_person("RED", area="north")
    Referral.objects.filter(pk=referral.pk).update(person=person)
    other = submit(areas, nhs_number="9434765870", given_name="Grace")
    message(referral, "referrer", receipt="delivered")
    message(other, "stranger", receipt="permanent-failure")
    url = reverse("dsr:person-detail", args=[person.pk])

    with CaptureQueriesContext(connection) as captured:
        page = staff_client.get(url).text
    section = page.split("<h2>Messages sent</h2>", 1)[1].split("</table>")[0]

    assert "Recipient referrer" in section and "Delivered" in section
    assert "Recipient stranger" not in section

    for key in "abcdef":
        message(referral, key, receipt="temporary-failure", kind="referral_outcome")
    with django_assert_max_num_queries(len(captured)):
        page = staff_client.get(url).text
    assert page.count("Not delivered: the inbox or phone was not available") == 6


def test_the_person_page_has_no_messages_section_for_those_who_do_not_see_the_outbox(
    make_person, personas, referral
):
    person = make_person("RED", area="north")
    Referral.objects.filter(pk=referral.pk).update(person=person)
    message(referral, "referrer", receipt="delivered")

    manager = personas["clients"]["senior_manager_health"]
    page = manager.get(reverse("dsr:person-detail", args=[person.pk]))

    assert page.status_code == 200
    assert "Messages sent" not in page.text


def test_the_privacy_notice_names_gov_uk_notify_and_what_it_is_given(client):
    page = " ".join(client.get(reverse("pages:privacy")).text.split())

    assert "GOV.UK Notify" in page
    assert "data processor" in page
    for given in ("name", "email address", "mobile phone number", "postal address"):
        assert given in page
    assert "the text of the message" in page
    assert "printed and posted by GOV.UK Notify's print provider" in page


def test_a_message_not_delivered_for_the_moment_can_be_sent_again(staff_client, referral):
    full = message(referral, "full", receipt="temporary-failure")
    bounced = message(referral, "bounced", receipt="permanent-failure")

    page = staff_client.get(reverse("dsr:outbox") + "?show=not_delivered").text
    row = next(row for row in _rows(page) if "Recipient full" in row)
    assert "Send again" in row
    assert "Send again" not in next(row for row in _rows(page) if "Recipient bounced" in row)

    response = staff_client.post(reverse("dsr:outbox-resend", args=[full.pk]))
    staff_client.post(reverse("dsr:outbox-resend", args=[bounced.pk]))

    assert response["Location"].endswith("?show=not_delivered")
    full.refresh_from_db()
    bounced.refresh_from_db()
    assert (full.status, full.attempts, full.receipt) == ("pending", 0, "")
    # Its last receipt's time is kept, so a late copy of that receipt is not applied again.
    assert full.receipt_at == RECEIVED_AT
    # A wrong address is not sent to again: staff correct it and contact the person another way.
    assert (bounced.status, bounced.receipt) == ("sent", "permanent-failure")
    assert "Messages not delivered (1)" in staff_client.get(reverse("dsr:outbox")).text


def test_send_again_says_so_only_for_a_message_it_puts_back_in_the_queue(staff_client, referral):
    bounced = message(referral, "bounced", receipt="permanent-failure")
    failed = message(referral, "failed")
    Notification.objects.filter(pk=failed.pk).update(status="failed", attempts=5)

    refused = staff_client.post(reverse("dsr:outbox-resend", args=[bounced.pk]), follow=True)
    queued = staff_client.post(reverse("dsr:outbox-resend", args=[failed.pk]), follow=True)

    assert "will be sent again" not in refused.text
    assert "The message to Recipient failed will be sent again." in queued.text
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)


def test_the_home_page_counts_the_messages_not_delivered_and_links_the_list(staff_client, referral):
    message(referral, "bounced", receipt="permanent-failure")
    message(referral, "returned", receipt="returned-letter", channel="letter")
    message(referral, "ok", receipt="delivered")

    page = staff_client.get(reverse("dsr:home")).text

    outbox = reverse("dsr:outbox")
    assert f'href="{outbox}?show=not_delivered">2 messages that were not delivered' in page
