"""The read feed for BI tools (reports.api): the report pages' published tables as JSON and CSV,
over a token an administrator issues and can withdraw; every call logged; never a person."""

import csv
import datetime
import io
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dsr import tokens
from dsr.models import User
from dsr.roles import Role
from reports.api import views as feed
from reports.api.tokens import token_issue
from reports.models import ApiCall, ApiToken
from reports.queries import SnapshotFilters, snapshot
from tests.conftest import SENTINEL, account, signed_in_client
from tests.figures import record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

REGISTER = reverse("reports:api-register")
FLOWS = reverse("reports:api-flows")
NEEDS = reverse("reports:api-needs")
PLANNING = reverse("reports:api-planning")
AREAS = reverse("reports:api-areas")
SCHEMA = reverse("reports:api-schema")
NHS_NUMBER = "9990001112"


@pytest.fixture
def administrator(organisations):
    return account(organisations["icb"], Role.ADMINISTRATOR, is_staff=True)


@pytest.fixture
def issued(organisations, administrator):
    """A token for the ICB's figures (both areas) and the token itself."""
    return token_issue(
        name="Power BI", organisation=organisations["icb"], days=365, by=administrator
    )


def bi_tool(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def register(make_person):
    """30 people: enough that some counts are shown. Each carries the sentinel in their name."""
    for index, rating in enumerate(["RED", "AMBER", "GREEN"] * 8 + ["BLUE"] * 0):
        make_person(rating, family_name=f"{SENTINEL}{index}")
    for index in range(6):
        make_person("GREEN", area="south", family_name=f"{SENTINEL}south{index}")


def test_the_feed_sends_the_report_pages_published_tables(register, issued, organisations):
    _token, secret = issued
    response = bi_tool(secret).get(REGISTER, {"on": "2026-03-10"})
    assert response.status_code == 200
    body = response.json()
    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    page = {
        t.slug: t for t in snapshot(commissioner, SnapshotFilters(on=datetime.date(2026, 3, 10)))
    }
    assert [t["slug"] for t in body["tables"]] == list(page)
    for table in body["tables"]:
        published = page[table["slug"]]
        assert table["columns"] == published.columns
        assert [row["label"] for row in table["rows"]] == published.rows
        for row, (_label, cells, total) in zip(table["rows"], published.lines, strict=True):
            assert [c["shown_as"] for c in row["cells"]] == [str(c) for c in cells]
            assert [c["count"] for c in row["cells"]] == [c.shown for c in cells]
            assert row["total"]["shown_as"] == str(total)
        assert table["total"]["shown_as"] == str(published.total)
    # 30 people: the whole register's total is shown, rounded to the nearest 5.
    by_area = next(t for t in body["tables"] if t["slug"] == "local-authority")
    assert by_area["total"] == {"shown_as": "30", "count": 30}
    assert body["on"] == "2026-03-10"
    assert "rounded" in body["footnote"]


def test_a_hidden_or_small_count_sends_no_number(make_person, issued):
    for rating in ["RED", "AMBER"]:
        make_person(rating)
    _token, secret = issued
    body = bi_tool(secret).get(REGISTER).json()
    cells = [
        cell
        for table in body["tables"]
        for row in table["rows"]
        for cell in [*row["cells"], row["total"]]
    ]
    assert cells
    assert {c["shown_as"] for c in cells} == {"<8"}
    assert {c["count"] for c in cells} == {None}


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


# Every key an answer of the feed may hold: aggregates, filters and labels. Nothing here is a
# field of a person.
FEED_KEYS = {
    "counted_at", "footnote", "local_authority", "age_group", "tables", "on", "start", "end",
    "figures", "group", "label", "shown_as", "note", "slug", "title", "withheld",
    "row_heading", "columns", "rows", "cells", "total", "count", "column_totals",
    "total_label", "id", "name", "year", "months", "series",
}  # fmt: skip


def test_no_answer_holds_a_person_level_field(register, make_person, issued):
    make_person("RED", nhs_number=NHS_NUMBER, given_name=f"{SENTINEL}Given")
    _token, secret = issued
    client = bi_tool(secret)
    answers = 0
    for url, query in [
        (REGISTER, {}),
        (REGISTER, {"on": "2026-02-01"}),
        (FLOWS, {"month": "2026-02"}),
        (NEEDS, {}),
        (PLANNING, {"year": "2026"}),
        (AREAS, {}),
    ]:
        for form in ["json", "csv"]:
            response = client.get(url, {**query, "format": form})
            assert response.status_code == 200, (url, form, response.content[:300])
            text = response.content.decode()
            assert SENTINEL not in text
            assert NHS_NUMBER not in text
            assert "1996-05-17" not in text  # everyone's date of birth
            if form == "json":
                assert _keys(json.loads(text)) <= FEED_KEYS, url
            answers += 1
    record("API-1 feed answers holding a person-level field", f"0 of {answers}")


def test_the_feed_sends_the_planning_figures_as_the_page_publishes_them(make_person, clerk, issued):
    from decimal import Decimal

    from dsr.models import PlacementType
    from dsr.services import placement_record
    from reports.planning import committed_spend

    for k in range(1, 11):  # £700 to £7,000 a week: £38,500 in all, from December 2025
        placement_record(
            person=make_person("AMBER", family_name=f"{SENTINEL}{k}"),
            placement_type=PlacementType.SUPPORTED_LIVING,
            started_on=datetime.date(2025, 12, 1),
            weekly_cost=Decimal(700 * k),
            funder="icb",
            by=clerk,
        )
    _token, secret = issued
    client = bi_tool(secret)
    body = client.get(PLANNING, {"year": "2026"}).json()
    assert (body["year"], body["months"]) == (2026, 2)
    series = {s["slug"]: s for s in body["series"]}
    spend = series["committed-spend"]
    published = committed_spend(clerk, 2026, datetime.date(2026, 3, 10))
    assert spend["columns"] == published.columns
    assert [[c["shown_as"] for c in row["cells"]] for row in spend["rows"]] == [
        cells for _label, cells in published.rows
    ]
    january = spend["rows"][0]
    assert january["label"] == "January 2026"
    assert january["cells"][0] == {"shown_as": "£170,500", "count": 170500}
    text = client.get(PLANNING, {"year": "2026", "format": "csv"}).content.decode()
    assert 'committed-spend,January 2026,Northshire,"£170,500",170500' in text
    assert SENTINEL not in text
    refused = client.get(PLANNING, {"year": "2019"})
    assert refused.status_code == 400
    assert refused.json() == {"year": ["Choose a year from 2020 to 2026."]}


def test_the_csv_is_a_line_per_published_cell(register, issued):
    _token, secret = issued
    response = bi_tool(secret).get(REGISTER, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0] == feed.CSV_COLUMNS
    assert ["local-authority", "Northshire", "Total", "25", "25"] in lines
    body = bi_tool(secret).get(REGISTER).json()
    cells = sum(len(row["cells"]) + 1 for t in body["tables"] for row in t["rows"])
    assert len(lines) - 1 == cells


def test_a_label_that_looks_like_a_formula_is_sent_as_text(register, issued, areas):
    areas["north"].name = "=HYPERLINK(1)"
    areas["north"].save()
    _token, secret = issued
    text = bi_tool(secret).get(AREAS, {"format": "csv"}).content.decode()
    assert "'=HYPERLINK(1)" in text
    assert ",=HYPERLINK" not in text


def test_a_token_reads_only_its_organisations_areas(register, organisations, administrator, areas):
    _token, secret = token_issue(
        name="Council", organisation=organisations["south_council"], days=90, by=administrator
    )
    client = bi_tool(secret)
    assert client.get(AREAS).json() == [{"id": areas["south"].pk, "name": "Southshire"}]
    body = client.get(REGISTER).json()
    by_area = next(t for t in body["tables"] if t["slug"] == "local-authority")
    assert [row["label"] for row in by_area["rows"]] == ["Southshire"]
    refused = client.get(REGISTER, {"local_authority": areas["north"].pk})
    assert refused.status_code == 400
    assert refused.json() == {
        "local_authority": ["This is not one of the token's local authorities."]
    }


@pytest.mark.parametrize(
    ("url", "query", "field", "message"),
    [
        (REGISTER, {"on": "2026-03-11"}, "on", "The day must be today or in the past."),
        (REGISTER, {"on": "10/03/2026"}, "on", None),
        (FLOWS, {"month": "2026-03"}, "month", "The month must have ended: choose an earlier one."),
        (REGISTER, {"on": "1999-12-31"}, "on", "The day must be in 2000 or later."),
        (FLOWS, {"month": "2026-13"}, "month", None),
        (FLOWS, {"month": "0000-01"}, "month", None),
        (FLOWS, {"month": "1999-12"}, "month", "The month must be in 2000 or later."),
        (NEEDS, {"age_group": "elderly"}, "age_group", None),
    ],
)
def test_a_filter_that_is_not_valid_is_refused_with_its_reason(issued, url, query, field, message):
    _token, secret = issued
    response = bi_tool(secret).get(url, query)
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]


