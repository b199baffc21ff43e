"""Staff see the outbox in their areas: letters to post, failed and waiting messages."""

import pytest
from django.urls import reverse

from dsr.models import AccessEvent, Notification
from dsr.outbox.delivery import deliver_due
from tests.referrals.test_services import reviewed, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(areas, frozen_now):
    from referrals.services import referral_decide
    from tests.dsr.factories import UserFactory

    clerk = UserFactory()
    referral = reviewed(
        submit(
            areas,
            contacts=[{"role": "person", "name": "Ada", "address": "1 High St, Norwich NR1 2DH"}],
        ),
        clerk,
    )
    # The outcome's messages only: the acknowledgements sent on receipt are tested elsewhere.
    Notification.objects.filter(kind="referral_received").delete()
    referral_decide(
        referral,
        decision="not_eligible",
        reason="No diagnosis yet.",
        signposting="GP.",
        by=clerk,
    )
    deliver_due()
    return referral


def test_letters_wait_in_the_outbox_and_download_as_a_pdf(staff_client, decided):
    letter = Notification.objects.get(channel="letter")

    page = staff_client.get(reverse("dsr:outbox"))
    pdf = staff_client.get(reverse("dsr:outbox-letter", args=[letter.pk]))

    assert "Ada" in page.text and "Letters to print and post (1)" in page.text
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert AccessEvent.objects.filter(action="view_letter").count() == 1


def test_marking_a_letter_posted_and_sending_a_failed_message_again(staff_client, decided):
    letter = Notification.objects.get(channel="letter")
    email = Notification.objects.get(channel="email")
    Notification.objects.filter(pk=email.pk).update(status="failed", attempts=5)

    staff_client.post(reverse("dsr:outbox-posted", args=[letter.pk]))
    staff_client.post(reverse("dsr:outbox-resend", args=[email.pk]))

    letter.refresh_from_db()
    email.refresh_from_db()
    assert letter.status == "sent" and letter.sent_at is not None
    assert (email.status, email.attempts) == ("pending", 0)


def test_the_outbox_is_refused_to_roles_without_referrals_and_scoped_by_area(
    personas, decided, organisations
):
    letter = Notification.objects.get(channel="letter")

    assert (
        personas["clients"]["senior_manager_health"].get(reverse("dsr:outbox")).status_code == 403
    )
    from dsr.roles import Role
    from tests.conftest import signed_in_client
    from tests.dsr.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory

    outsider = UserFactory(
        organisation=OrganisationFactory(name="Elsewhere ICB"), roles=[Role.REGISTER_STAFF]
    )
    TOTPDeviceFactory(user=outsider)
    response = signed_in_client(outsider).get(reverse("dsr:outbox-letter", args=[letter.pk]))
    assert response.status_code == 404


def test_the_letter_gives_the_reason_the_email_leaves_out(staff_client, decided):
    from dsr.outbox.delivery import render

    letter = Notification.objects.get(channel="letter")

    assert "No diagnosis yet." in render(letter).html


def test_a_letter_never_asks_to_reply_to_an_email_and_points_up_to_the_help_it_lists(
    staff_client, decided
):
    from dsr.outbox.delivery import render

    letter = render(Notification.objects.get(channel="letter"))
    email = render(Notification.objects.get(channel="email"))

    assert "reply to this email" not in letter.html + letter.text
    assert "reply to this email or contact the DSR team" in email.text
    # "Where else to get help" comes before "What happens next", in both.
    assert letter.text.index("Where else to get help") < letter.text.index("listed above")
    assert "listed below" not in letter.text + email.text
