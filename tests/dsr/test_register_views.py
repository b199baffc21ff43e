"""The register's dashboard, list, search and export: who may use them, what they show, that
search terms never travel in a URL, and that the pages cost the same whatever the register's
size (ACCESS.md; PERFORMANCE.md T1 and T5)."""

import csv
import datetime
import html
import io
import json
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dsr.models import AccessEvent, PersonContact, RegisterEntry
from dsr.roles import Role
from tests.conftest import PERSONAS_BUILT_ONCE, ROLE_PERSONAS, signed_in_client
from tests.dsr.factories import PersonFactory, TOTPDeviceFactory, UserFactory, on_register
from tests.figures import record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(PERSONAS_BUILT_ONCE)]

TODAY = datetime.date(2026, 3, 10)  # the frozen_now fixture's date
LIST = reverse("dsr:register-list")
SEARCH = reverse("dsr:register-search")
EXPORT = reverse("dsr:register-export")
DASHBOARD = reverse("dsr:register-dashboard")
ROUTES = [DASHBOARD, LIST, SEARCH, EXPORT]
ALLOWED = {"register_staff", "dsr_lead"}
VALID_NHS_NUMBER = "9434765919"


def _person(by, areas, *, area="north", rating="GREEN", opened_on=None, key_worker="", **fields):
    """A person in `area`, on the register with `rating` since `opened_on` (default today)."""
    person = PersonFactory(local_authority=areas[area], **fields)
    on_register(person, rating=rating, by=by, opened_on=opened_on)
    if key_worker:
        PersonContact.objects.create(
            person=person, role=PersonContact.Role.KEY_WORKER, name=key_worker
        )
    return person


def _listed(client, **params) -> list[str]:
    """The family names on the first page of the list for `params`, in order."""
    response = client.get(LIST, params)
    assert response.status_code == 200
    return [row.entry.person.family_name for row in response.context["rows"]]


def _urls_in(response) -> list[str]:
    """Every URL the page links, submits or redirects to."""
    urls = re.findall(r'(?:href|action|src|formaction)="([^"]*)"', response.text)
    if response.has_header("Location"):
        urls.append(response["Location"])
    return [html.unescape(url) for url in urls]


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def _north_only_staff(organisations):
    user = UserFactory(organisation=organisations["north_council"], roles=[Role.REGISTER_STAFF])
    TOTPDeviceFactory(user=user)
    return user


def _register_viewer(organisations):
    """A user who may see the register but neither change nor export it. No role of ACCESS.md
    is like that, so the group is made here."""
    user = UserFactory(organisation=organisations["icb"])
    group = Group.objects.create(name="Register viewers (test)")
    group.permissions.add(Permission.objects.get(codename="view_register"))
    user.groups.add(group)
    TOTPDeviceFactory(user=user)
    return user


# --- Access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ROUTES)
def test_only_register_staff_and_the_dsr_lead_may_use_the_register_pages(personas, url):
    answers = {name: personas["clients"][name].get(url).status_code for name in ROLE_PERSONAS}

    assert answers == {name: 200 if name in ALLOWED else 403 for name in ROLE_PERSONAS}


