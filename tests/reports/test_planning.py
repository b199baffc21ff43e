"""Planning figures for a year (reports.planning), against fixtures counted by hand: trends month
by month, admissions from the register, discharges, length of stay, bed days, placements and
committed spend; the magnitude rules refusing a cost total one person dominates, and a month in
which one package started."""

import datetime
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse

from dsr.models import PlacementType
from dsr.roles import Role
from dsr.services import admission_discharge, placement_record
from reports.disclosure.magnitude import sensitive
from reports.planning import committed_spend, hospital_use, months_of, placements_table, trends
from tests.conftest import account, signed_in_client

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)  # frozen_now: January and February 2026 have ended
# The planning page for a year, measured (see the test at two sizes).
PLANNING_YEAR_QUERIES = 238


def _rows(series) -> dict[str, dict[str, str]]:
    return {row[series.row_heading]: row for row in series.records()}


@pytest.fixture
def stays(make_person, admit, clerk, frozen_now):
    """20 adults in Northshire on the register from 5 January, rated amber. Ten of them admitted
    on 3 February and discharged on 13, 14, ... 22 February: stays of 10 to 19 days."""
    people = [make_person("AMBER") for _ in range(20)]
    for number, person in enumerate(people[:10]):
        admission = admit(person, datetime.date(2026, 2, 3))
        admission_discharge(
            admission=admission, discharged_on=datetime.date(2026, 2, 13 + number), by=clerk
        )
    return people


def test_months_of_a_year_are_the_months_that_have_ended():
    assert months_of(2026, TODAY) == [
        (datetime.date(2026, 1, 1), datetime.date(2026, 1, 31)),
        (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)),
    ]
    assert len(months_of(2025, TODAY)) == 12
    assert months_of(2027, TODAY) == []


def test_trends_month_by_month(stays, clerk):
    rows = _rows(trends(clerk, 2026, TODAY))
    assert list(rows) == ["January 2026", "February 2026"]
    january, february = rows["January 2026"], rows["February 2026"]
    # End of January: all 20 amber. End of February: 10 amber, and the 10 discharged are red
    # (red after a discharge); nobody in hospital.
    assert january["Amber at the month's end"] == "20"
    assert january["Red at the month's end"] == "<8"
    assert february["Amber at the month's end"] == "10"
    assert february["Red at the month's end"] == "10"
    assert february["Blue at the month's end"] == "<8"
    # Ten admissions and ten discharges in February, none in January; no referrals.
    assert (january["Admissions"], february["Admissions"]) == ("<8", "10")
    assert (january["Discharges"], february["Discharges"]) == ("<8", "10")
    assert february["New referrals"] == "<8"


def test_hospital_use_length_of_stay_and_bed_days(stays, clerk):
    rows = _rows(hospital_use(clerk, 2026, TODAY))
    february = rows["February 2026"]
    assert february["Admissions"] == "10"
    # All ten were on the register (from 5 January) before their admission on 3 February.
    assert february["On the register before admission"] == "10"
    assert february["Share on the register before admission"] == "100% (10 of 10)"
    assert february["Discharges"] == "10"
    # Stays of 10, 11, ... 19 days: the median is (14 + 15) / 2 = 14.5, 15 in whole days.
    assert february["Median length of stay of those discharged (days)"] == "15"
    # Bed days (midnights in hospital) in February: 10 + 11 + ... + 19 = 145, shown to the
    # nearest 10 as 150; ten people, and the two longest (19, 18) leave 108, well over 10%.
    assert february["Bed days"] == "150"
    # No stay had begun in January.
    assert rows["January 2026"]["Bed days"] == "None recorded"
    assert rows["January 2026"]["Median length of stay of those discharged (days)"] == (
        "Not shown: fewer than 10 discharges"
    )