def test_a_withdrawn_token_is_refused_at_its_next_call(issued, administrator):
    token, secret = issued
    client = bi_tool(secret)
    assert client.get(AREAS).status_code == 200
    admin = signed_in_client(administrator)
    page = admin.post(reverse("reports:api-token-withdraw", kwargs={"pk": token.pk}))
    assert page.status_code == 302
    refused = client.get(AREAS)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Bearer"
    assert refused.json() == {"detail": "The token has been withdrawn."}
    assert list(
        ApiCall.objects.filter(token=token).order_by("id").values_list("status", flat=True)
    ) == [
        200,
        401,
    ]
    history = [h.history_change_reason for h in token.history.order_by("history_id")]
    assert history == ["Token issued", "Token withdrawn"]


def test_an_expired_unknown_or_missing_token_is_refused(issued, frozen_now, caplog):
    token, secret = issued
    assert bi_tool("dsr_not-a-token-we-issued").get(AREAS).json() == {
        "detail": "The token is not one this service issued."
    }
    assert Client().get(AREAS).status_code == 401
    assert bi_tool(secret).get(AREAS).status_code == 200
    frozen_now.shift(datetime.timedelta(days=366))
    expired = bi_tool(secret).get(AREAS)
    assert expired.status_code == 401
    assert expired.json() == {"detail": "The token has expired."}
    refusals = [r for r in caplog.records if r.name == "dsr.audit" and r.event == "access_refused"]
    assert [r.status for r in refusals] == [401, 401, 401]


