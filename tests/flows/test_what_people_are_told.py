"""What people are told, route by route, through the HTTP client: an online self-referral, a
professional's referral, a paper referral entered by staff, and a request for a C(E)TR. Each is
acknowledged when it arrives, and its outcome told when it is decided, to everyone the outcome
rule (DOMAIN.md section 5) names, each in their channel and format. Every message carries the
reference and the DSR team's contact details; every letter has a postcode on its last line.
What is checked is what each person receives: the delivered email, or the letter as printed."""

import re
from dataclasses import dataclass

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from dsr.models import Notification
from dsr.nhsuk.validators import postcode_in
from dsr.outbox.delivery import deliver_due
from dsr.outbox.letters import letter_html
from dsr.services import team_contact_save
from referrals.models import Referral
from reviews.models import CetrRequest
from tests.conftest import PERSONAS_BUILT_ONCE
from tests.dsr.factories import UserFactory
from tests.edit_pages import edit_version
from tests.referrals.helpers import answers_for, submit, token_from, walk
from tests.referrals.test_staff_views import _entry
from tests.reviews.test_requests import _send

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(PERSONAS_BUILT_ONCE)]

TEAM_PHONE = "01632 960 001"
TEAM_POSTCODE = "NR1 2DH"
REASON = "The risk of going into hospital is low at the moment."
SIGNPOSTING = "Your GP, and the local autism support service on 01603 000 000."


@pytest.fixture(autouse=True)
def team(organisations):
    cache.clear()
    return team_contact_save(
        by=UserFactory(organisation=organisations["icb"]),
        phone=TEAM_PHONE,
        email="dsr.team@nhs.example",
        address="DSR team\n1 Example Street\nNorwich",
        postcode=TEAM_POSTCODE,
        opening_hours="Monday to Friday, 9am to 5pm",
        complaints="Write to us and ask us to look at the decision again.",
    )


@dataclass
class Received:
    """One message as its recipient gets it."""

    name: str
    channel: str
    accessible_format: str
    text: str
    address: str = ""


def _received(kind: str) -> dict[str, list[Received]]:
    """Deliver what is due, then read every `kind` message as it reached its recipient: an
    email from the mail outbox, a letter as printed. Keyed by recipient name."""
    mail.outbox.clear()
    deliver_due()
    emails = {message.to[0]: message for message in mail.outbox}
    got: dict[str, list[Received]] = {}
    for row in Notification.objects.filter(kind=kind).order_by("id"):
        if row.channel == Notification.Channel.LETTER:
            assert row.status == Notification.Status.LETTER_READY
            text = " ".join(re.sub(r"<[^>]+>", " ", letter_html(row)).split())
        else:
            assert row.status == Notification.Status.SENT, row.error
            text = " ".join(emails[row.email].body.split())
        got.setdefault(row.recipient_name, []).append(
            Received(
                row.recipient_name, row.channel, row.accessible_format, text, row.postal_address
            )
        )
    return got


def _check_every_message(got: dict[str, list[Received]], reference: str) -> None:
    for messages in got.values():
        for message in messages:
            assert reference in message.text, message
            assert TEAM_PHONE in message.text, message  # how to reach the DSR team
            if message.channel == Notification.Channel.LETTER:
                assert postcode_in(message.address), message.address
                assert postcode_in(message.address) in message.text
                assert "reply to this email" not in message.text


def _channels(got: dict[str, list[Received]]) -> set[tuple[str, str, str]]:
    return {(m.name, m.channel, m.accessible_format) for ms in got.values() for m in ms}


def _review_and_decide(staff, referral: Referral, decision: dict[str, str]) -> None:
    review_url = reverse("referrals:review", args=[referral.pk])
    response = staff.post(
        review_url,
        {
            **edit_version(staff, review_url),
            "held_on_day": "10",
            "held_on_month": "3",
            "held_on_year": "2026",
            "education_participant": "Jo Smith, SENCo",
            "social_care_participant": "Ravi Patel, social worker",
        },
    )
    assert response.status_code == 302
    response = staff.post(reverse("referrals:decide", args=[referral.pk]), decision)
    assert response.status_code == 302, response.content.decode()[:3000]


NOT_ELIGIBLE = {"decision": "not_eligible", "ineligible_reason": REASON, "signposting": SIGNPOSTING}


