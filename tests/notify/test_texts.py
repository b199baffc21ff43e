"""Text messages through GOV.UK Notify, only to those who asked for them (issue 20, item 2): a
short note that we have written, with the reference and the team's number, never what the email
or letter says. Sent to the small Notify of the tests (tests/notify/server.py)."""

import pytest
from django.urls import reverse

from dsr.exceptions import RegisterError
from dsr.models import Notification
from dsr.outbox import message
from dsr.outbox.delivery import deliver_due
from referrals.forms.contact_steps import TEXTS_NEED_A_MOBILE
from referrals.models import ReferralContact
from referrals.services import referral_decide
from tests.notify.test_delivery import _email
from tests.referrals.factories import ReferralContactFactory, ReviewedReferralFactory

pytestmark = pytest.mark.django_db

REASON = "No diagnosis of a learning disability yet."


def _referral(areas, *, wants_texts: bool, phone: str = "07700 900982"):
    referral = ReviewedReferralFactory(local_authority=areas["north"], given_name="Robin")
    ReferralContactFactory(
        referral=referral,
        role=ReferralContact.Role.PARENT_CARER,
        name="Kim Carer",
        email="kim@example.org",
        phone=phone,
        has_parental_responsibility=True,
        named_by_person=True,
        wants_texts=wants_texts,
    )
    return referral


def _decide(referral, staff):
    return referral_decide(
        referral,
        decision="not_eligible",
        reason=REASON,
        signposting="Your GP.",
        reasons_told_how="Phoned the person and explained.",
        by=staff,
    )


def test_someone_who_asked_for_texts_is_sent_one_through_notify_with_no_health_details(
    notify, areas, staff_user, settings
):
    referral = _decide(_referral(areas, wants_texts=True), staff_user)
    carer = referral.contacts.get(name="Kim Carer")
    [text] = Notification.objects.filter(subject_id=referral.pk, channel="sms")
    assert (text.recipient_key, text.phone) == (f"contact-{carer.pk}-text", "07700 900982")

    deliver_due()

    text.refresh_from_db()
    assert text.status == Notification.Status.SENT
    [request] = notify.sent("/v2/notifications/sms")
    assert request.body["phone_number"] == "07700 900982"
    assert request.body["template_id"] == settings.NOTIFY_TEMPLATES["referral_outcome_sms"]
    assert request.body["reference"] == f"notification-{text.pk}"
    [accepted] = notify.accepted(f"notification-{text.pk}")
    assert text.provider_reference == accepted["id"]
    body = accepted["body"]
    assert referral.reference in body
    assert "We have sent you an email about it." in body
    # Nothing about the person or the decision: no name, outcome, reason or diagnosis.
    for private in ("Robin", "Kim", "not eligible", "eligible", REASON, "diagnosis", "register"):
        assert private.lower() not in body.lower(), private


def test_no_text_for_someone_who_did_not_ask_even_with_a_mobile_number(notify, areas, staff_user):
    referral = _decide(_referral(areas, wants_texts=False), staff_user)

    deliver_due()

    assert not Notification.objects.filter(subject_id=referral.pk, channel="sms").exists()
    assert notify.sent("/v2/notifications/sms") == []
    assert len(notify.sent("/v2/notifications/email")) >= 1


def test_without_notify_no_text_message_is_written(areas, staff_user, settings):
    assert settings.DSR_MESSAGES == "django"
    referral = _decide(_referral(areas, wants_texts=True), staff_user)

    assert not Notification.objects.filter(subject_id=referral.pk, channel="sms").exists()


def test_a_text_to_a_number_that_is_not_a_uk_mobile_is_refused():
    with pytest.raises(RegisterError, match="not a UK mobile number"):
        message(
            subject_type="tests.subject",
            subject_id=1,
            kind="referral_outcome",
            recipient_key="someone-text",
            recipient_name="Kim Carer",
            text=True,
            phone="01632 960001",
        )


