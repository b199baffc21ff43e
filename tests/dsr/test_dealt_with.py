"""Staff mark a message that failed or was not delivered as dealt with (issue 20, item 4): who,
when and what they did are kept with it, and it leaves the lists to act on and the home page's
count."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.models import Notification
from dsr.outbox.receipts import TO_ACT_ON
from dsr.records.retention import REMOVED_PHONE, _outbox_anonymise
from tests.dsr.test_receipts_shown import _rows, message, referral  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

NOT_DELIVERED = reverse("dsr:outbox") + "?show=not_delivered"
FAILED = reverse("dsr:outbox") + "?show=failed"


def _url(notification):
    return reverse("dsr:outbox-dealt-with", args=[notification.pk])


def _state(notification):
    notification.refresh_from_db()
    return notification.dealt_with_at, notification.dealt_with_by_id, notification.dealt_with_note


def test_a_message_not_delivered_is_marked_dealt_with_and_leaves_the_list(
    staff_client,
    staff_user,
    referral,  # noqa: F811
):
    returned = message(referral, "returned", receipt="returned-letter", channel="letter")
    other = message(referral, "bounced", receipt="permanent-failure")
    page = staff_client.get(NOT_DELIVERED).text
    assert _url(returned) in page and "Recipient returned" in page
    assert "Messages not delivered (2)" in page

    form = staff_client.get(_url(returned))
    assert form.status_code == 200
    assert "What did you do? (optional)" in form.text
    response = staff_client.post(_url(returned), {"note": "Phoned them with the outcome."})

    assert response.status_code == 302
    at, by, note = _state(returned)
    assert at is not None and by == staff_user.pk and note == "Phoned them with the outcome."
    page = staff_client.get(NOT_DELIVERED).text
    [row] = _rows(page)
    assert "Recipient bounced" in row
    assert "Messages not delivered (1)" in page
    assert "The message to Recipient returned is marked as dealt with." in page
    home = staff_client.get(reverse("dsr:home")).text
    assert "1 message that was not delivered" in home
    assert list(Notification.objects.filter(TO_ACT_ON)) == [other]


def test_a_failed_message_is_marked_dealt_with_without_a_note(
    staff_client,
    staff_user,
    referral,  # noqa: F811
):
    failed = message(referral, "failed")
    Notification.objects.filter(pk=failed.pk).update(
        status=Notification.Status.FAILED, sent_at=None, error="ProviderRefused: 400"
    )
    assert _url(failed) in staff_client.get(FAILED).text

    response = staff_client.post(_url(failed), {"note": ""})

    assert response.status_code == 302 and response.url == FAILED
    assert _state(failed)[1:] == (staff_user.pk, "")
    assert "There is nothing in this list." in staff_client.get(FAILED).text


def test_a_delivered_message_cannot_be_marked_and_nothing_is_written(
    staff_client,
    referral,  # noqa: F811
):
    delivered = message(referral, "delivered", receipt="delivered")

    response = staff_client.post(_url(delivered), {"note": "Nothing."})

    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.text
    assert "there is nothing to deal with" in response.text
    assert _state(delivered) == (None, None, "")


def test_a_message_is_marked_once_and_the_second_is_told_who_did(
    staff_client,
    staff_user,
    referral,  # noqa: F811
):
    returned = message(referral, "returned", receipt="returned-letter", channel="letter")
    staff_client.post(_url(returned), {"note": "Posted by hand."})
    first = _state(returned)

    again = staff_client.post(_url(returned), {"note": "Phoned."})

    assert again.status_code == 200
    assert f"{staff_user.full_name} already marked this message as dealt with" in again.text
    assert _state(returned) == first


def test_a_note_over_the_limit_gets_an_nhsuk_error_and_nothing_is_written(
    staff_client,
    referral,  # noqa: F811
):
    from dsr.nhsuk.forms import TEXT_LIMIT

    returned = message(referral, "returned", receipt="returned-letter", channel="letter")

    response = staff_client.post(_url(returned), {"note": "x" * (TEXT_LIMIT + 1)})

    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.text
    assert _state(returned) == (None, None, "")


def test_staff_of_another_icb_cannot_mark_it(referral):  # noqa: F811
    from dsr.roles import Role
    from tests.conftest import signed_in_client
    from tests.dsr.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory

    returned = message(referral, "returned", receipt="returned-letter", channel="letter")
    outsider = UserFactory(
        organisation=OrganisationFactory(name="Elsewhere ICB"), roles=[Role.REGISTER_STAFF]
    )
    TOTPDeviceFactory(user=outsider)

    response = signed_in_client(outsider).post(_url(returned), {"note": "Phoned."})

    assert response.status_code == 404
    assert _state(returned) == (None, None, "")


def test_retention_removes_the_note_and_a_text_message_s_number(referral):  # noqa: F811
    note = message(
        referral,
        "returned",
        receipt="returned-letter",
        channel="letter",
        dealt_with_note="Phoned Kim on 07700 900982.",
    )
    text = message(referral, "kim-text", channel="sms", kind="referral_outcome")

    _outbox_anonymise(timezone.now() + timedelta(days=1))

    note.refresh_from_db(), text.refresh_from_db()
    assert note.dealt_with_note == ""
    assert text.phone == REMOVED_PHONE