def test_an_online_self_referral_is_acknowledged_and_its_outcome_told_in_easy_read(
    client, personas, areas, frozen_now
):
    walk(client, "self", answers_for("self", areas["north"].pk))
    submit(client, token_from(client))
    referral = Referral.objects.get()

    acknowledged = _received("referral_received")

    # The person, who asked for easy read, and the carer they named: by email, in easy read.
    assert _channels(acknowledged) == {
        ("Alexandra Quillfeather", "email", "easy_read"),
        ("Jo Carer", "email", "easy_read"),
    }
    _check_every_message(acknowledged, referral.reference)
    [to_person] = acknowledged["Alexandra Quillfeather"]
    assert "We got your referral." in to_person.text
    assert "10 March 2026" in to_person.text  # the day it arrived
    assert "7 April 2026" in to_person.text  # the day a decision is due

    _review_and_decide(personas["clients"]["register_staff"], referral, NOT_ELIGIBLE)
    told = _received("referral_outcome")

    # The person has a postal address, so the reasons follow by letter; the carer has none.
    assert _channels(told) == {
        ("Alexandra Quillfeather", "email", "easy_read"),
        ("Alexandra Quillfeather", "letter", "easy_read"),
        ("Jo Carer", "email", "easy_read"),
    }
    _check_every_message(told, referral.reference)
    email, letter = sorted(told["Alexandra Quillfeather"], key=lambda m: m.channel)
    assert REASON not in email.text and "We will send you a letter. The letter says why." in (
        email.text
    )
    assert REASON in letter.text and "We have not put you on the register." in letter.text
    [carer] = told["Jo Carer"]
    assert REASON not in carer.text and "To find out why, talk to the DSR team." in carer.text


def test_a_professionals_referral_is_acknowledged_and_the_person_told_by_letter(
    client, personas, areas, frozen_now
):
    walk(client, "professional", answers_for("professional", areas["north"].pk))
    submit(client, token_from(client))
    referral = Referral.objects.get()

    acknowledged = _received("referral_received")

    # The person has no email: a letter to their address, with its postcode; the referrer by
    # email, in the standard format.
    assert _channels(acknowledged) == {
        ("Alexandra Quillfeather", "letter", "easy_read"),
        ("Pat Professional", "email", "standard"),
    }
    _check_every_message(acknowledged, referral.reference)
    [letter] = acknowledged["Alexandra Quillfeather"]
    assert letter.address == "1 High Street\nNorwich\nNR1 2DH"
    assert "1 High Street Norwich NR1 2DH" in letter.text  # the address block, postcode last
    [to_referrer] = acknowledged["Pat Professional"]
    assert "We will decide by: 7 April 2026" in to_referrer.text

    _review_and_decide(personas["clients"]["register_staff"], referral, NOT_ELIGIBLE)
    told = _received("referral_outcome")

    assert _channels(told) == {
        ("Alexandra Quillfeather", "letter", "easy_read"),
        ("Pat Professional", "email", "standard"),
    }
    _check_every_message(told, referral.reference)
    assert REASON in told["Alexandra Quillfeather"][0].text
    to_referrer = told["Pat Professional"][0].text
    assert REASON not in to_referrer
    assert "To hear them, contact the DSR team" in to_referrer
    assert "look at the decision again" in to_referrer


def test_a_paper_referral_entered_by_staff_is_acknowledged_and_its_outcome_told(
    personas, areas, frozen_now
):
    staff = personas["clients"]["register_staff"]
    response = staff.post(reverse("referrals:create"), _entry(areas["north"]))
    assert response.status_code == 302
    referral = Referral.objects.get()

    acknowledged = _received("referral_received")

    # The person by email in easy read; the family referrer, whom the person agreed may be
    # told, by letter to the address on the paper form.
    assert _channels(acknowledged) == {
        ("Alex Paperform", "email", "easy_read"),
        ("Jo Carer", "letter", "standard"),
    }
    _check_every_message(acknowledged, referral.reference)
    assert "2 March 2026" in acknowledged["Jo Carer"][0].text  # received on paper that day

    _review_and_decide(
        staff, referral, {"decision": "added", "rating": "AMBER", "rationale": "Crisis visits."}
    )
    told = _received("referral_outcome")

    assert _channels(told) == {
        ("Alex Paperform", "email", "easy_read"),
        ("Jo Carer", "letter", "standard"),
    }
    _check_every_message(told, referral.reference)
    assert "We have put you on the register." in told["Alex Paperform"][0].text
    assert "has been added to the dynamic support register" in told["Jo Carer"][0].text


def test_a_cetr_request_is_acknowledged_and_its_outcome_told_by_letter(
    client, personas, areas, frozen_now
):
    response = _send(
        client,
        areas["north"],
        contact_by="letter",
        requester_address="1 High Street\nNorwich\nNR1 2DH",
    )
    assert response.status_code == 302
    request = CetrRequest.objects.get()

    acknowledged = _received("cetr_request_received")

    assert _channels(acknowledged) == {("Morgan Ward", "letter", "standard")}
    _check_every_message(acknowledged, request.reference)
    text = acknowledged["Morgan Ward"][0].text
    assert "Treatment Review (C(E)TR) for Ellis." in text  # who the review is for
    assert "Received on: 10 March 2026" in text
    assert "We will decide by: 24 March 2026" in text  # 10 working days

    staff = personas["clients"]["register_staff"]
    detail = reverse("reviews:request-detail", args=[request.pk])
    reason = "A review was held last month; we will look again if anything changes."
    assert staff.post(detail, {"decision": "decline", "reason": reason}).status_code == 302
    told = _received("cetr_request_declined")

    assert _channels(told) == {("Morgan Ward", "letter", "standard")}
    _check_every_message(told, request.reference)
    assert reason in told["Morgan Ward"][0].text
