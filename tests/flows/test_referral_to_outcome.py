"""One referral from start to outcome through the HTTP client, as its users would go: a person
refers themselves online, staff find it in the queue with its four-week due date, review it
with education and social care, decide it is not eligible, and everyone the rule names is owed
the outcome with the reason and where else to get help."""

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse

from dsr.models import Notification
from referrals.models import Referral
from referrals.recipients import outcome_messages, outcome_recipients
from tests.edit_pages import edit_version
from tests.referrals.helpers import answers_for, submit, token_from, walk

pytestmark = pytest.mark.django_db


def test_self_referral_to_not_eligible_outcome_for_everyone(client, personas, areas, frozen_now):
    cache.clear()
    staff = personas["clients"]["register_staff"]

    # The person refers themselves.
    client.post(reverse("referrals:who"), {"who": "self"})
    walk(client, "self", answers_for("self", areas["north"].pk))
    submit(client, token_from(client))
    confirmation = client.get(reverse("referrals:confirmation")).content.decode()
    referral = Referral.objects.get()
    assert referral.reference in confirmation
    assert referral.decision_due == datetime.date(2026, 4, 7)  # 10 March + 28 days

    # Staff find it in the queue with the right due date.
    queue = staff.get(reverse("referrals:queue")).content.decode()
    assert referral.reference in queue
    assert "7 Apr 2026" in queue or "7 April 2026" in queue

    # They review it with education and social care, then decide.
    detail = reverse("referrals:detail", args=[referral.pk])
    assert staff.get(detail).status_code == 200
    review_url = reverse("referrals:review", args=[referral.pk])
    review = staff.post(
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
    assert review["Location"] == detail
    decision = staff.post(
        reverse("referrals:decide", args=[referral.pk]),
        {
            "decision": "not_eligible",
            "ineligible_reason": "The risk of going into hospital is low at the moment.",
            "signposting": "Your GP, and the local autism support service on 01603 000 000.",
        },
    )
    assert decision["Location"] == detail
    referral.refresh_from_db()
    assert referral.status == Referral.Status.NOT_ELIGIBLE

    # One outbox message per recipient of the rule, each with the reason and signposting.
    # (and, for those told by email who have a postal address, the reasons by letter).
    expected = {m.key for m in outcome_messages(outcome_recipients(referral), "not_eligible")}
    messages = Notification.objects.filter(
        subject_type="referrals.referral", subject_id=referral.pk, kind="referral_outcome"
    )
    assert {m.recipient_key for m in messages} == expected
    assert len(messages) == len(expected) >= 2
    for message in messages:
        assert message.context["reason"].startswith("The risk of going into hospital is low")
        assert "local autism support service" in message.context["signposting"]
        assert message.status == Notification.Status.PENDING

    # Staff see the messages on the referral page.
    page = staff.get(detail).content.decode()
    for message in messages:
        assert message.recipient_name in page
