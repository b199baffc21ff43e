"""The dry run applies the register's own rules (issue 24, points 3 and 4), and matches people
safely (point 5): no invented rating or consent basis, Blue only with an admission, the same
NHS number is the same person, a likely match waits for the lead."""

import datetime
from unittest import mock

import pytest
from django.urls import reverse

from dsr.imports.check import sheet_date
from dsr.imports.run import run
from dsr.models import Admission, Consent, Person, Rating, RegisterEntry
from dsr.services import consent_record, person_create, rating_change, register_open
from tests.dsr.imports.conftest import row, xlsx
from tests.dsr.imports.flow import run_check, upload_and_check

pytestmark = pytest.mark.django_db


def _check(client, *rows, **kwargs):
    register_import = upload_and_check(client, xlsx(list(rows)), **kwargs)
    return register_import, {r.row_number: r for r in register_import.rows.all()}


def _import(client, register_import):
    client.post(reverse("dsr:import-start", args=[register_import.pk]))
    run(register_import.pk)
    register_import.refresh_from_db()
    return register_import


# --- Dates as spreadsheets hold them ---------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"date": "2025-05-01"},
        45778,
        45778.5,
        "45778",
        "01/05/2025",
        "1/5/2025",
        "1.5.2025",
        "01-05-2025",
        "2025-05-01",
        "1 May 2025",
        "1st May 2025",
        "01-May-2025",
        "1 may 2025",
        "May 1, 2025",
        "01/05/2025 00:00:00",
    ],
)
def test_dates_in_every_style_a_sheet_holds_them(value):
    assert sheet_date(value) == datetime.date(2025, 5, 1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("31/02/2025", "real date"),
        ("01/05/25", "4 numbers"),
        ("next week", "real date"),
        ("13/13/2025", "real date"),
    ],
)
def test_a_date_that_is_not_one_is_refused_not_guessed(value, message):
    with pytest.raises(Exception, match=message):
        sheet_date(value)


# --- Identity: the forms' validators -------------------------------------------------------


def test_a_mistyped_nhs_number_is_refused_not_matched(lead_client):
    _, rows = _check(lead_client, row(**{"NHS Number": "9434765918"}))
    assert rows[2].outcome == "refused"
    assert rows[2].problems == [
        {
            "column": "NHS Number",
            "field": "nhs_number",
            "message": "This is not a valid NHS number. Check the number and try again.",
        }
    ]


def test_when_every_row_is_refused_the_page_says_so_not_that_all_are_held(lead_client):
    register_import, _ = _check(
        lead_client, row(**{"NHS Number": "9434765918"}), row(Postcode="NR1")
    )
    page = lead_client.get(reverse("dsr:import-check", args=[register_import.pk]))
    html = page.content.decode()
    assert "There is nothing to import yet: 2 rows were refused." in html
    assert "already holds every row" not in html


def test_a_wrong_postcode_and_a_future_birth_date_are_refused_per_cell(lead_client):
    _, rows = _check(lead_client, row(Postcode="NR1", DOB="01/01/2090"))
    assert {p["column"]: p["message"] for p in rows[2].problems} == {
        "Postcode": "Enter a real postcode, like NR1 2DH.",
        "DOB": "The date of birth must be in the past.",
    }


# --- Ratings (rules 4 and 5) ---------------------------------------------------------------


@pytest.mark.parametrize("word", ["R", "Red", "RED", " red "])
def test_each_spelling_of_a_rating_maps_to_it(lead_client, word):
    register_import, rows = _check(lead_client, row(RAG=word))
    assert rows[2].outcome == "create"
    assert rows[2].plan["entry"]["rating"] == "RED"


def test_an_unmatched_rating_word_refuses_the_row(lead_client):
    _, rows = _check(lead_client, row(RAG="Purple"))
    assert rows[2].outcome == "refused"
    assert rows[2].problems[0]["message"] == "“Purple” is not matched to a rating."


def test_blue_without_an_admission_date_is_refused_for_the_rating(lead_client):
    register_import, rows = _check(
        lead_client,
        row(RAG="Blue", **{"Current inpatient": "Y", "Hospital": "Hellesdon Hospital"}),
    )
    assert rows[2].outcome == "refused"
    assert rows[2].problems == [
        {
            "column": "RAG",
            "field": "rating",
            "message": "Blue is only for someone in hospital: the sheet has no date of "
            "admission for this person.",
        }
    ]
    _import(lead_client, register_import)
    assert not Person.objects.exists() and not Admission.objects.exists()


