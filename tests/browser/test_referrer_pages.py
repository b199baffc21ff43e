"""A professional referrer's pages in Chromium: their home, their list and the first page of a
referral they start, filled in from their account; none has a serious accessibility fault."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.roles import Role
from referrals.models import Referral
from tests.browser.helpers import serious_violations, sign_in
from tests.dsr.factories import TOTPDeviceFactory, UserFactory
from tests.referrals.factories import ReferralFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_referrers_home_list_and_new_referral_read_well(
    page, live_server, screenshot, organisations, areas
):
    referrer = UserFactory(
        email="pat.prescott@nhs.example",
        full_name="Pat Prescott",
        job_title="Community learning disability nurse",
        phone="01632 960 001",
        organisation=organisations["trust"],
        roles=[Role.PROFESSIONAL_REFERRER],
    )
    staff = UserFactory(organisation=organisations["icb"], roles=[Role.REGISTER_STAFF])
    device = TOTPDeviceFactory(user=referrer)
    north = areas["north"]
    now = timezone.now()
    ReferralFactory(local_authority=north, submitted_by=referrer, given_name="Ada")
    ReferralFactory(
        local_authority=north,
        submitted_by=referrer,
        status=Referral.Status.MORE_INFO,
        more_info_request="The latest care plan.",
    )
    ReferralFactory(
        local_authority=north,
        submitted_by=referrer,
        status=Referral.Status.UNDER_REVIEW,
        received_at=now - datetime.timedelta(days=35),
        decision_due=timezone.localdate() - datetime.timedelta(days=7),
    )
    ReferralFactory(
        local_authority=north,
        submitted_by=referrer,
        status=Referral.Status.WITHDRAWN,
        received_at=now - datetime.timedelta(days=12),
        decided_at=now - datetime.timedelta(days=2),
        decided_by=staff,
        withdrawn_reason="The family asked to stop.",
    )

    sign_in(page, live_server.url + reverse("dsr:home"), referrer, device)
    assert page.get_by_role("heading", name="Your referrals").is_visible()
    assert serious_violations(page) == []
    screenshot("referrer-home")

    page.get_by_role("link", name="See the status of all your referrals").click()
    page.wait_for_load_state()
    assert page.get_by_role("cell", name="We have asked for more information").is_visible()
    assert serious_violations(page) == []
    screenshot("referrer-mine")

    page.get_by_role("button", name="Start a referral").click()
    page.wait_for_load_state()
    assert page.get_by_label("Full name").input_value() == "Pat Prescott"
    assert page.get_by_label("Work email address").input_value() == "pat.prescott@nhs.example"
    assert serious_violations(page) == []
    screenshot("referrer-start")