def test_a_signed_in_browser_is_no_key_to_the_feed(organisations):
    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    response = signed_in_client(commissioner).get(REGISTER)
    assert response.status_code == 401


def test_a_token_opens_no_page_of_the_service(issued):
    _token, secret = issued
    page = bi_tool(secret).get(reverse("reports:snapshot"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("accounts:sign-in"))


def test_every_call_is_logged_with_its_filters(issued):
    token, secret = issued
    client = bi_tool(secret)
    client.get(REGISTER, {"on": "2026-03-01", "age_group": "adult"})
    client.get(FLOWS, {"month": "2027-01"})
    calls = list(ApiCall.objects.filter(token=token).order_by("id"))
    assert [(c.path, c.query, c.status) for c in calls] == [
        (REGISTER, "on=2026-03-01&age_group=adult", 200),
        (FLOWS, "month=2027-01", 400),
    ]
    assert all(c.request_id for c in calls)


def test_calls_past_the_limit_are_refused(issued, monkeypatch):
    monkeypatch.setattr(feed, "CALLS_PER_HOUR", 2)
    _token, secret = issued
    client = bi_tool(secret)
    assert [client.get(AREAS).status_code for _ in range(3)] == [200, 200, 429]


def test_an_administrator_issues_a_token_shown_once(organisations, administrator):
    client = signed_in_client(administrator)
    form = client.get(reverse("reports:api-token-create"))
    assert form.status_code == 200
    empty = client.post(reverse("reports:api-token-create"), {})
    assert "Enter what the token is for." in empty.content.decode()
    assert ApiToken.objects.count() == 0
    page = client.post(
        reverse("reports:api-token-create"),
        {"name": "Tableau", "organisation": organisations["icb"].pk, "lifetime": "182"},
    )
    html = page.content.decode()
    token = ApiToken.objects.get()
    secret = page.context["secret"]
    assert secret in html
    assert token.digest == tokens.digest(secret)
    assert secret not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert (token.expires_at - token.issued_at).days == 182
    listing = client.get(reverse("reports:api-tokens")).content.decode()
    assert "Tableau" in listing
    assert f"dsr_{token.prefix}" in listing
    assert secret not in listing
    assert bi_tool(secret).get(AREAS).status_code == 200


def test_the_feed_runs_the_same_queries_at_two_register_sizes(
    make_person, issued, django_assert_max_num_queries
):
    _token, secret = issued
    client = bi_tool(secret)
    for _ in range(5):
        make_person("RED")
    for url in [REGISTER, FLOWS, NEEDS]:
        client.get(url)
    counts = {}
    for url in [REGISTER, FLOWS, NEEDS]:
        with CaptureQueriesContext(connection) as queries:
            client.get(url, {"age_group": "adult"})
        counts[url] = len(queries)
    for rating in ["RED", "AMBER", "GREEN"] * 15:
        make_person(rating, area="south")
    for url in [REGISTER, FLOWS, NEEDS]:
        with django_assert_max_num_queries(counts[url]):
            assert client.get(url, {"age_group": "adult"}).status_code == 200
    record(
        "T1 queries: read feed register / flows / needs (5 / 50 people)",
        " / ".join(str(n) for n in counts.values()),
    )


def test_the_tokens_of_a_user_who_issued_them_outlive_the_account(issued, administrator):
    token, secret = issued
    User.objects.filter(pk=administrator.pk).update(is_active=False)
    assert bi_tool(secret).get(AREAS).status_code == 200
    assert token.usable()