def test_blue_beside_not_in_hospital_is_refused_as_a_rating(lead_client):
    _, rows = _check(
        lead_client, row(RAG="Blue", **{"Current inpatient": "N", "Admission date": "02/06/2025"})
    )
    assert rows[2].outcome == "refused"
    assert rows[2].problems[0]["message"] == (
        "The sheet says the person is not in hospital, so the rating is not blue."
    )


def test_in_hospital_but_not_blue_is_refused_as_a_rating(lead_client):
    _, rows = _check(lead_client, row(RAG="Amber", **{"Current inpatient": "Y"}))
    assert rows[2].outcome == "refused"
    assert rows[2].problems[0]["message"] == (
        "The sheet says the person is in hospital, so the rating is blue."
    )


def test_no_rating_or_no_reason_brings_the_person_only_with_a_next_step(lead_client):
    register_import, rows = _check(
        lead_client,
        row(RAG=None),
        row(**{"NHS Number": "9990786666", "RAG rationale": None}),
    )
    assert [r.outcome for r in rows.values()] == ["person_only", "person_only"]
    assert "Rate the person: the sheet has no rating." in rows[2].notes
    assert "Rate the person: the sheet gives no reason for the rating." in rows[3].notes
    _import(lead_client, register_import)
    assert Person.objects.count() == 2
    assert RegisterEntry.objects.count() == 0 and Rating.objects.count() == 0


def test_the_rating_comes_across_with_its_date_and_reason(lead_client, lead):
    register_import, _ = _check(lead_client, row())
    _import(lead_client, register_import)
    entry = RegisterEntry.objects.get()
    rating = entry.ratings.get()
    assert (entry.opened_on, entry.rating, entry.rating_since) == (
        datetime.date(2025, 5, 1),
        "RED",
        datetime.date(2025, 6, 1),
    )
    assert (rating.rating, rating.rationale) == ("RED", "Placement breaking down")
    assert entry.person.contacts.get().name == "Jo Hughes"


def test_a_rating_the_register_holds_is_never_overwritten_by_the_sheet(lead_client, lead):
    register_import, _ = _check(lead_client, row(RAG="Green"))
    _import(lead_client, register_import)
    entry = RegisterEntry.objects.get()
    rating_change(entry=entry, rating="AMBER", rationale="Reviewed at the meeting.", by=lead)
    again, rows = _check(lead_client, row(RAG="Green"))
    assert rows[2].outcome == "same"
    assert any("the register says amber and keeps it" in n for n in rows[2].notes)
    entry.refresh_from_db()
    assert entry.rating == "AMBER"


# --- Consent (rule 1, DOMAIN section 9) ------------------------------------------------------


def test_a_consent_basis_not_valid_for_the_age_is_never_replaced(lead_client):
    register_import, rows = _check(
        lead_client,
        row(DOB="01/01/2015", Consent="Yes"),  # a child cannot give their own consent
        row(**{"NHS Number": "9990786666"}, DOB="01/01/1980", Consent="Parent/carer"),
        row(**{"NHS Number": "9995908301"}, Consent="Best interests"),  # no decision maker
        row(**{"NHS Number": "9998219930"}, Consent="No"),
    )
    assert [r.outcome for r in rows.values()] == ["person_only"] * 4
    assert "A child under 16 consents through Gillick" in rows[2].notes[0]
    assert "Parental responsibility ends at 18" in rows[3].notes[0]
    assert "best-interests decision needs the decision maker" in rows[4].notes[0]
    assert rows[5].notes[0] == "Record the person's consent: the sheet gives no consent basis."
    _import(lead_client, register_import)
    assert Person.objects.count() == 4
    assert Consent.objects.count() == 0 and RegisterEntry.objects.count() == 0


# --- Matching (point 5) --------------------------------------------------------------------


def _recorded(lead, icb_areas, **fields):
    values = {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": datetime.date(1990, 12, 10),
        "local_authority": icb_areas["norfolk"],
        "responsible_icb": icb_areas["icb"],
        "diagnosis": "learning_disability",
        "diagnosis_status": "confirmed",
        **fields,
    }
    return person_create(by=lead, **values)


