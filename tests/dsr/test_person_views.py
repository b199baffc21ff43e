"""The person page and the forms that change a record, through the HTTP client."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dsr.models import RAG, AccessEvent, Person, PersonContact, Rating, RegisterEntry
from dsr.queries import person_page
from dsr.services import placement_record, rating_change
from dsr.views.people import TIMELINE_SHOWN
from tests.conftest import SENTINEL, make_persona, signed_in_client
from tests.dsr.factories import PersonFactory, on_register
from tests.edit_pages import edit_version
from tests.figures import record

pytestmark = pytest.mark.django_db


def detail(person):
    return reverse("dsr:person-detail", kwargs={"pk": person.pk})


def history(person):
    return reverse("dsr:person-history", kwargs={"pk": person.pk})


def test_the_person_page_shows_the_rating_in_words_next_steps_and_links_to_the_timeline(
    personas, register_objects, frozen_now
):
    person = register_objects["north_red"]

    response = personas["clients"]["register_staff"].get(detail(person))

    text = response.text
    assert response.status_code == 200
    assert '<strong class="nhsuk-tag nhsuk-tag--red">Red</strong>' in text
    assert "High risk of going into hospital straight away" in text
    assert "adult (26 and over)" in text
    assert "The person&#x27;s own consent" in text
    assert "Kim Keyworker" in text
    assert "Arrange a community CTR" in text
    # The timeline is one click away, on the history page.
    assert f'href="{history(person)}"' in text
    assert "Added to the register" not in text
    text = personas["clients"]["register_staff"].get(history(person)).text
    assert "Added to the register" in text
    # The rating is named once, by its tag: "Rated Red", not "Rated red Red".
    assert re.search(r'Rated\s*<strong class="nhsuk-tag nhsuk-tag--red">Red</strong>', text)
    assert not re.search(r"(Rated|to) (red|amber|green|blue)\s*<strong class=\"nhsuk-tag", text)


def test_the_person_page_says_why_the_person_has_their_rating_from_the_newest_decision(
    personas, register_objects, frozen_now
):
    person = register_objects["north_red"]
    clerk = personas["users"]["register_staff"]
    client = personas["clients"]["register_staff"]
    assert "Why: Initial rating." in client.get(detail(person)).text

    entry = RegisterEntry.objects.get(person=person, status="open")
    rating_change(entry=entry, rating="AMBER", rationale="Crisis plan in place.", by=clerk)
    text = client.get(detail(person)).text

    assert "Why: Crisis plan in place." in text
    assert "Initial rating." not in text
    assert f"Last decided 10 March 2026, {clerk.full_name}." in text


def test_each_page_about_a_person_writes_one_access_log_row_naming_the_page(
    personas, register_objects
):
    person = register_objects["north_red"]
    client = personas["clients"]["register_staff"]

    for name, page in [
        ("dsr:person-history", "history"),
        ("dsr:person-placements", "placements"),
        ("reviews:person-actions", "actions"),
    ]:
        before = AccessEvent.objects.count()
        assert client.get(reverse(name, args=[person.pk])).status_code == 200
        event = AccessEvent.objects.order_by("-id").first()
        assert AccessEvent.objects.count() == before + 1
        assert (event.person, event.action, event.detail) == (
            person,
            AccessEvent.Action.VIEW_PERSON,
            {"page": page},
        )


def test_reading_a_person_page_writes_an_access_log_row(personas, register_objects):
    person = register_objects["north_red"]
    staff = personas["users"]["register_staff"]

    personas["clients"]["register_staff"].get(detail(person))

    event = AccessEvent.objects.get(user=staff)
    assert event.person == person
    assert event.action == AccessEvent.Action.VIEW_PERSON
    assert SENTINEL not in str(event.detail) and SENTINEL not in event.path


def test_a_senior_manager_of_another_local_authority_gets_404(personas, register_objects):
    response = personas["clients"]["senior_manager_la_other"].get(
        detail(register_objects["north_red"])
    )

    assert response.status_code == 404
    assert SENTINEL not in response.text
    assert not AccessEvent.objects.exists()


def test_senior_managers_see_red_and_amber_people_only(personas, register_objects):
    client = personas["clients"]["senior_manager_la"]

    assert client.get(detail(register_objects["north_red"])).status_code == 200
    green = register_objects["south_green"]
    green.local_authority = register_objects["north_red"].local_authority
    green.save()
    assert client.get(detail(green)).status_code == 404


def test_senior_managers_read_but_are_offered_no_changes(personas, register_objects):
    response = personas["clients"]["senior_manager_health"].get(
        detail(register_objects["north_red"])
    )

    assert response.status_code == 200
    assert reverse("dsr:person-rating", kwargs={"pk": register_objects["north_red"].pk}) not in (
        response.text
    )


def test_staff_get_404_for_a_person_outside_their_organisations_areas(organisations):
    elsewhere = PersonFactory(family_name=SENTINEL)
    staff = make_persona("register_staff", organisations)

    response = signed_in_client(staff).get(detail(elsewhere))

    assert response.status_code == 404
    assert SENTINEL not in response.text


# --- Forms ------------------------------------------------------------------------------------


def _person_post(areas, **changes):
    data = {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth_day": "10",
        "date_of_birth_month": "12",
        "date_of_birth_year": "2009",
        "nhs_number": "943 476 5919",
        "sex": "2",
        "ethnicity": "A",
        "postcode": "nr1 2dh",
        "local_authority": areas["north"].pk,
        "diagnosis": "autism",
        "diagnosis_status": "confirmed",
        "placement_type": "family_home",
    }
    data.update(changes)
    return data


def test_adding_a_person_normalises_the_nhs_number_and_postcode(
    staff_client, areas, organisations, frozen_now
):
    response = staff_client.post(reverse("dsr:person-create"), _person_post(areas))

    person = Person.objects.get()
    assert response["Location"] == detail(person)
    assert person.nhs_number == "9434765919"
    assert person.postcode == "NR1 2DH"
    assert person.responsible_icb == organisations["icb"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nhs_number", "943 476 5918", "This is not a valid NHS number."),
        ("nhs_number", "94347659", "An NHS number must be 10 digits."),
        ("nhs_number", "94347659AB", "An NHS number must contain only numbers."),
        ("date_of_birth_day", "31", "The date must be a real date."),
        ("date_of_birth_year", "2030", "The date of birth must be in the past."),
        ("postcode", "NOT A CODE", "Enter a real postcode, like NR1 2DH."),
        ("given_name", "", "Enter the person&#x27;s first name."),
        ("given_name", "x" * 101, "Ensure this value has at most 100 characters"),
    ],
)
def test_bad_person_details_show_an_error_and_write_nothing(
    staff_client, areas, frozen_now, field, value, message
):
    data = _person_post(areas, **{field: value})
    if field == "date_of_birth_day":
        data["date_of_birth_month"] = "2"

    response = staff_client.post(reverse("dsr:person-create"), data)

    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert message in response.text
    assert not Person.objects.exists()


def test_a_local_authority_outside_the_users_scope_cannot_be_chosen(
    staff_client, areas, frozen_now
):
    from tests.dsr.factories import LocalAuthorityFactory

    outside = LocalAuthorityFactory(name="Westshire", gss_code="E10000903")

    response = staff_client.post(
        reverse("dsr:person-create"), _person_post(areas, local_authority=outside.pk)
    )

    assert "Select a valid choice" in response.text
    assert not Person.objects.exists()


def test_changing_the_rating_without_a_reason_writes_nothing(personas, register_objects):
    person = register_objects["north_red"]
    url = reverse("dsr:person-rating", kwargs={"pk": person.pk})

    response = personas["clients"]["register_staff"].post(
        url,
        {
            "rating": "AMBER",
            "rationale": "",
            "effective_from_day": "10",
            "effective_from_month": "3",
            "effective_from_year": "2026",
        },
    )

    assert response.status_code == 200
    assert "Enter reason for this rating." in response.text
    assert RegisterEntry.objects.get(person=person, status="open").rating == RAG.RED
    assert Rating.objects.filter(entry__person=person).count() == 1


def test_changing_the_rating_through_the_page(personas, register_objects, frozen_now):
    person = register_objects["north_red"]
    url = reverse("dsr:person-rating", kwargs={"pk": person.pk})

    response = personas["clients"]["register_staff"].post(
        url,
        {
            "rating": "AMBER",
            "rationale": "Crisis plan working; more support at home.",
            "risk_factors": ["breakdown"],
            "effective_from_day": "10",
            "effective_from_month": "3",
            "effective_from_year": "2026",
        },
    )

    assert response["Location"] == detail(person)
    row = Rating.objects.filter(entry__person=person).order_by("-id").first()
    assert (row.rating, row.set_by) == (RAG.AMBER, personas["users"]["register_staff"])
    assert row.risk_factors == ["breakdown"]


def test_blue_is_not_offered_on_the_rating_page_outside_hospital(personas, register_objects):
    person = register_objects["north_red"]

    response = personas["clients"]["register_staff"].post(
        reverse("dsr:person-rating", kwargs={"pk": person.pk}),
        {"rating": "BLUE", "rationale": "In hospital."},
    )

    assert "Select a valid choice" in response.text
    assert RegisterEntry.objects.get(person=person, status="open").rating == RAG.RED


def test_a_service_refusal_shows_on_the_form(personas, register_objects, frozen_now):
    person = register_objects["north_red"]

    response = personas["clients"]["register_staff"].post(
        reverse("dsr:person-register", kwargs={"pk": person.pk}),
        {
            "rating": "GREEN",
            "rationale": "Again",
            "effective_from_day": "10",
            "effective_from_month": "3",
            "effective_from_year": "2026",
        },
    )

    assert response.status_code == 200
    assert "This person is already on the register." in response.text


def test_the_discharge_form_offers_red_first(personas, register_objects):
    person = register_objects["north_blue"]

    response = personas["clients"]["register_staff"].get(
        reverse("dsr:person-discharge", kwargs={"pk": person.pk})
    )

    assert re.search(r'value="RED"[^>]* checked', response.text)
    assert not re.search(r'value="AMBER"[^>]* checked', response.text)


def test_mass_assignment_of_hidden_fields_changes_nothing(personas, register_objects, areas):
    person = register_objects["north_red"]
    data = _person_post(areas, nhs_number="")
    data.update({"responsible_icb": 999, "created_at": "2000-01-01", "id": 12345})

    client = personas["clients"]["register_staff"]
    url = reverse("dsr:person-edit", kwargs={"pk": person.pk})
    client.post(url, {**edit_version(client, url), **data})

    person.refresh_from_db()
    assert person.pk != 12345 and person.responsible_icb_id != 999
    assert person.family_name == "Lovelace"


def test_a_contact_with_parental_responsibility_must_be_a_parent_or_carer(
    personas, register_objects
):
    person = register_objects["north_red"]

    response = personas["clients"]["register_staff"].post(
        reverse("dsr:person-contact-add", kwargs={"pk": person.pk}),
        {"role": "social_worker", "name": "Sam", "has_parental_responsibility": "on"},
    )

    assert "Only a parent or carer can have parental responsibility." in response.text
    assert not PersonContact.objects.filter(name="Sam").exists()


# --- Query counts (PERFORMANCE T1) ------------------------------------------------------------


def _people(n, area, icb, clerk):
    for i in range(n):
        on_register(
            PersonFactory(local_authority=area, responsible_icb=icb),
            rating=["RED", "AMBER", "GREEN"][i % 3],
            by=clerk,
            opened_on=date(2026, 1, 5),
        )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


# Each page one click from the person page, with the most queries it may run (measured, with
# the signed-in user kept: dsr.security.signed_in).
SUB_PAGES = {
    "dsr:person-history": 18,
    "dsr:person-placements": 6,
    "reviews:person-actions": 7,
}


def test_the_person_page_and_its_sub_pages_run_the_same_queries_however_long_the_record(
    personas, register_objects, areas, organisations, frozen_now, django_assert_max_num_queries
):
    from reviews.models import Cetr
    from reviews.services import cetr_plan
    from tests.reviews.helpers import agree_action

    client = personas["clients"]["register_staff"]
    clerk = personas["users"]["register_staff"]
    person = register_objects["north_red"]
    url = detail(person)
    pages = [url, *(reverse(name, args=[person.pk]) for name in SUB_PAGES)]
    _people(5, areas["north"], organisations["icb"], clerk)
    client.get(url)  # the signed-in user read once and kept (dsr.security.signed_in)
    short = [_queries(client, page) for page in pages]

    # A long record: 30 more ratings, 15 more contacts, 10 more placements, 15 open actions,
    # and 195 more people on the register.
    entry = RegisterEntry.objects.get(person=person, status="open")
    for i in range(30):
        rating_change(
            entry=entry, rating=["RED", "AMBER"][i % 2], rationale=f"Review {i}.", by=clerk
        )
    cetr = cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    for i in range(15):
        PersonContact.objects.create(person=person, role="social_worker", name=f"Worker {i}")
        agree_action(person, clerk, cetr=cetr, description=f"Action {i}.", due_on=date(2026, 6, 1))
    for i in range(10):
        placement_record(
            person=person,
            placement_type="residential_care",
            started_on=date(2025, 1 + i, 1),
            ended_on=date(2025, 1 + i, 20),
            weekly_cost=Decimal("2000"),
            funder="icb",
            by=clerk,
        )
    _people(195, areas["north"], organisations["icb"], clerk)
    # Writing the record saved the clerk's account: the next request reads the signed-in user
    # afresh (dsr.security.signed_in), once.
    client.get(url)
    long = [_queries(client, page) for page in pages]

    record(
        "T1 queries: person page and its history, placements and actions pages "
        "(short / long record, 5 / 200 people)",
        f"{short} / {long}",
    )
    assert short == long
    # Measured 10 (17 while the session, user and device were read and the session saved on
    # every request: now kept, dsr.security.signed_in): the user's permissions and areas, the
    # person; one round trip (dsr.batch) for the open entry and the last one closed,
    # the active consent, the open admission, the newest rating (why the person has it), the
    # newest C(E)TR exception, contacts, open unmet needs, current placements with the count of
    # ended ones; one for the reviews section's open and closed actions, C(E)TRs and latest
    # visits; the access-log row, the user's organisation, the referral messages and the live
    # escalations. What an import could not bring across is read only for someone not on the
    # register (11 queries then; this person is on it). 38 when the page carried
    # the timeline (each kind of event its own query of the newest few), which is now on the
    # history page, and each small read was its own round trip.
    with django_assert_max_num_queries(10):
        client.get(url)
    assert not any("historical" in q["sql"] for q in connection.queries[-long[0] :])
    for name, most in SUB_PAGES.items():
        with django_assert_max_num_queries(most):
            client.get(reverse(name, args=[person.pk]))


# --- The timeline: the latest events, and the whole history on request ----------------------


def _history(person, clerk, clock, *, reviews, actions=0):
    """`reviews` reviews confirming the rating and `actions` actions agreed at a C(E)TR, taking
    turns an hour apart: one timeline event each (planning the C(E)TR is one more)."""
    from reviews.models import Cetr
    from reviews.services import cetr_plan
    from tests.reviews.helpers import agree_action

    entry = person.register_entries.get()
    cetr = cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk) if actions else None
    for n in range(1, max(reviews, actions) + 1):
        clock.shift(timedelta(hours=1))
        if n <= reviews:
            rating_change(entry=entry, rating=entry.rating, rationale=f"Review {n}.", by=clerk)
        clock.shift(timedelta(hours=1))
        if n <= actions:
            agree_action(
                person, clerk, cetr=cetr, description=f"Action {n}.", due_on=date(2026, 6, 1)
            )


def _whole_history(person):
    return person_page(person, date(2026, 3, 10)).timeline.events


def test_a_long_history_shows_its_latest_50_events_newest_first_and_a_link_to_the_rest(
    make_person, clerk, frozen_now
):
    person = make_person("GREEN")
    _history(person, clerk, frozen_now, reviews=30, actions=30)
    client = signed_in_client(clerk)

    latest = client.get(history(person))

    everything = _whole_history(person)
    assert len(everything) > 60
    assert everything == sorted(everything, key=lambda e: (e.on, e.at), reverse=True)
    shown = latest.context["page"].timeline.events
    assert shown == everything[:TIMELINE_SHOWN]
    assert {event.kind for event in shown} == {"rating", "action"}
    assert "The latest 50 events, newest first." in latest.text
    assert '<a href="?history=all#timeline">Show the whole history</a>' in latest.text
    assert "Review 20." in latest.text and "Review 5." not in latest.text


def test_the_whole_history_shows_every_event(make_person, clerk, frozen_now):
    person = make_person("GREEN")
    _history(person, clerk, frozen_now, reviews=20, actions=20)

    response = signed_in_client(clerk).get(history(person), {"history": "all"})

    assert response.context["page"].timeline.events == _whole_history(person)
    assert "Review 1." in response.text and "Action 1." in response.text
    assert "Show the whole history" not in response.text
    assert "Show the latest events only" in response.text


@pytest.mark.parametrize(("events", "linked"), [(50, False), (51, True)])
def test_the_link_to_the_whole_history_shows_only_when_there_is_more(
    make_person, clerk, frozen_now, events, linked
):
    person = make_person("GREEN")
    _history(person, clerk, frozen_now, reviews=events - len(_whole_history(person)))
    assert len(_whole_history(person)) == events

    response = signed_in_client(clerk).get(history(person))

    assert len(response.context["page"].timeline.events) == 50
    assert response.context["page"].timeline.more is linked
    assert ("Show the whole history" in response.text) is linked
    assert ("The latest 50 events, newest first." in response.text) is linked