def test_notify_refusing_a_number_fails_the_text_with_its_reason(notify):
    """The small Notify refuses a landline as Notify documents ("Not a UK mobile number")."""
    text = _email(
        kind="referral_outcome",
        recipient_key="someone-text",
        channel=Notification.Channel.SMS,
        email="",
        phone="01632 960001",
        context={"reference": "DSR-0001", "sent_by": ["email"]},
    )

    assert deliver_due() == {"failed": 1}

    text.refresh_from_db()
    assert "400 ValidationError: phone_number Not a UK mobile number" in text.error


def test_staff_record_that_someone_asked_for_texts(staff_client, areas):
    referral = ReviewedReferralFactory(local_authority=areas["north"])
    url = reverse("referrals:recipient-add", args=[referral.pk])
    form = {
        "name": "Ali Friend",
        "email": "ali@example.org",
        "preferred_format": "standard",
        "reason": "The person asked us to tell them.",
        "wants_texts": "on",
    }

    refused = staff_client.post(url, {**form, "phone": "01632 960001"})

    assert refused.status_code == 200
    assert "nhsuk-error-summary" in refused.text
    assert TEXTS_NEED_A_MOBILE.replace(",", "") in refused.text.replace(",", "")
    assert not referral.contacts.filter(name="Ali Friend").exists()

    staff_client.post(url, {**form, "phone": "+44 7700 900123"})

    added = referral.contacts.get(name="Ali Friend")
    assert (added.wants_texts, added.phone) == (True, "+44 7700 900123")


CARER = {
    "has_carer": "yes",
    "carer_name": "Kim Carer",
    "carer_email": "kim@example.org",
    "carer_parental_responsibility": "yes",
    "carer_wants_texts": "on",
}


def test_the_public_form_asks_for_a_mobile_number_when_texts_are_asked_for():
    from referrals.forms.contact_steps import OutcomeForm
    from referrals.forms.steps import PROFESSIONAL

    landline = OutcomeForm({**CARER, "carer_phone": "01632 960001"}, kind=PROFESSIONAL)
    mobile = OutcomeForm({**CARER, "carer_phone": "07700 900982"}, kind=PROFESSIONAL)

    assert not landline.is_valid()
    assert landline.errors["carer_phone"] == [TEXTS_NEED_A_MOBILE]
    assert mobile.is_valid(), mobile.errors
    assert mobile.cleaned_data["carer_wants_texts"] is True


@pytest.mark.parametrize(
    ("kind", "field", "role"),
    [
        ("self", "person_wants_texts", ReferralContact.Role.PERSON),
        ("family", "referrer_wants_texts", ReferralContact.Role.PARENT_CARER),
    ],
)
def test_someone_referring_online_can_ask_for_texts_and_gets_one_with_the_acknowledgement(
    notify, client, areas, kind, field, role
):
    from tests.referrals.helpers import answers_for, submit, token_from, walk

    answers = answers_for(kind, areas["north"].pk)
    answers["about-you"]["referrer_phone"] = "07700 900 982"
    answers["outcome"][field] = "on"
    walk(client, kind, answers)
    assert submit(client, token_from(client)).status_code == 302

    asked = ReferralContact.objects.get(wants_texts=True)
    assert (asked.role, asked.phone) == (role, "07700 900 982")
    [text] = Notification.objects.filter(channel="sms")
    assert (text.kind, text.phone) == ("referral_received", "07700 900982")


@pytest.mark.parametrize("kind", ["self", "family"])
def test_asking_for_texts_without_a_mobile_number_is_refused_on_the_page(client, areas, kind):
    from tests.referrals.helpers import answers_for, step_url, walk

    answers = answers_for(kind, areas["north"].pk)
    answers["about-you"]["referrer_phone"] = "01632 960 001"  # a landline
    walk(client, kind, answers, until="outcome")
    field = "person_wants_texts" if kind == "self" else "referrer_wants_texts"
    page = client.post(step_url(kind, "outcome"), {**answers["outcome"], field: "on"})

    assert page.status_code == 200
    assert "did not give a UK mobile number" in page.content.decode()
