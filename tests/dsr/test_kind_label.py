"""One name for each kind of message (Notification.kind_label), the same on the outbox, the
referral page and the person page, which list messages with one table (issue 20, item 6)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.models import Notification
from referrals.models import Referral
from tests.dsr.test_receipts_shown import _rows, message, referral  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "key", "label"),
    [
        ("referral_received", "referrer", "Referral acknowledgement"),
        ("referral_outcome", "contact-3", "Referral outcome"),
        ("referral_outcome", "contact-3-letter", "Referral outcome: the reasons"),
        # A C(E)TR request's letter is the request's outcome, not a letter of reasons.
        ("cetr_request_declined", "requester-letter", "C(E)TR request: declined"),
        ("consent_review_due", "team", "Reminder: consent review due"),
    ],
)
def test_each_kind_has_one_label(kind, key, label):
    assert Notification(kind=kind, recipient_key=key).kind_label == label


def test_the_outbox_the_referral_page_and_the_person_page_name_a_message_alike(
    staff_client,
    staff_user,
    referral,  # noqa: F811
    make_person,
):
    person = make_person("RED", area="north")
    Referral.objects.filter(pk=referral.pk).update(person=person)
    reasons = message(
        referral,
        "contact-1-letter",
        receipt="returned-letter",
        channel="letter",
        kind="referral_outcome",
    )
    Notification.objects.filter(pk=reasons.pk).update(
        dealt_with_at=timezone.now(), dealt_with_by=staff_user, dealt_with_note="Posted by hand."
    )
    message(referral, "contact-2", receipt="temporary-failure", kind="referral_outcome")

    outbox = _rows(staff_client.get(reverse("dsr:outbox") + "?show=not_delivered").text)
    detail = staff_client.get(reverse("referrals:detail", args=[referral.pk])).text
    on_referral = _rows(detail.split("Messages to the person, family and referrer", 1)[1])
    on_person = _rows(
        staff_client.get(reverse("dsr:person-detail", args=[person.pk])).text.split(
            "<h2>Messages sent</h2>", 1
        )[1]
    )

    assert ["Referral outcome" in row for row in outbox] == [True]
    for rows in (on_referral, on_person):
        assert sum("Referral outcome: the reasons" in row for row in rows) == 1
    dealt = f"Dealt with by {staff_user.full_name}"
    assert sum(dealt in row and "Posted by hand." in row for row in on_referral) == 1
    assert sum(dealt in row and "Posted by hand." in row for row in on_person) == 1