def test_length_of_stay_is_not_shown_for_fewer_than_ten(make_person, admit, clerk, frozen_now):
    for number in range(9):
        admission = admit(make_person("AMBER"), datetime.date(2026, 2, 3))
        admission_discharge(
            admission=admission, discharged_on=datetime.date(2026, 2, 10 + number), by=clerk
        )
    february = _rows(hospital_use(clerk, 2026, TODAY))["February 2026"]
    assert february["Median length of stay of those discharged (days)"] == (
        "Not shown: fewer than 10 discharges"
    )
    # Nine stays: fewer than 10 contributors, so the bed days are not shown either.
    assert february["Bed days"] == "[c]"


def _packages(make_person, clerk, weekly_costs, *, started_on=datetime.date(2025, 12, 1)):
    people = []
    for cost in weekly_costs:
        person = make_person("AMBER")
        placement_record(
            person=person,
            placement_type=PlacementType.SUPPORTED_LIVING,
            started_on=started_on,
            weekly_cost=Decimal(cost),
            funder="icb",
            by=clerk,
        )
        people.append(person)
    return people


TEN_PACKAGES = [700 * k for k in range(1, 11)]  # £700 to £7,000 a week: £38,500 in all


def test_committed_spend_by_month_and_area(make_person, clerk, frozen_now):
    _packages(make_person, clerk, TEN_PACKAGES)
    spend = committed_spend(clerk, 2026, TODAY)
    assert spend.columns == ["Northshire", "Southshire", "All these areas"]
    rows = _rows(spend)
    # £38,500 a week is £5,500 a day: 31 days of January £170,500, 28 days of February
    # £154,000. Southshire has no package: nothing to show.
    assert rows["January 2026"]["Northshire"] == "£170,500"
    assert rows["February 2026"]["Northshire"] == "£154,000"
    assert rows["February 2026"]["Southshire"] == "[c]"
    assert rows["January 2026"]["All these areas"] == "£170,500"
    assert rows["February 2026"]["All these areas"] == "£154,000"


def test_the_dominance_rule_refuses_a_cost_total_one_person_dominates(
    make_person, clerk, frozen_now
):
    # Eleven people; one package of £500,000 a week. Without the two largest the rest is
    # £700 x (1 + ... + 8) = £25,200 a week, less than 10% of £500,000: refused.
    _packages(make_person, clerk, [*TEN_PACKAGES[:-1], 500_000, 7000])
    rows = _rows(committed_spend(clerk, 2026, TODAY))
    for month in ("January 2026", "February 2026"):
        assert rows[month]["Northshire"] == "[c]"
        assert rows[month]["All these areas"] == "[c]"


def test_the_dominance_rule_itself():
    ten = [Fraction(700 * k) for k in range(1, 11)]
    assert not sensitive(ten)
    assert sensitive(ten[:9])  # nine contributors: fewer than ten
    assert sensitive([*ten[:9], Fraction(500_000)])  # one person dominates
    # The rest after the two largest exactly 10% of the largest passes; just under fails.
    assert not sensitive([Fraction(1000), Fraction(500), *[Fraction(12.5)] * 8])
    assert sensitive([Fraction(1000), Fraction(500), *[Fraction("12.4")] * 8])


def test_a_month_in_which_one_package_started_is_not_shown(make_person, clerk, frozen_now):
    # Ten packages all along, and one more from 1 February: set beside January, February's
    # total per day would give the new package's cost.
    _packages(make_person, clerk, TEN_PACKAGES)
    _packages(make_person, clerk, [3500], started_on=datetime.date(2026, 2, 1))
    rows = _rows(committed_spend(clerk, 2026, TODAY))
    assert rows["January 2026"]["Northshire"] == "£170,500"
    assert rows["February 2026"]["Northshire"] == "[c]"
    assert rows["February 2026"]["All these areas"] == "[c]"