def test_the_same_nhs_number_is_the_same_person(lead_client, lead, icb_areas):
    person = _recorded(lead, icb_areas, nhs_number="9434765919", postcode="NR2 4SD")
    register_import, rows = _check(lead_client, row())
    assert rows[2].outcome == "update" and rows[2].person_id == person.pk
    _import(lead_client, register_import)
    person.refresh_from_db()
    assert Person.objects.count() == 1 and person.postcode == "NR1 1AA"
    assert person.register_entries.get().rating == "RED"


def test_two_different_nhs_numbers_are_two_people_however_alike_their_names(
    lead_client, lead, icb_areas
):
    _recorded(lead, icb_areas, nhs_number="9990786666")
    register_import, rows = _check(lead_client, row())
    assert rows[2].outcome == "create" and rows[2].candidate_id is None


def test_a_row_without_an_nhs_number_like_someone_recorded_is_held_for_the_lead(
    lead_client, lead, icb_areas
):
    person = _recorded(lead, icb_areas, nhs_number="9434765919")
    register_import, rows = _check(lead_client, row(**{"NHS Number": None}))
    assert rows[2].outcome == "likely_match" and rows[2].candidate_id == person.pk
    page = lead_client.get(reverse("dsr:import-check", args=[register_import.pk]))
    assert "is this Ada Lovelace, born 10 December 1990" in page.content.decode()
    _import(lead_client, register_import)
    assert Person.objects.count() == 1  # nothing merged or added without a decision
    assert not RegisterEntry.objects.exists()


def test_the_leads_decision_on_a_likely_match_is_followed(lead_client, lead, icb_areas):
    person = _recorded(lead, icb_areas, nhs_number="9434765919")
    register_import, rows = _check(lead_client, row(**{"NHS Number": None}))
    with mock.patch("dsr.tasks.check_import_task.delay") as queued:
        lead_client.post(
            reverse("dsr:import-check", args=[register_import.pk]), {f"row_{rows[2].pk}": "same"}
        )
    run_check(register_import, queued)
    rows[2].refresh_from_db()
    assert rows[2].outcome == "update" and rows[2].person_id == person.pk
    _import(lead_client, register_import)
    assert Person.objects.count() == 1
    assert person.register_entries.get().rating == "RED"


def test_an_nhs_number_twice_in_the_sheet_refuses_the_second_row(lead_client):
    _, rows = _check(lead_client, row(), row(Forename="Adah"))
    assert rows[2].outcome == "create"
    assert rows[3].outcome == "refused"
    assert rows[3].problems[0]["message"] == "This NHS number is also on row 2."


def test_someone_in_another_area_is_not_matched_or_changed(lead_client, lead, icb_areas):
    from tests.dsr.factories import LocalAuthorityFactory, OrganisationFactory

    elsewhere = LocalAuthorityFactory(name="Essex", gss_code="E10000012")
    OrganisationFactory(name="Essex ICB", local_authorities=[elsewhere])
    other = _recorded(lead, icb_areas, nhs_number="9434765919", local_authority=elsewhere)
    _, rows = _check(lead_client, row())
    assert rows[2].outcome == "refused"
    other.refresh_from_db()
    assert other.postcode == ""


def test_a_messy_sheet_title_rows_blank_lines_and_another_sheet_first(lead_client):
    data = xlsx(
        [None, row(), None, None, row(**{"NHS Number": "9990786666", "Forename": "Bo"})],
        title_rows=["Norfolk DSR", "Updated weekly - do not circulate", None],
        sheets={"Notes": [["Read me"], ["Key: R = red"]]},
    )
    register_import = upload_and_check(lead_client, data)
    assert register_import.sheet_name == "Register" and register_import.header_row == 4
    assert sorted(r.row_number for r in register_import.rows.all()) == [6, 9]
    assert register_import.counts["create"] == 2


def test_a_person_brought_in_only_shows_their_next_steps_until_on_the_register(lead_client, lead):
    register_import, _ = _check(lead_client, row(Consent="No"))
    _import(lead_client, register_import)
    person = Person.objects.get()
    page = lead_client.get(reverse("dsr:person-detail", args=[person.pk])).content.decode()
    assert "Still to do after the spreadsheet import" in page
    assert "Record the person&#x27;s consent: the sheet gives no consent basis." in page
    consent_record(person=person, basis="own_consent", given_on=datetime.date(2025, 5, 1), by=lead)
    register_open(person=person, rating="RED", rationale="Reviewed.", by=lead)
    page = lead_client.get(reverse("dsr:person-detail", args=[person.pk])).content.decode()
    assert "Still to do after the spreadsheet import" not in page
