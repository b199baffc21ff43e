"""A signed-in professional referrer: starting a referral from their home page and their list,
with their own details filled in, and seeing where every referral they made stands."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from referrals.models import Referral
from tests.conftest import PERSONAS_BUILT_ONCE, ROLE_PERSONAS
from tests.referrals.factories import ReferralFactory
from tests.referrals.helpers import answers_for, step_url, submit, token_from, walk

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(PERSONAS_BUILT_ONCE)]

HOME = reverse("dsr:home")
MINE = reverse("referrals:mine")
START = step_url("professional", "about-you")
REFERRERS = {"professional_referrer", "professional_referrer_other"}


def _days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def _text(cell: str) -> str:
    """A cell's text, without the heading a narrow screen shows in it."""
    cell = re.sub(r'<span class="nhsuk-table__heading"[^>]*>.*?</span>', "", cell)
    return re.sub(r"<[^>]+>", " ", cell).strip()


def _own(user, area, **fields):
    return ReferralFactory(local_authority=area, submitted_by=user, **fields)


def _decided(user, area, status, *, days_ago, decider, **fields):
    return _own(
        user,
        area,
        status=status,
        received_at=_days_ago(days_ago + 10),
        review_held_on=timezone.localdate(_days_ago(days_ago + 5)),
        decided_at=_days_ago(days_ago),
        decided_by=decider,
        **fields,
    )


@pytest.fixture
def referrer(personas):
    user = personas["users"]["professional_referrer"]
    user.full_name = "Pat Prescott"
    user.job_title = "Community learning disability nurse"
    user.phone = "01632 960 001"
    user.save()
    return user


@pytest.fixture
def referrer_client(personas, referrer):
    return personas["clients"]["professional_referrer"]


# --- The home page -------------------------------------------------------------------------


def test_a_referrers_home_counts_their_referrals_work_and_offers_a_new_one(
    personas, referrer, referrer_client, areas, frozen_now
):
    staff = personas["users"]["register_staff"]
    north = areas["north"]
    _own(referrer, north)
    _own(referrer, north, status=Referral.Status.MORE_INFO, more_info_request="The care plan.")
    _own(
        referrer,
        north,
        received_at=_days_ago(40),
        decision_due=timezone.localdate() - datetime.timedelta(days=12),
    )
    _decided(
        referrer, north, Referral.Status.WITHDRAWN, days_ago=3, decider=staff, withdrawn_reason="x"
    )
    _decided(
        referrer, north, Referral.Status.WITHDRAWN, days_ago=60, decider=staff, withdrawn_reason="x"
    )
    ReferralFactory(
        local_authority=north, submitted_by=personas["users"]["professional_referrer_other"]
    )

    page = referrer_client.get(HOME).text

    assert "Your referrals" in page
    assert "3 waiting for a decision" in page
    assert "1 where we have asked for more information" in page
    assert "1 past the date a decision was due" in page
    assert "1 decided in the last 4 weeks" in page
    assert f'href="{MINE}"' in page
    assert f'href="{START}"' in page and "Start a referral" in page


def test_a_referrer_with_no_referrals_is_still_offered_a_start(referrer_client):
    page = referrer_client.get(HOME).text

    assert "0 waiting for a decision" in page
    assert f'href="{START}"' in page


@pytest.mark.parametrize("persona", sorted(set(ROLE_PERSONAS) - REFERRERS))
def test_other_roles_home_has_no_referrer_section(personas, persona):
    page = personas["clients"][persona].get(HOME).text

    assert "Your referrals" not in page
    assert f'href="{START}"' not in page


# --- Their list ------------------------------------------------------------------------------