@pytest.mark.parametrize("url", ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in_from_the_register_pages(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("accounts:sign-in")


def test_a_search_post_from_a_role_without_the_register_is_refused_and_not_logged(personas):
    response = personas["clients"]["senior_manager_health"].post(SEARCH, {"name": "Anyone"})

    assert response.status_code == 403
    assert not AccessEvent.objects.exists()


# --- Scope -----------------------------------------------------------------------------------


def test_people_outside_the_users_areas_are_not_listed_searched_counted_or_exported(
    staff_user, organisations, areas, frozen_now
):
    _person(staff_user, areas, area="north", family_name="Northerner")
    _person(staff_user, areas, area="south", family_name="Southerner")
    client = signed_in_client(_north_only_staff(organisations))

    listed = _listed(client)
    found = client.post(SEARCH, {"name": "erner"}).context["results"]
    board = client.get(DASHBOARD).context["board"]
    exported = _csv(client.get(EXPORT))

    assert listed == ["Northerner"]
    assert [p.family_name for p in found] == ["Northerner"]
    assert board.total == 1
    assert [row[1] for row in exported[1:]] == ["Northerner"]


def test_a_local_authority_outside_the_users_areas_is_not_a_valid_filter(
    staff_user, organisations, areas
):
    _person(staff_user, areas, area="south", family_name="Southerner")
    client = signed_in_client(_north_only_staff(organisations))

    response = client.get(LIST, {"local_authority": areas["south"].pk})

    assert response.context["form"].errors
    assert response.context["rows"] == []
    assert "Southerner" not in response.text


# --- Filters ---------------------------------------------------------------------------------


def test_rating_filter_lists_only_people_with_that_rating(staff_client, staff_user, areas):
    _person(staff_user, areas, rating="RED", family_name="Redd")
    _person(staff_user, areas, rating="AMBER", family_name="Amberley")
    _person(staff_user, areas, rating="GREEN", family_name="Greene")

    assert _listed(staff_client, rating="RED") == ["Redd"]
    assert _listed(staff_client, rating="AMBER") == ["Amberley"]


def test_age_group_filter_counts_someone_18_today_as_a_young_person(
    staff_client, staff_user, areas, frozen_now
):
    _person(staff_user, areas, family_name="Eighteen", date_of_birth=datetime.date(2008, 3, 10))
    _person(staff_user, areas, family_name="Seventeen", date_of_birth=datetime.date(2008, 3, 11))
    _person(staff_user, areas, family_name="Thirty", date_of_birth=datetime.date(1996, 1, 1))

    assert _listed(staff_client, age_group="child") == ["Seventeen"]
    assert _listed(staff_client, age_group="young_person") == ["Eighteen"]
    assert _listed(staff_client, age_group="adult") == ["Thirty"]


def test_age_group_filter_moves_someone_on_their_18th_birthday(
    staff_client, staff_user, areas, frozen_now
):
    _person(staff_user, areas, family_name="Birthday", date_of_birth=datetime.date(2008, 3, 11))
    assert _listed(staff_client, age_group="child") == ["Birthday"]

    frozen_now.move_to("2026-03-11 09:30:00+00:00")
    next_day = signed_in_client(staff_user)  # a new day, a new session

    assert _listed(next_day, age_group="child") == []
    assert _listed(next_day, age_group="young_person") == ["Birthday"]


def test_local_authority_filter_lists_only_that_area(staff_client, staff_user, areas):
    _person(staff_user, areas, area="north", family_name="Northerner")
    _person(staff_user, areas, area="south", family_name="Southerner")

    assert _listed(staff_client, local_authority=areas["south"].pk) == ["Southerner"]


def test_diagnosis_filter_lists_only_that_diagnosis(staff_client, staff_user, areas):
    _person(staff_user, areas, family_name="Autistic", diagnosis="autism")
    _person(staff_user, areas, family_name="Both", diagnosis="both")

    assert _listed(staff_client, diagnosis="both") == ["Both"]


def test_key_worker_filter_splits_people_with_and_without_one(staff_client, staff_user, areas):
    _person(staff_user, areas, family_name="Supported", key_worker="Kim Worker")
    _person(staff_user, areas, family_name="Unsupported")

    assert _listed(staff_client, key_worker="yes") == ["Supported"]
    assert _listed(staff_client, key_worker="no") == ["Unsupported"]


def test_overdue_filter_lists_only_reviews_due_before_today(
    staff_client, staff_user, areas, frozen_now
):
    # Green is reviewed every 91 days: opened 92 days ago is a day overdue; 91 days ago is due
    # today, which is not yet overdue.
    _person(staff_user, areas, family_name="Late", opened_on=TODAY - datetime.timedelta(92))
    _person(staff_user, areas, family_name="Today", opened_on=TODAY - datetime.timedelta(91))
    _person(staff_user, areas, family_name="Fresh")

    response = staff_client.get(LIST, {"overdue": "on"})

    assert [row.entry.person.family_name for row in response.context["rows"]] == ["Late"]
    assert "Overdue</strong>" in response.text


def test_filters_combine(staff_client, staff_user, areas):
    _person(staff_user, areas, area="north", rating="RED", family_name="NorthRed")
    _person(staff_user, areas, area="south", rating="RED", family_name="SouthRed")
    _person(staff_user, areas, area="north", rating="GREEN", family_name="NorthGreen")

    assert _listed(staff_client, rating="RED", local_authority=areas["north"].pk) == ["NorthRed"]


@pytest.mark.parametrize(
    "params",
    [{"rating": "PURPLE"}, {"age_group": "toddler"}, {"local_authority": "x"}, {"sort": "age"}],
)
def test_an_invalid_filter_shows_the_error_summary_and_no_rows(
    staff_client, staff_user, areas, params
):
    _person(staff_user, areas, family_name="Hidden")

    response = staff_client.get(LIST, params)
    field = next(iter(params))

    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert f'href="#id_{field}"' in response.text
    assert response.context["rows"] == []
    assert "Hidden" not in response.text


# --- What the list shows ---------------------------------------------------------------------


def test_list_row_shows_the_persons_register_details(staff_client, staff_user, areas, frozen_now):
    person = _person(
        staff_user,
        areas,
        rating="AMBER",
        given_name="Alex",
        family_name="Example",
        nhs_number=VALID_NHS_NUMBER,
        date_of_birth=datetime.date(2010, 6, 1),
        key_worker="Kim Worker",
        opened_on=TODAY - datetime.timedelta(20),
    )
    PersonContact.objects.create(person=person, role=PersonContact.Role.SOCIAL_WORKER, name="Sam")

    text = staff_client.get(LIST).text

    assert f'href="{person.get_absolute_url()}">Alex Example</a>' in text
    assert "943 476 5919" in text
    assert "1 Jun 2010" in text
    assert "Child (under 18)" in text
    assert "Northshire" in text
    assert "nhsuk-tag--orange" in text
    assert "18 Feb 2026" in text  # rating since
    assert "4 Mar 2026" in text  # Amber is reviewed fortnightly: due 14 days later, overdue
    assert "Overdue</strong>" in text
    assert "Kim Worker" in text
    assert "Sam" not in text  # only key workers are listed
    assert '<th class="nhsuk-table__header" scope="col">Name</th>' in text


def test_export_link_keeps_the_filters_and_is_shown_only_to_exporters(
    staff_client, staff_user, areas
):
    _person(staff_user, areas)

    text = staff_client.get(LIST, {"rating": "GREEN", "sort": "review"}).text

    assert f'href="{EXPORT}?rating=GREEN&amp;sort=review"' in text


def test_list_and_dashboard_offer_a_search_form_that_posts_to_the_plain_search_url(staff_client):
    for url in (LIST, DASHBOARD):
        text = staff_client.get(url).text
        assert f'<form action="{SEARCH}" method="post" novalidate>' in text


# --- Sorting and keyset pagination -----------------------------------------------------------


def test_sort_by_name_rating_and_review_date(staff_client, staff_user, areas, frozen_now):
    _person(staff_user, areas, rating="GREEN", family_name="Adams")
    _person(staff_user, areas, rating="RED", family_name="Baker")
    _person(
        staff_user,
        areas,
        rating="AMBER",
        family_name="Clark",
        opened_on=TODAY - datetime.timedelta(30),
    )

    assert _listed(staff_client) == ["Adams", "Baker", "Clark"]
    assert _listed(staff_client, sort="name") == ["Adams", "Baker", "Clark"]
    assert _listed(staff_client, sort="rating") == ["Baker", "Clark", "Adams"]
    # Review due: Clark's (amber, opened 30 days ago) passed; Baker's red is in 7 days;
    # Adams's green in 91.
    assert _listed(staff_client, sort="review") == ["Clark", "Baker", "Adams"]


@pytest.mark.parametrize("sort", ["name", "rating", "review"])
def test_keyset_pages_walk_every_matching_row_exactly_once_keeping_the_filters(
    staff_client, staff_user, areas, monkeypatch, frozen_now, sort
):
    monkeypatch.setattr("dsr.queries.PAGE_SIZE", 3)
    # Ties on every sort key (same ratings, same review dates, repeated family names), so only
    # the entry id separates some rows.
    expected = set()
    for i in range(3 + 7):
        person = _person(
            staff_user,
            areas,
            rating="AMBER" if i % 2 else "GREEN",
            family_name=f"Same{i % 3}",
            opened_on=TODAY - datetime.timedelta(i % 2),
        )
        expected.add(person.pk)
    _person(staff_user, areas, area="south", family_name="Filtered out")

    url = f"{LIST}?local_authority={areas['north'].pk}&sort={sort}"
    seen, pages = [], 0
    while url:
        response = staff_client.get(url)
        pages += 1
        seen += [row.entry.person_id for row in response.context["rows"]]
        if pages > 1:
            assert "First page</span>" in response.text
        found = re.search(r'href="([^"]*)" rel="next"', response.text)
        url = html.unescape(found.group(1)) if found else ""
        if url:
            assert f"local_authority={areas['north'].pk}" in url
            assert f"sort={sort}" in url

    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(expected)
    assert pages == 4
    assert response.context["page"].total == len(expected)


def test_first_page_has_no_first_page_link(staff_client, staff_user, areas, monkeypatch):
    monkeypatch.setattr("dsr.queries.PAGE_SIZE", 1)
    _person(staff_user, areas)
    _person(staff_user, areas)

    text = staff_client.get(LIST).text

    assert 'rel="next"' in text
    assert "First page" not in text


@pytest.mark.parametrize("after", ["abc", "-1", "1e3", "99999999999999999999999", ""])
def test_a_garbled_cursor_shows_the_first_page(staff_client, staff_user, areas, after):
    _person(staff_user, areas, family_name="Only")

    assert _listed(staff_client, after=after) == ["Only"]


# --- Search ----------------------------------------------------------------------------------


def test_search_page_by_get_shows_an_empty_form(staff_client):
    response = staff_client.get(SEARCH)

    assert response.status_code == 200
    assert response.context["results"] is None
    assert f'<form action="{SEARCH}" method="post" novalidate>' in response.text
    assert not AccessEvent.objects.exists()


def test_search_terms_never_appear_in_any_url_of_the_results(staff_client, staff_user, areas):
    person = _person(
        staff_user,
        areas,
        given_name="Zebedee",
        family_name="Quixote",
        nhs_number=VALID_NHS_NUMBER,
        date_of_birth=datetime.date(1999, 7, 23),
    )
    terms = {
        "name": "Zebedee Quixote",
        "nhs_number": "943 476 5919",
        "date_of_birth_day": "23",
        "date_of_birth_month": "7",
        "date_of_birth_year": "1999",
    }

    response = staff_client.post(SEARCH, terms)

    assert response.status_code == 200
    assert [p.pk for p in response.context["results"]] == [person.pk]
    urls = _urls_in(response)
    assert f"{SEARCH}" in urls  # the form posts to the plain search URL
    for url in urls:
        for needle in ("Zebedee", "Quixote", VALID_NHS_NUMBER, "943 476", "1999", "date_of"):
            assert needle not in url, url


def test_search_logs_each_person_shown_and_never_the_terms(staff_client, staff_user, areas):
    first = _person(staff_user, areas, given_name="Zebedee", family_name="Quixote")
    second = _person(staff_user, areas, given_name="Zebedee", family_name="Other")

    staff_client.post(SEARCH, {"name": "Zebedee"})

    events = list(AccessEvent.objects.all())
    assert {event.person_id for event in events} == {first.pk, second.pk}
    for event in events:
        assert event.action == AccessEvent.Action.SEARCH_REGISTER
        assert event.user == staff_user
        assert event.detail == {"results": 2}
        assert "Zebedee" not in event.path + json.dumps(event.detail)


def test_a_search_that_finds_nobody_is_still_logged(staff_client, staff_user):
    staff_client.post(SEARCH, {"name": "Nobody"})

    event = AccessEvent.objects.get()
    assert event.person is None
    assert event.detail == {"results": 0}


def test_each_person_on_a_list_page_is_logged(staff_client, staff_user, areas):
    people = [_person(staff_user, areas) for _ in range(3)]

    staff_client.get(LIST)

    logged = set(
        AccessEvent.objects.filter(action=AccessEvent.Action.LIST_REGISTER).values_list(
            "person_id", flat=True
        )
    )
    assert logged == {person.pk for person in people}


def test_search_results_show_the_open_rating_or_not_on_the_register(
    staff_client, staff_user, areas
):
    _person(staff_user, areas, rating="RED", given_name="Zebedee", family_name="Rated")
    PersonFactory(local_authority=areas["north"], given_name="Zebedee", family_name="Unrated")

    response = staff_client.post(SEARCH, {"name": "zebedee"})

    assert [p.family_name for p in response.context["results"]] == ["Rated", "Unrated"]
    assert "nhsuk-tag--red" in response.text
    assert "Not on the register" in response.text


def test_search_finds_by_nhs_number_and_by_date_of_birth(staff_client, staff_user, areas):
    by_number = _person(staff_user, areas, nhs_number=VALID_NHS_NUMBER)
    by_birth = _person(staff_user, areas, date_of_birth=datetime.date(2001, 2, 3))

    number = staff_client.post(SEARCH, {"nhs_number": "943-476-5919"}).context["results"]
    birth = staff_client.post(
        SEARCH,
        {"date_of_birth_day": "3", "date_of_birth_month": "2", "date_of_birth_year": "2001"},
    ).context["results"]

    assert [p.pk for p in number] == [by_number.pk]
    assert [p.pk for p in birth] == [by_birth.pk]


@pytest.mark.parametrize(
    ("data", "message", "anchor"),
    [
        ({"nhs_number": "943 476 5918"}, "NHS number", "#id_nhs_number"),
        (
            {"date_of_birth_day": "31", "date_of_birth_month": "2", "date_of_birth_year": "2000"},
            "The date must be a real date.",
            "#id_date_of_birth_day",
        ),
    ],
)
def test_search_errors_link_from_the_summary_to_the_field(staff_client, data, message, anchor):
    response = staff_client.post(SEARCH, data)

    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert re.search(rf'<a href="{anchor}">[^<]*{message}', response.text)
    assert response.context["results"] is None
    assert not AccessEvent.objects.exists()


def test_search_without_any_term_asks_for_one(staff_client):
    response = staff_client.post(SEARCH, {"name": "  "})

    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert "Enter a name, an NHS number or a date of birth." in response.text
    assert not AccessEvent.objects.exists()


def test_search_by_put_is_not_allowed(staff_client):
    assert staff_client.put(SEARCH).status_code == 405


# --- Export ----------------------------------------------------------------------------------


def test_export_has_every_row_of_the_filtered_list_not_just_one_page(
    staff_client, staff_user, areas, monkeypatch, frozen_now
):
    monkeypatch.setattr("dsr.queries.PAGE_SIZE", 2)
    greens = [_person(staff_user, areas, rating="GREEN", family_name=f"G{i}") for i in range(5)]
    _person(staff_user, areas, rating="RED", family_name="Redd")

    response = staff_client.get(EXPORT, {"rating": "GREEN"})
    rows = _csv(response)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="dsr-register-2026-03-10.csv"'
    assert rows[0] == [
        "NHS number",
        "Family name",
        "Given name",
        "Date of birth",
        "Age group",
        "Local authority",
        "Diagnosis",
        "Rating",
        "Rating since",
        "Rating review due",
        "Objects to national data collection",
        "Added to register",
    ]
    assert [row[1] for row in rows[1:]] == [p.family_name for p in greens]


def test_export_row_holds_the_register_details(staff_client, staff_user, areas, frozen_now):
    _person(
        staff_user,
        areas,
        given_name="Alex",
        family_name="Example",
        nhs_number=VALID_NHS_NUMBER,
        date_of_birth=datetime.date(2010, 6, 1),
        diagnosis="both",
        at_objection=True,
        rating="RED",
        opened_on=datetime.date(2026, 3, 1),
    )

    rows = _csv(staff_client.get(EXPORT))

    assert rows[1] == [
        VALID_NHS_NUMBER,
        "Example",
        "Alex",
        "2010-06-01",
        "Child (under 18)",
        "Northshire",
        "Learning disability and autism",
        "Red",
        "2026-03-01",
        "2026-03-08",
        "Yes",
        "2026-03-01",
    ]


def test_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(
    staff_client, staff_user, areas
):
    _person(staff_user, areas, family_name='=HYPERLINK("http://evil.example","Click")')
    _person(staff_user, areas, family_name="Plain", given_name="+44")
    _person(staff_user, areas, family_name="Zed", given_name="-1+1")
    _person(staff_user, areas, family_name="Zee", given_name="@SUM(A1)")
    _person(staff_user, areas, family_name="Zoo", given_name="\tTab")

    cells = {cell for row in _csv(staff_client.get(EXPORT))[1:] for cell in row[1:3]}

    assert '\'=HYPERLINK("http://evil.example","Click")' in cells
    assert {"'+44", "'-1+1", "'@SUM(A1)", "'\tTab"} <= cells
    assert "Plain" in cells


def test_export_writes_one_access_log_row_with_the_filters_and_the_row_count(
    staff_client, staff_user, areas
):
    _person(staff_user, areas, rating="RED")
    _person(staff_user, areas, rating="RED")
    _person(staff_user, areas, rating="GREEN")

    response = staff_client.get(EXPORT, {"rating": "RED", "overdue": ""})
    _csv(response)

    event = AccessEvent.objects.get(action=AccessEvent.Action.EXPORT_REGISTER)
    assert event.action == AccessEvent.Action.EXPORT_REGISTER
    assert event.user == staff_user
    assert event.detail == {"filters": {"rating": "RED", "sort": "name"}, "rows": 2}
    assert event.path == f"{EXPORT}?rating=RED&overdue="


def test_export_with_invalid_filters_is_refused_without_csv_or_log_row(staff_client):
    response = staff_client.get(EXPORT, {"rating": "PURPLE"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "Content-Disposition" not in response
    assert not AccessEvent.objects.exists()


def test_export_is_refused_to_a_role_without_export_and_writes_no_log_row(personas):
    response = personas["clients"]["senior_manager_health"].get(EXPORT)

    assert response.status_code == 403
    assert not AccessEvent.objects.exists()


# --- Dashboard -------------------------------------------------------------------------------


def test_dashboard_counts_link_to_the_list_filtered_the_same_way(
    staff_client, staff_user, areas, frozen_now
):
    _person(staff_user, areas, rating="RED", date_of_birth=datetime.date(2010, 1, 1))
    _person(staff_user, areas, rating="RED")
    _person(staff_user, areas, rating="GREEN")

    response = staff_client.get(DASHBOARD)
    board = response.context["board"]

    assert board.total == 3
    assert ("RED", "Red", 2) in board.by_rating
    assert ("child", "Child (under 18)", 1) in response.context["by_age_group"]
    assert f'href="{LIST}?rating=RED">2<span' in response.text
    assert f'href="{LIST}?age_group=child">1<span' in response.text
    assert f'href="{LIST}?age_group=adult">2<span' in response.text


def test_dashboard_lists_overdue_reviews_and_consent_reviews_due_soon(
    staff_client, staff_user, areas, frozen_now
):
    # Consent given 340 days ago is re-checked after 12 months: in 25 days. A green review
    # was due 91 days after opening: 249 days ago.
    late = _person(
        staff_user,
        areas,
        given_name="Lee",
        family_name="Late",
        opened_on=TODAY - datetime.timedelta(340),
    )
    _person(staff_user, areas, family_name="Fresh")

    response = staff_client.get(DASHBOARD)

    assert response.context["board"].overdue_reviews == 1
    assert response.context["board"].consent_reviews_due == 1
    assert response.text.count(f'href="{late.get_absolute_url()}">Lee Late</a>') == 2
    assert "Overdue by 249 days" in response.text


def test_dashboard_offers_add_a_person_only_to_those_who_may_change_the_register(
    staff_client, organisations
):
    viewer = _register_viewer(organisations)
    create = reverse("dsr:person-create")

    staff = staff_client.get(DASHBOARD).text
    view_only = signed_in_client(viewer).get(DASHBOARD).text

    assert f'href="{create}">Add a person</a>' in staff
    assert create not in view_only
    assert f'href="{LIST}">See everyone on the register</a>' in view_only


def test_export_link_is_hidden_from_those_who_may_not_export(organisations):
    viewer = _register_viewer(organisations)

    text = signed_in_client(viewer).get(LIST).text

    assert EXPORT not in text


# --- Query counts (T1) -----------------------------------------------------------------------


def _add_people(by, areas, count: int) -> None:
    # Opened 340 days ago: every one has an overdue rating review and a consent review due
    # within 30 days, so the dashboard's lists are full; every third has a key worker.
    for i in range(count):
        _person(
            by,
            areas,
            area="north" if i % 2 else "south",
            rating=["RED", "AMBER", "GREEN"][i % 3],
            opened_on=TODAY - datetime.timedelta(340),
            key_worker="Kim Worker" if i % 3 == 0 else "",
        )


def _queries(client, url: str) -> int:
    client.get(url)  # warm any per-process caches first
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_dashboard_and_list_run_the_same_number_of_queries_with_5_and_200_people(
    staff_client, staff_user, areas, frozen_now, django_assert_max_num_queries
):
    by_rating = f"{LIST}?sort=rating"
    _add_people(staff_user, areas, 5)
    small = {url: _queries(staff_client, url) for url in (DASHBOARD, LIST, by_rating)}
    list_next = f"{LIST}?after={RegisterEntry.objects.order_by('id').first().pk}"
    small_next = _queries(staff_client, list_next)

    _add_people(staff_user, areas, 195)
    large = {url: _queries(staff_client, url) for url in (DASHBOARD, LIST, by_rating)}
    large_next = _queries(staff_client, list_next)

    record(
        "T1 queries: register dashboard (5 / 200 people)",
        f"{small[DASHBOARD]} / {large[DASHBOARD]}",
    )
    record("T1 queries: register list (5 / 200 people)", f"{small[LIST]} / {large[LIST]}")
    assert small == large
    assert small_next == large_next
    # Measured 22 / 14 / 15. Every page: session, user, second-factor device, user and group
    # permissions, the user's areas (6), and saving the session (3, with its savepoint).
    # Dashboard: counts by rating, by age group with the overdue and due-soon reviews, overdue
    # rows, consent counts (due and overdue) and rows (5). Referrals add 2: the queue's counts
    # and its most urgent referral. Reviews add 4: the overdue actions' count and rows, the
    # user's organisation (meetings without an area are the ICB's) and the next meetings;
    # escalation adds 2, its counts by level and the escalations waiting longest (and, when
    # there are any, their access-log rows). List: count, page, its key workers, the local
    # authority choices and the access-log insert for the people shown (5), plus the cursor
    # row on a later page.
    with django_assert_max_num_queries(22):
        staff_client.get(DASHBOARD)
    with django_assert_max_num_queries(14):
        staff_client.get(LIST)
    with django_assert_max_num_queries(15):
        staff_client.get(list_next)
    # Sorted by rating: one more, the first page-and-one of each rating by name (a UNION ALL).
    with django_assert_max_num_queries(15):
        staff_client.get(by_rating)


def test_pages_sorted_by_rating_come_in_the_order_of_one_sorted_query(
    staff_client, staff_user, areas, monkeypatch, frozen_now
):
    """The rating sort reads each rating's first page-and-one by name and sorts those (one
    UNION ALL, dsr.queries._by_rating_candidates): its pages, put together, are the whole
    register in the order of one query sorted by rating, name and id, across the ratings and
    across pages that end mid-rating."""
    from dsr.queries import SORTS, RegisterFilters, filtered_entries

    monkeypatch.setattr("dsr.queries.PAGE_SIZE", 2)
    ratings = ["GREEN", "RED", "GREEN", "AMBER", "GREEN", "GREEN", "RED", "GREEN", "GREEN"]
    ratings += ["AMBER", "GREEN", "RED"]  # seven Green: pages end inside a rating
    for i, rating in enumerate(ratings):
        _person(staff_user, areas, rating=rating, family_name=f"Name{(i * 7) % 5}")
    expected = list(
        filtered_entries(staff_user, RegisterFilters(sort="rating"), TODAY)
        .order_by(*SORTS["rating"])
        .values_list("person_id", flat=True)
    )
    assert len(expected) == len(ratings)

    url, seen = f"{LIST}?sort=rating", []
    while url:
        response = staff_client.get(url)
        seen += [row.entry.person_id for row in response.context["rows"]]
        found = re.search(r'href="([^"]*)" rel="next"', response.text)
        url = html.unescape(found.group(1)) if found else ""

    assert seen == expected