def test_placements_by_type_and_area(make_person, clerk, frozen_now):
    people = _packages(make_person, clerk, TEN_PACKAGES)
    for person in people[:2]:
        placement_record(
            person=person,
            placement_type=PlacementType.RESIDENTIAL_CARE,
            out_of_area=True,
            started_on=datetime.date(2026, 3, 1),  # after February's end: not counted
            by=clerk,
        )
    table = placements_table(clerk, 2026, TODAY)
    assert table.title == "Placements on 28 February 2026"
    supported = table.rows.index("Supported living")
    assert str(table.cells[supported][0]) == "10"  # in area
    assert str(table.total) == "10"


def test_the_planning_page_for_a_commissioner(make_person, organisations, clerk, frozen_now):
    _packages(make_person, clerk, TEN_PACKAGES)
    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    client = signed_in_client(commissioner)
    page = client.get(reverse("reports:planning"), {"year": 2026})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Planning figures for 2026" in text
    assert "£170,500" in text
    assert not re.search(r"Given\d|Family\d", text)  # nobody named
    csv = client.get(reverse("reports:planning-csv", args=["committed-spend"]), {"year": 2026})
    assert "January 2026,£170,500" in csv.content.decode().replace('"', "")


def test_a_bad_year_gets_an_error_and_the_default_year(organisations, frozen_now):
    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    page = signed_in_client(commissioner).get(reverse("reports:planning"), {"year": 1999})
    text = page.content.decode()
    assert "Choose a year from the list" in text or "Select a valid choice" in text
    assert "Planning figures for 2026" in text


def test_the_planning_page_runs_the_same_queries_at_two_sizes(
    make_person, organisations, clerk, frozen_now, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    client = signed_in_client(commissioner)
    url = reverse("reports:planning")
    _packages(make_person, clerk, TEN_PACKAGES)
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    small = len(queries)
    _packages(make_person, clerk, TEN_PACKAGES * 3)
    with django_assert_max_num_queries(small):
        assert client.get(url).status_code == 200


def _a_year(make_person, admit, clerk, people: int) -> None:
    """`people` people in Northshire and Southshire through 2025: packages that start and end
    across the year, and stays in hospital of a few weeks."""
    from dsr.services import placement_end

    for n in range(people):
        person = make_person("AMBER", area="north" if n % 3 else "south")
        started = datetime.date(2024, 11, 1) + datetime.timedelta(days=17 * n % 400)
        placement = placement_record(
            person=person,
            placement_type=PlacementType.RESIDENTIAL_CARE,
            out_of_area=n % 4 == 0,
            started_on=started,
            weekly_cost=Decimal(1500 + 37 * n),
            funder="joint",
            by=clerk,
        )
        if n % 2:
            placement_end(
                placement=placement,
                ended_on=min(started + datetime.timedelta(days=90 + n), TODAY),
                by=clerk,
            )
        if n % 5 == 0:
            admission = admit(person, datetime.date(2026, 1, 6))
            admission_discharge(
                admission=admission, discharged_on=datetime.date(2026, 1, 20 + n % 7), by=clerk
            )


def test_a_years_planning_page_runs_the_same_queries_however_much_is_recorded(
    make_person, admit, organisations, clerk, frozen_now, django_assert_max_num_queries
):
    """Twelve months of 2025 (the figures computed afresh on each request: the test settings
    keep nothing), with 12 people and then 60: the same queries, at most the measured number."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    client = signed_in_client(commissioner)
    url = reverse("reports:planning")
    _a_year(make_person, admit, clerk, 12)
    client.get(reverse("dsr:home"))  # the signed-in user read once, then kept
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, {"year": 2025}).status_code == 200
    small = len(queries)
    _a_year(make_person, admit, clerk, 48)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url, {"year": 2025})
    assert page.status_code == 200
    assert "December 2025" in page.content.decode()
    assert len(queries) == small
    # Measured: 9 for the signed-in page and the form, and for each month of the year its
    # counts (snapshot, referrals, admissions, discharges, step-downs, admissions from the
    # register) and once for the year the bed days, committed spend, lengths of stay and
    # placements.
    with django_assert_max_num_queries(PLANNING_YEAR_QUERIES):
        client.get(url, {"year": 2025})
