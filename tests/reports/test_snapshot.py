"""The register snapshot at a date: correct against a fixture counted by hand, at a past date
after later changes; computed in the database with the same queries at two sizes; only numbers,
only for roles that may see reports."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dsr.models import RAG
from dsr.roles import Role
from dsr.services import rating_change, register_close
from reports.queries import SnapshotFilters, snapshot
from tests.conftest import account, signed_in_client
from tests.figures import record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

URL = reverse("reports:snapshot")


@pytest.fixture
def register(make_person, clerk):
    """Four people (the clock reads 10 March 2026):
    A  Northshire adult: Red from 5 January, Green from 1 March.
    B  Northshire adult: Amber from 5 January.
    C  Southshire child: Amber from 1 February, off the register on 5 March.
    D  Northshire adult: Green from 8 March.
    """
    a = make_person("RED", family_name="Alpha")
    rating_change(
        entry=a.register_entries.get(),
        rating=RAG.GREEN,
        rationale="Settled.",
        effective_from=datetime.date(2026, 3, 1),
        by=clerk,
    )
    make_person("AMBER", family_name="Bravo")
    c = make_person(
        "AMBER",
        family_name="Charlie",
        area="south",
        date_of_birth=datetime.date(2012, 6, 1),
        opened_on=datetime.date(2026, 2, 1),
    )
    register_close(
        entry=c.register_entries.get(),
        reason="risk_reduced",
        closed_on=datetime.date(2026, 3, 5),
        by=clerk,
    )
    make_person("GREEN", family_name="Delta", opened_on=datetime.date(2026, 3, 8))


def _values(table, *, by="rows"):
    """{row label: [Red, Amber, Green, Blue]} of raw counts, before suppression."""
    return {label: [cell.value for cell in cells] for label, cells, _ in table.lines}


def _tables(user, on, **filters):
    return {t.slug: t for t in snapshot(user, SnapshotFilters(on=on, **filters))}


def test_a_past_snapshot_counts_the_ratings_people_had_that_day(register, clerk):
    # 15 February: A was Red (Green only from 1 March), B Amber, C Amber (still on the
    # register until 5 March); D not yet on it. Red 1, Amber 2, Green 0: 3 people.
    tables = _tables(clerk, datetime.date(2026, 2, 15))
    by_area = _values(tables["local-authority"])
    assert by_area == {"Northshire": [1, 1, 0, 0], "Southshire": [0, 1, 0, 0]}
    assert [c.value for c in tables["local-authority"].column_totals] == [1, 2, 0, 0]
    assert tables["local-authority"].total.value == 3
    by_age = _values(tables["age-group"])
    # C (born 1 June 2012) is 13: a child. A and B (born 17 May 1996) are 29: adults (26+).
    assert by_age["Child (under 18)"] == [0, 1, 0, 0]
    assert by_age["Adult (26 and over)"] == [1, 1, 0, 0]


def test_todays_snapshot_follows_the_changes_since(register, clerk):
    # 10 March: A Green, B Amber, D Green; C came off on 5 March. Red 0, Amber 1, Green 2.
    tables = _tables(clerk, datetime.date(2026, 3, 10))
    assert [c.value for c in tables["diagnosis"].column_totals] == [0, 1, 2, 0]
    assert _values(tables["local-authority"]) == {
        "Northshire": [0, 1, 2, 0],
        "Southshire": [0, 0, 0, 0],
    }


def test_filters_by_area_and_age_group(register, clerk, areas):
    on = datetime.date(2026, 2, 15)
    south = _tables(clerk, on, local_authority=areas["south"].pk)
    assert south["sex"].total.value == 1  # only C
    children = _tables(clerk, on, age_group="child")
    assert children["sex"].total.value == 1  # only C again
    adults = _tables(clerk, on, age_group="adult")
    assert adults["sex"].total.value == 2  # A and B


def test_the_page_hides_small_numbers_and_names_no_one(register, organisations):
    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    page = signed_in_client(commissioner).get(URL, {"on_day": 15, "on_month": 2, "on_year": 2026})
    html = page.content.decode()
    assert page.status_code == 200
    assert "&lt;5" in html
    for name in ("Alpha", "Bravo", "Charlie", "Delta"):
        assert name not in html
    # Every count on this small register is 1 to 4, so no count of 1 to 4 is printed: every
    # number cell of the area table is hidden or zero.
    table = page.context["tables"][2]
    assert all(str(cell) in ("<5", "0") for cells in table.cells for cell in cells)


def test_a_table_downloads_as_csv_with_the_same_suppression(register, organisations):
    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    response = signed_in_client(commissioner).get(
        reverse("reports:snapshot-csv", kwargs={"table": "local-authority"}),
        {"on_day": 15, "on_month": 2, "on_year": 2026},
    )
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    assert "register-local-authority-2026-02-15.csv" in response["Content-Disposition"]
    assert "Northshire,<5,<5,0,0,<5" in body
    assert "Alpha" not in body


def test_a_table_too_small_to_protect_is_withheld_on_the_page_and_in_the_csv(
    make_person, organisations
):
    # One Red and one Amber in each of two areas: the area table's grand total is 4, shown as
    # "<5", and four counts of at least 1 making at most 4 are all 1s, whatever else is hidden.
    for rating, area in [
        ("RED", "north"),
        ("AMBER", "north"),
        ("RED", "south"),
        ("AMBER", "south"),
    ]:
        make_person(rating, area=area)
    client = signed_in_client(account(organisations["icb"], Role.PLANNING_COMMISSIONER))
    page = client.get(URL)
    table = next(t for t in page.context["tables"] if t.slug == "local-authority")
    assert table.withheld
    html = page.content.decode()
    assert "too few people to show any of this table" in html
    body = client.get(reverse("reports:snapshot-csv", kwargs={"table": "local-authority"}))
    text = body.content.decode()
    assert "too few people to show any of this table" in text
    assert "Northshire" not in text and "<5" not in text.split("\n", 2)[2]


def test_roles_that_may_not_see_reports_are_refused(register, organisations):
    for role, org in [
        (Role.PROFESSIONAL_REFERRER, "trust"),
        (Role.PANEL_MEMBER, "icb"),
        (Role.SENIOR_MANAGER_LA, "north_council"),
    ]:
        user = account(organisations[org], role)
        assert signed_in_client(user).get(URL).status_code == 403


def test_the_snapshot_runs_the_same_queries_at_two_register_sizes(
    make_person, organisations, django_assert_max_num_queries
):
    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    client = signed_in_client(commissioner)
    for _ in range(5):
        make_person("RED")
    client.get(URL)
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    small = len(queries)
    for rating in ["RED", "AMBER", "GREEN"] * 20:
        make_person(rating, area="south")
    with django_assert_max_num_queries(small):
        response = client.get(URL)
    assert response.context["tables"][0].total.value == 65
    record("T1 queries: register snapshot report (5 / 65 people)", f"{small} / <= {small}")


def test_the_chart_draws_only_what_the_table_shows(make_person, clerk):
    for _ in range(7):
        make_person("AMBER")
    make_person("RED", area="south")
    table = _tables(clerk, datetime.date(2026, 3, 10))["local-authority"]
    bars = {bar["label"]: bar for bar in table.chart["bars"]}
    # Southshire's 1 is hidden: no bar, "<5". Hiding it alone would give it away as the grand
    # total (8) less Northshire's 7, so the grand total is hidden too, marked [c] (not a small
    # number); Northshire's 7 keeps its bar, and Southshire could be 1 to 4 (a total of 8 to 11).
    assert bars["Southshire"]["width"] == 0 and bars["Southshire"]["text"] == "<5"
    assert bars["Northshire"]["text"] == "7" and bars["Northshire"]["width"] > 0
    assert str(table.total) == "[c]"


def test_figures_are_kept_for_a_while_per_scope_and_filters(make_person, organisations, settings):
    settings.DSR_REPORT_CACHE_SECONDS = 300
    from django.core.cache import cache

    cache.clear()
    make_person("RED")
    commissioner = signed_in_client(account(organisations["icb"], Role.PLANNING_COMMISSIONER))
    south_manager = signed_in_client(account(organisations["south_council"], Role.DSR_LEAD))
    first = commissioner.get(URL).context["tables"][0].total.value
    make_person("AMBER")
    # Kept: the same areas and filters see the figures counted a moment ago, and say when.
    page = commissioner.get(URL)
    assert page.context["tables"][0].total.value == first == 1
    assert "Counted at 09:30 on 10 March 2026" in page.content.decode()
    # Other filters, or other areas, are counted afresh.
    other_day = commissioner.get(URL, {"on_day": 9, "on_month": 3, "on_year": 2026})
    assert other_day.context["tables"][0].total.value == 2
    assert south_manager.get(URL).context["tables"][0].total.value == 0
    cache.clear()
    assert commissioner.get(URL).context["tables"][0].total.value == 2