def test_the_list_shows_each_referral_its_dates_and_status_in_plain_words(
    personas, referrer, referrer_client, areas, frozen_now
):
    staff = personas["users"]["register_staff"]
    north = areas["north"]
    waiting = _own(referrer, north, given_name="Ada", family_name="Lovelace")
    late = _own(
        referrer,
        north,
        status=Referral.Status.UNDER_REVIEW,
        received_at=_days_ago(35),
        decision_due=timezone.localdate() - datetime.timedelta(days=7),
    )
    refused = _decided(
        referrer,
        north,
        Referral.Status.NOT_ELIGIBLE,
        days_ago=2,
        decider=staff,
        ineligible_reason="Low risk.",
        signposting="The GP.",
    )

    page = referrer_client.get(MINE).text

    rows = re.findall(r"<tr class=\"nhsuk-table__row\"[^>]*>(.*?)</tr>", page, re.S)[1:]
    cells = [[_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in rows]
    assert [c[0] for c in cells] == [refused.reference, late.reference, waiting.reference]
    assert cells[2][1:] == [
        "10 Mar 2026",
        "7 Apr 2026",
        "Received, not yet reviewed",
        "Not decided yet",
    ]
    assert "Late" in cells[1][2] and cells[1][3] == "Being reviewed"
    assert cells[0][3:] == ["Not eligible for the register", "8 Mar 2026"]
    assert "Late" not in cells[0][2]
    # Where it stands, never who or why (ACCESS.md): the reasons go to the people the rule
    # names.
    for private in ("Lovelace", "Low risk.", "The GP.", waiting.risks):
        assert private not in page
    assert f'href="{START}"' in page


def test_the_list_runs_the_same_queries_whatever_the_number_of_referrals(
    referrer, referrer_client, areas, django_assert_max_num_queries
):
    _own(referrer, areas["north"])
    with CaptureQueriesContext(connection) as one:
        assert referrer_client.get(MINE).status_code == 200
    ReferralFactory.create_batch(60, local_authority=areas["north"], submitted_by=referrer)

    with django_assert_max_num_queries(len(one)):
        page = referrer_client.get(MINE)

    assert page.status_code == 200
    assert len(page.context["rows"]) == 50


def test_a_referrer_without_permission_to_submit_is_not_offered_a_start(referrer, referrer_client):
    referrer.groups.clear()
    referrer.user_permissions.add(Permission.objects.get(codename="view_own_referrals"))

    page = referrer_client.get(MINE)

    assert page.status_code == 200
    assert f'href="{START}"' not in page.text


# --- Starting a referral with their own details ---------------------------------------------


def test_the_first_page_is_filled_in_from_the_referrers_account(referrer, referrer_client):
    form = referrer_client.get(START).context["form"]

    assert form.initial == {
        "referrer_name": "Pat Prescott",
        "referrer_role": "Community learning disability nurse",
        "referrer_organisation": referrer.organisation.name,
        "referrer_email": "professional_referrer@nhs.example",
        "referrer_phone": "01632 960 001",
    }
    page = referrer_client.get(START).text
    assert 'value="Pat Prescott"' in page
    assert 'value="professional_referrer@nhs.example"' in page
    assert f'class="nhsuk-back-link" href="{MINE}"' in page


def test_answers_already_given_are_shown_rather_than_the_account(referrer, referrer_client):
    answers = answers_for("professional")
    referrer_client.post(START, answers["about-you"])

    form = referrer_client.get(START).context["form"]

    assert form["referrer_name"].value() == "Pat Professional"


@pytest.mark.parametrize("persona", ["anonymous", "password_only", "register_staff", "dsr_lead"])
def test_nobody_else_gets_details_filled_in(personas, persona):
    response = personas["clients"][persona].get(START)
    form = response.context["form"]

    assert not form.initial
    assert 'value="' not in str(form["referrer_name"])
    assert response.context["back_url"] == reverse("referrals:start")


def test_a_referral_started_from_the_list_is_theirs_and_appears_in_it(
    referrer, referrer_client, areas
):
    answers = answers_for("professional", areas["north"].pk)
    referrer_client.get(MINE)
    start = referrer_client.get(START).context["form"].initial
    answers["about-you"] = {**start, "referrer_address": ""}
    walk(referrer_client, "professional", answers)

    response = submit(referrer_client, token_from(referrer_client))

    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.submitted_by == referrer
    assert (referral.referrer_name, referral.referrer_phone) == ("Pat Prescott", "01632 960 001")
    assert referral.referrer_organisation == referrer.organisation.name
    page = referrer_client.get(MINE).text
    assert referral.reference in page and "Received, not yet reviewed" in page
