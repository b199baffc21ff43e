"""Flows over a period, against a fixture counted by hand: referrals and days to a decision,
rating changes, step-downs without admission, admissions; suppressed where small."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from dsr.models import RAG, Admission
from dsr.roles import Role
from dsr.services import admission_record, rating_change
from referrals.services import referral_decide
from reports.flows import (
    Period,
    admission_table,
    referral_figures,
    step_down_count,
    step_down_figure,
    transitions_table,
)
from tests.conftest import account, signed_in_client
from tests.referrals.test_services import reviewed, submit

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
PERIOD = Period(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 3, 10))
# Days from receipt (5 January) to each decision: 5 within four weeks (28 days: by 2 February)
# and 5 after.
DAYS = [3, 7, 10, 14, 20, 30, 33, 35, 40, 45]


def _decide(areas, frozen_now, clerk, days: list[int]) -> None:
    """Referrals received on 5 January, each decided (not eligible) that many days later."""
    received = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=LONDON)
    for number, after in enumerate(days):
        frozen_now.move_to(received)
        referral = submit(areas, nhs_number="", family_name=f"Flow{number}")
        reviewed(referral, clerk)
        frozen_now.move_to(received + datetime.timedelta(days=after))
        referral_decide(
            referral,
            decision="not_eligible",
            reason="The risk of admission is low.",
            signposting="The local autism support service.",
            by=clerk,
        )
    frozen_now.move_to(datetime.datetime(2026, 3, 10, 9, 30, tzinfo=LONDON))


@pytest.fixture
def decided(areas, frozen_now, clerk):
    _decide(areas, frozen_now, clerk, DAYS)
    submit(areas, nhs_number="", family_name="Undecided")  # received, not decided


def _figures(user):
    return {figure.label: figure.text for figure in referral_figures(user, PERIOD)}


def test_referrals_decisions_and_days_to_a_decision(decided, clerk):
    figures = _figures(clerk)
    assert figures["New referrals"] == "10"  # 10 on 5 January and 1 on 10 March: 11, rounded
    assert figures["Decisions"] == "10"
    assert figures["Decided: not eligible"] == "10"
    assert figures["Decided: added to the register"] == "<8"
    # On time: decided by 2 February, the first five (3 to 20 days): 5 of 10. The share is
    # worked out from published counts only, and 5 is shown as "<8".
    assert (
        figures["Decided within four weeks"] == "Not shown: fewer than 8 decided within four weeks"
    )
    # Median of 3, 7, 10, 14, 20, 30, 33, 35, 40, 45 = (20 + 30) / 2 = 25. 90th percentile,
    # interpolated: position 0.9 x (10 - 1) = 8.1, so 40 + 0.1 x (45 - 40) = 40.5: 41 in
    # whole days. Shown for 10 decisions or more.
    assert figures["Median days to a decision"] == "25"
    assert figures["90th percentile of days to a decision"] == "41"


@pytest.mark.parametrize(
    ("days", "share"),
    [
        # 11 decisions, 8 within four weeks (by 2 February) and 3 after: 8 and 11 are shown as
        # 10 and 10, and the share is worked out from those.
        ([1, 2, 3, 5, 8, 13, 21, 28, 30, 35, 40], "100% (10 of 10)"),
        # 11 decisions, 6 within four weeks: 6 is fewer than 8, and that is the reason given.
        (
            [1, 2, 3, 5, 8, 13, 30, 31, 35, 40, 45],
            "Not shown: fewer than 8 decided within four weeks",
        ),
    ],
)
def test_the_four_week_share_of_11_decisions(areas, frozen_now, clerk, days, share):
    _decide(areas, frozen_now, clerk, days)
    figures = _figures(clerk)
    assert figures["Decisions"] == "10"
    assert figures["Decided within four weeks"] == share


def test_small_shares_and_percentiles_are_not_shown(areas, frozen_now, clerk):
    received = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=LONDON)
    frozen_now.move_to(received)
    referral = submit(areas, nhs_number="", family_name="Only")
    reviewed(referral, clerk)
    referral_decide(
        referral,
        decision="not_eligible",
        reason="The risk of admission is low.",
        signposting="The local autism support service.",
        by=clerk,
    )
    frozen_now.move_to(datetime.datetime(2026, 3, 10, 9, 30, tzinfo=LONDON))
    figures = _figures(clerk)
    assert figures["Decisions"] == "<8"
    assert figures["Decided within four weeks"] == (
        "Not shown: fewer than 8 decisions (not counting withdrawals)"
    )
    assert figures["Days to a decision"] == "Not shown: fewer than 10 decisions"


@pytest.fixture
def ratings(make_person, clerk, frozen_now):
    """A: Red from 5 January, Amber 1 February, Green 1 March (a step-down, no admission).
    B: Amber from 5 January, admitted 10 February without a community C(E)TR (Blue).
    C: Amber from 5 January, Green 1 March, but in hospital in February: not a step-down
       without admission."""
    frozen_now.move_to(datetime.datetime(2026, 3, 10, 9, 30, tzinfo=LONDON))
    a = make_person("RED", family_name="A")
    for rating, day in [(RAG.AMBER, 1), (RAG.GREEN, 32)]:  # 1 February, then 1 March (day 32)
        rating_change(
            entry=a.register_entries.get(),
            rating=rating,
            rationale="Changed.",
            effective_from=datetime.date(2026, 1, 31) + datetime.timedelta(days=day),
            by=clerk,
        )
    b = make_person("AMBER", family_name="B")
    admission_record(
        person=b,
        hospital_name="Riverside",
        hospital_ods_code="RMY01",
        cqc_rating=Admission.CqcRating.GOOD,
        admitted_on=datetime.date(2026, 2, 10),
        ward_security=Admission.WardSecurity.GENERAL,
        community_cetr_before_admission=False,
        by=clerk,
    )
    c = make_person("AMBER", family_name="C")
    Admission.objects.create(
        person=c,
        hospital_name="Hillside",
        hospital_ods_code="RMY02",
        cqc_rating=Admission.CqcRating.GOOD,
        admitted_on=datetime.date(2026, 2, 2),
        ward_security=Admission.WardSecurity.GENERAL,
        community_cetr_before_admission=True,
        recorded_by=clerk,
        discharged_on=datetime.date(2026, 2, 20),
        discharged_by=clerk,
    )
    rating_change(
        entry=c.register_entries.get(),
        rating=RAG.GREEN,
        rationale="Settled at home.",
        effective_from=datetime.date(2026, 3, 1),
        by=clerk,
    )


def test_rating_changes_from_each_rating_to_each(ratings, clerk):
    table = transitions_table(clerk, PERIOD)
    values = {label: [cell.value for cell in cells] for label, cells, _ in table.lines}
    # Columns: to Red, Amber, Green, Blue. A: Red to Amber, Amber to Green. B: Amber to Blue
    # (the admission). C: Amber to Green. First ratings (no "from") are not changes.
    assert values == {
        "From red": [0, 1, 0, 0],
        "From amber": [0, 0, 2, 1],
        "From green": [0, 0, 0, 0],
        "From blue": [0, 0, 0, 0],
    }
    assert table.total.value == 4
    assert str(table.total) == "<8"


def test_step_downs_without_an_admission(ratings, clerk):
    # A stepped down with no admission; C stepped down but was in hospital in the period.
    assert step_down_count(clerk, PERIOD) == 1
    assert step_down_figure(clerk, PERIOD).text == "<8"


def test_a_step_down_counts_admissions_in_its_own_red_or_amber_spell_only(
    ratings, make_person, admit, clerk
):
    # E: Amber from 5 January, Green from 1 February, admitted on 20 February: the admission
    # came after the step-down, which was made without one. A and E now: 2.
    e = make_person("AMBER", family_name="E")
    rating_change(
        entry=e.register_entries.get(),
        rating=RAG.GREEN,
        rationale="Settled.",
        effective_from=datetime.date(2026, 2, 1),
        by=clerk,
    )
    admit(e, datetime.date(2026, 2, 20))
    assert step_down_count(clerk, PERIOD) == 2
    # F: on the register as Amber from 1 December 2025, in hospital from 10 to 20 December
    # (before the period, in the same Amber spell), Green from 15 January: not a step-down
    # without admission. Still 2.
    f = make_person("AMBER", family_name="F", opened_on=datetime.date(2025, 12, 1))
    Admission.objects.create(
        person=f,
        hospital_name="Hillside",
        hospital_ods_code="RMY02",
        cqc_rating=Admission.CqcRating.GOOD,
        admitted_on=datetime.date(2025, 12, 10),
        ward_security=Admission.WardSecurity.GENERAL,
        community_cetr_before_admission=False,
        recorded_by=clerk,
        discharged_on=datetime.date(2025, 12, 20),
        discharged_by=clerk,
    )
    rating_change(
        entry=f.register_entries.get(),
        rating=RAG.GREEN,
        rationale="Settled.",
        effective_from=datetime.date(2026, 1, 15),
        by=clerk,
    )
    assert step_down_count(clerk, PERIOD) == 2


def test_admissions_by_age_and_community_cetr_first(ratings, clerk):
    table, figures = admission_table(clerk, PERIOD)
    values = {label: [cell.value for cell in cells] for label, cells, _ in table.lines}
    # B (adult, without) and C (adult, with), both admitted in February.
    assert values == {"Children (under 18)": [0, 0], "Adults (18 and over)": [1, 1]}
    # No child: "none" would tell zero apart from the small counts shown as "<8".
    assert [f.text for f in figures] == ["Not shown: fewer than 8 children admitted"]


def _month(start: datetime.date, end: datetime.date) -> dict:
    return {
        "start_day": start.day,
        "start_month": start.month,
        "start_year": start.year,
        "end_day": end.day,
        "end_month": end.month,
        "end_year": end.year,
    }


def test_the_flows_page_and_its_downloads(decided, organisations):
    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    client = signed_in_client(commissioner)
    january = _month(datetime.date(2026, 1, 1), datetime.date(2026, 1, 31))
    page = client.get(reverse("reports:flows"), january)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Flows from 1 January 2026 to 31 January 2026" in html
    # Decided in January: the five within four weeks, fewer than 8 decisions.
    assert "Decided within four weeks" in html
    assert "Not shown: fewer than 8 decisions (not counting withdrawals)" in html
    assert "rounded to the nearest 5" in html
    csv = client.get(reverse("reports:flows-csv", kwargs={"table": "transitions"}), january)
    assert csv["Content-Type"].startswith("text/csv")
    bad = client.get(
        reverse("reports:flows"), {"start_day": 1, "start_month": 13, "start_year": 2026}
    )
    assert "nhsuk-error-summary" in bad.content.decode()


def test_a_period_is_a_whole_month_that_has_ended(organisations, frozen_now):
    client = signed_in_client(account(organisations["icb"], Role.PLANNING_COMMISSIONER))
    url = reverse("reports:flows")
    cases = [
        (
            _month(datetime.date(2026, 1, 5), datetime.date(2026, 1, 31)),
            "The period must start on the first day of a month.",
        ),
        (
            _month(datetime.date(2026, 1, 1), datetime.date(2026, 2, 28)),
            "The period must end on the last day of the month it starts in.",
        ),
        (
            _month(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)),
            "The end of the period must be today or in the past.",
        ),
    ]
    for query, message in cases:
        page = client.get(url, query)
        assert message in page.content.decode(), query
        assert "nhsuk-error-summary" in page.content.decode()
    # No period chosen: the last whole month, February (the clock reads 10 March).
    page = client.get(url)
    assert "Flows from 1 February 2026 to 28 February 2026" in page.content.decode()
    # The month that has just ended, and only the start given: its whole month.
    page = client.get(url, {"start_day": 1, "start_month": 2, "start_year": 2026})
    assert "Flows from 1 February 2026 to 28 February 2026" in page.content.decode()


def test_the_flows_page_runs_the_same_queries_at_two_sizes(
    make_person, organisations, clerk, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    client = signed_in_client(commissioner)
    url = reverse("reports:flows")
    for _ in range(3):
        make_person("RED")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    small = len(queries)
    for person in [make_person("AMBER") for _ in range(40)]:
        rating_change(
            entry=person.register_entries.get(), rating=RAG.GREEN, rationale="Settled.", by=clerk
        )
    with django_assert_max_num_queries(small):
        assert client.get(url).status_code == 200


def test_flows_filter_by_age_group(ratings, clerk):
    from reports.flows import Period as FlowPeriod

    children = FlowPeriod(start=PERIOD.start, end=PERIOD.end, age_group="child")
    adults = FlowPeriod(start=PERIOD.start, end=PERIOD.end, age_group="adult")
    # A, B and C are all adults (born 1996): no child changed rating.
    assert transitions_table(clerk, children).total.value == 0
    assert transitions_table(clerk, adults).total.value == 4


def test_children_are_counted_by_their_age_at_admission(make_person, clerk, frozen_now):
    # Born 1 March 2008: 17 when admitted on 20 February 2026, 18 by the end of the period.
    frozen_now.move_to(datetime.datetime(2026, 3, 10, 9, 30, tzinfo=LONDON))
    person = make_person("RED", date_of_birth=datetime.date(2008, 3, 1))
    admission_record(
        person=person,
        hospital_name="Riverside",
        hospital_ods_code="RMY01",
        cqc_rating=Admission.CqcRating.GOOD,
        admitted_on=datetime.date(2026, 2, 20),
        ward_security=Admission.WardSecurity.GENERAL,
        community_cetr_before_admission=True,
        by=clerk,
    )
    table, figures = admission_table(clerk, PERIOD)
    values = {label: [cell.value for cell in cells] for label, cells, _ in table.lines}
    assert values == {"Children (under 18)": [1, 0], "Adults (18 and over)": [0, 0]}
    # One child: the share is not shown, and the page says why.
    assert figures[0].text == "Not shown: fewer than 8 children admitted"


def test_withdrawn_referrals_are_outcomes_not_late_decisions(decided, areas, frozen_now, clerk):
    # Five more referrals, withdrawn after 40 days: counted as outcomes, not in timeliness.
    received = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=LONDON)
    for number in range(5):
        frozen_now.move_to(received)
        referral = submit(areas, nhs_number="", family_name=f"Withdrawn{number}")
        frozen_now.move_to(received + datetime.timedelta(days=40))
        referral_decide(referral, decision="withdrawn", reason="Moved away.", by=clerk)
    frozen_now.move_to(datetime.datetime(2026, 3, 10, 9, 30, tzinfo=LONDON))
    figures = _figures(clerk)
    assert figures["Decided: withdrawn"] == "<8"  # 5
    assert figures["Decisions"] == "15"
    # Still 5 of the 10 reviewed: 5 is shown as "<8".
    assert figures["Decided within four weeks"] == (
        "Not shown: fewer than 8 decided within four weeks"
    )
    assert figures["Median days to a decision"] == "25"
