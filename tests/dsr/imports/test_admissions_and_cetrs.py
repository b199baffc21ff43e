"""Admission details and the last and next C(E)TR come across where the sheet has them (issue
24, point 7): a blue row brings its admission, recorded as the admission form records it; a
C(E)TR held before the register is recorded with its date and the next one due; both are
matched on a second import, named in their history, and removed by undo."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dsr.exceptions import RegisterError
from dsr.imports.run import run, undo
from dsr.models import Admission, Person, Rating, RegisterEntry
from dsr.queries import open_admission
from dsr.services import admission_record, consent_record, person_create, register_open
from reviews.models import Cetr
from tests.dsr.imports.conftest import HEADERS, row, xlsx
from tests.dsr.imports.flow import upload_and_check

pytestmark = pytest.mark.django_db

MORE = [
    "Hospital ODS code",
    "MHA status",
    "Ward security",
    "CQC rating",
    "Community CETR before admission",
    "Last C(E)TR",
    "Next C(E)TR due",
]
BLUE = {
    "RAG": "Blue",
    "RAG rationale": None,
    "Current inpatient": "Y",
    "Hospital": "Hellesdon Hospital",
    "Admission date": "10/06/2025",
    "Hospital ODS code": "rmy01",
    "MHA status": "Section 3",
    "Ward security": "Medium secure",
    "CQC rating": "Good",
    "Community CETR before admission": "N",
}


MORE_FIELDS = [
    "hospital_name",
    "admitted_on",
    "hospital_ods_code",
    "mha_status",
    "ward_security",
    "cqc_rating",
    "cetr_before_admission",
    "last_cetr",
    "next_cetr",
]


def full_row(**values):
    """A row with the admission and C(E)TR columns too, blank unless given."""
    extra = [values.pop(name, None) for name in MORE]
    return row(**values) + extra


def _check(client, *rows, headers=HEADERS + MORE, **kwargs):
    register_import = upload_and_check(client, xlsx(list(rows), headers=headers), **kwargs)
    return register_import, {r.row_number: r for r in register_import.rows.all()}


def _ada(lead, icb_areas):
    """The sheet's default row's person, recorded by hand."""
    return person_create(
        by=lead,
        nhs_number="9434765919",
        given_name="Ada",
        family_name="Lovelace",
        date_of_birth=datetime.date(1990, 12, 10),
        local_authority=icb_areas["norfolk"],
        responsible_icb=icb_areas["icb"],
        diagnosis="learning_disability",
        diagnosis_status="confirmed",
        placement_type="family_home",
    )


def _import(client, register_import):
    client.post(reverse("dsr:import-start", args=[register_import.pk]))
    run(register_import.pk)
    register_import.refresh_from_db()
    assert register_import.status == "done"
    return register_import


def test_the_admission_and_cetr_columns_are_suggested_from_their_headers(lead_client):
    register_import, _ = _check(lead_client, full_row())
    columns = register_import.columns
    assert {name: columns.get(name) for name in MORE_FIELDS} == dict(
        zip(MORE_FIELDS, ["Hospital", "Admission date", *MORE], strict=True)
    )


def test_blue_with_its_admission_is_on_the_register_as_if_recorded_by_hand(lead_client, lead):
    register_import, rows = _check(lead_client, full_row(**BLUE))
    assert rows[2].outcome == "create", rows[2].problems
    _import(lead_client, register_import)
    person = Person.objects.get()
    admission = open_admission(person)
    assert (
        admission.hospital_name,
        admission.hospital_ods_code,
        admission.admitted_on,
        admission.mha_status,
        admission.ward_security,
        admission.cqc_rating,
        admission.community_cetr_before_admission,
        admission.recorded_by,
    ) == (
        "Hellesdon Hospital",
        "RMY01",
        datetime.date(2025, 6, 10),
        "Section 3",
        "medium",
        "good",
        False,
        lead,
    )
    entry = RegisterEntry.objects.get(person=person)
    # Added on 1 May 2025, admitted on 10 June: Blue from the admission, with its reason as the
    # admission form writes it. No rating before it is invented.
    assert (entry.opened_on, entry.rating, entry.rating_since) == (
        datetime.date(2025, 5, 1),
        "BLUE",
        datetime.date(2025, 6, 10),
    )
    assert list(entry.ratings.values_list("rating", "rationale")) == [
        ("BLUE", "Admitted to Hellesdon Hospital on 10 June 2025.")
    ]
    # Someone added to the register while in hospital is Blue from the day they joined.
    again, rows = _check(
        lead_client,
        full_row(**{**BLUE, "NHS Number": "9990786666", "Admission date": "01/03/2025"}),
    )
    _import(lead_client, again)
    later = RegisterEntry.objects.get(person__nhs_number="9990786666")
    assert (later.rating, later.rating_since) == ("BLUE", datetime.date(2025, 5, 1))
    assert later.person.admissions.get().admitted_on == datetime.date(2025, 3, 1)


@pytest.mark.parametrize(
    ("cells", "field", "message"),
    [
        ({"Admission date": "31/02/2025"}, "admitted_on", "The date must be a real date."),
        ({"Admission date": "01/06/25"}, "admitted_on", "The year must include 4 numbers."),
        (
            {"Admission date": "01/01/2999"},
            "admitted_on",
            "The date must be today or in the past.",
        ),
        ({"Hospital": None}, "hospital_name", "Enter the hospital."),
        (
            {"Hospital ODS code": "R!1"},
            "hospital_ods_code",
            "The ODS code must be 3 to 10 letters and numbers, like RMY01.",
        ),
        ({"Hospital ODS code": None}, "hospital_ods_code", "Enter the hospital's ODS code."),
        (
            {"MHA status": "x" * 61},
            "mha_status",
            "This must be 60 characters or fewer.",
        ),
        ({"CQC rating": None}, "cqc_rating", "Choose the hospital's CQC rating."),
        ({"Ward security": None}, "ward_security", "Choose the ward security level."),
        (
            {"Ward security": "Locked rehab"},
            "ward_security",
            "“Locked rehab” is not matched to a ward security level.",
        ),
        (
            {"Community CETR before admission": None},
            "cetr_before_admission",
            "Say whether a community C(E)TR happened before admission.",
        ),
    ],
)
def test_each_admission_cell_is_checked_as_the_admission_form_checks_it(
    lead_client, cells, field, message
):
    register_import, rows = _check(lead_client, full_row(**{**BLUE, **cells}))
    assert rows[2].outcome == "refused"
    assert [(p["field"], p["message"]) for p in rows[2].problems] == [(field, message)]
    _import(lead_client, register_import)
    assert not Person.objects.exists() and not Admission.objects.exists()


@pytest.mark.parametrize("when", ["10/06/2025", "10.6.2025", "10 June 2025", 45818, "2025-06-10"])
def test_the_admission_date_in_every_style_a_sheet_holds_it(lead_client, when):
    register_import, rows = _check(lead_client, full_row(**{**BLUE, "Admission date": when}))
    assert rows[2].plan["entry"]["admission"]["admitted_on"] == "2025-06-10"


def test_without_an_ods_code_column_the_lead_gives_each_hospitals(lead_client):
    headers = [h for h in HEADERS + MORE if h != "Hospital ODS code"]

    def sheet_row(**values):
        full = dict(zip(HEADERS + MORE, full_row(**values), strict=True))
        return [full[h] for h in headers]

    register_import, rows = _check(
        lead_client,
        sheet_row(**BLUE),
        sheet_row(**{**BLUE, "NHS Number": "9990786666", "Hospital": "Priory Cheadle Royal"}),
        headers=headers,
        choices={"hospital_ods_code": {"hellesdon hospital": "rmy01"}},
    )
    assert rows[2].outcome == "create"
    assert rows[3].outcome == "refused"
    assert rows[3].problems == [
        {
            "column": "Hospital ODS code",
            "field": "hospital_ods_code",
            "message": "Give the ODS code of “Priory Cheadle Royal” when matching your words.",
        }
    ]
    _import(lead_client, register_import)
    assert Admission.objects.get().hospital_ods_code == "RMY01"


def test_the_values_page_asks_each_hospitals_ods_code_and_checks_it(lead_client):
    headers = [h for h in HEADERS if h != "Hospital ODS code"]
    register_import = upload_and_check(
        lead_client, xlsx([row(**{"Hospital": "Hellesdon Hospital"})], headers=headers)
    )
    url = reverse("dsr:import-values", args=[register_import.pk])
    page = lead_client.get(url).content.decode()
    assert "ODS code of “Hellesdon Hospital”" in page
    response = lead_client.post(url, {"hospital_ods_code__0": "R!", "save_as": ""})
    assert response.status_code == 200
    assert "The ODS code must be 3 to 10 letters and numbers, like RMY01." in (
        response.content.decode()
    )


def test_a_rating_other_than_blue_with_an_admission_date_brings_no_admission(lead_client):
    register_import, rows = _check(
        lead_client,
        full_row(**{**BLUE, "RAG": "Red", "Current inpatient": "N", "RAG rationale": "Crisis"}),
    )
    assert rows[2].outcome == "create"
    assert any("the admission is not brought across" in note for note in rows[2].notes)
    _import(lead_client, register_import)
    assert RegisterEntry.objects.get().rating == "RED" and not Admission.objects.exists()


def test_someone_on_the_register_already_is_not_admitted_by_a_sheet(lead_client, lead, icb_areas):
    person = _ada(lead, icb_areas)
    consent_record(person=person, basis="own_consent", given_on=datetime.date(2025, 5, 1), by=lead)
    register_open(person=person, rating="AMBER", rationale="Known to us.", by=lead)
    _, rows = _check(lead_client, full_row(**BLUE))
    assert any("the register has no admission for them" in note for note in rows[2].notes)
    assert "entry" not in rows[2].plan
    assert not Admission.objects.exists()


# --- The last and next C(E)TR ----------------------------------------------------------------


def test_the_last_and_next_cetr_come_across_as_a_cetr_held(lead_client, lead):
    register_import, rows = _check(
        lead_client, full_row(**{"Last C(E)TR": "01/03/2025", "Next C(E)TR due": "1 Sep 2025"})
    )
    assert rows[2].outcome == "create"
    _import(lead_client, register_import)
    cetr = Cetr.objects.get()
    assert (cetr.status, cetr.kind, cetr.held_on, cetr.next_due_on, cetr.completed_by) == (
        "completed",
        "community",
        datetime.date(2025, 3, 1),
        datetime.date(2025, 9, 1),
        lead,
    )
    # What the sheet does not hold is said to be missing, not made up.
    assert cetr.finding_safe.startswith("Not recorded on the register: Imported from spreadsheet")
    page = lead_client.get(reverse("dsr:person-detail", args=[cetr.person_id])).content.decode()
    assert "held 1 March 2025, next due 1 September 2025" in page


def test_a_cetr_held_in_hospital_belongs_to_the_admission(lead_client):
    register_import, _ = _check(
        lead_client,
        full_row(**{**BLUE, "Last C(E)TR": "20/06/2025", "Next C(E)TR due": "20/09/2025"}),
    )
    _import(lead_client, register_import)
    cetr = Cetr.objects.get()
    assert (cetr.kind, cetr.admission) == ("post_admission", Admission.objects.get())


@pytest.mark.parametrize(
    ("cells", "field", "message"),
    [
        (
            {"Last C(E)TR": "01/03/2025", "Next C(E)TR due": "01/02/2025"},
            "next_cetr",
            "The next C(E)TR cannot be due before the last one was held.",
        ),
        ({"Last C(E)TR": "01/01/2999"}, "last_cetr", "The date must be today or in the past."),
        ({"Last C(E)TR": "30/02/2025"}, "last_cetr", "The date must be a real date."),
        (
            {"Next C(E)TR due": "soon"},
            "next_cetr",
            "The date must be a real date, like 27/03/2008.",
        ),
    ],
)
def test_cetr_dates_are_checked(lead_client, cells, field, message):
    register_import, rows = _check(lead_client, full_row(**cells))
    assert [(p["field"], p["message"]) for p in rows[2].problems] == [(field, message)]
    _import(lead_client, register_import)
    assert not Cetr.objects.exists() and not Person.objects.exists()


def test_a_next_cetr_without_the_last_is_a_next_step_not_a_record(lead_client):
    register_import, rows = _check(lead_client, full_row(**{"Next C(E)TR due": "01/09/2025"}))
    assert rows[2].outcome == "create"
    assert any("Next C(E)TR due 01/09/2025 is not brought across" in n for n in rows[2].notes)
    _import(lead_client, register_import)
    assert not Cetr.objects.exists()


# --- Twice, history and undo -------------------------------------------------------------------


def test_importing_twice_matches_the_admission_and_cetr_and_undo_removes_them(lead_client, lead):
    sheet = [
        full_row(**{**BLUE, "Last C(E)TR": "20/06/2025", "Next C(E)TR due": "20/09/2025"}),
        full_row(**{"NHS Number": "9990786666", "Last C(E)TR": "01/03/2025"}),
    ]
    first, _ = _check(lead_client, *sheet)
    _import(lead_client, first)
    reason = f"Imported from spreadsheet (import {first.pk}, SHA-256 "
    for record in [Admission.objects.get(), *Cetr.objects.all()]:
        assert record.history.get().history_change_reason.startswith(reason)
    counts = (Admission.objects.count(), Cetr.objects.count(), Rating.objects.count())
    assert counts == (1, 2, 2)

    second, rows = _check(lead_client, *sheet)
    assert [r.outcome for r in rows.values()] == ["same", "same"]
    _import(lead_client, second)
    assert (Admission.objects.count(), Cetr.objects.count(), Rating.objects.count()) == counts

    undo(first, by=lead)
    assert not Admission.objects.exists() and not Cetr.objects.exists()
    assert not Person.objects.exists()


def test_a_later_cetr_on_the_sheet_comes_to_someone_recorded(lead_client, lead):
    first, _ = _check(lead_client, full_row(**{"Last C(E)TR": "01/03/2025"}))
    _import(lead_client, first)
    second, rows = _check(lead_client, full_row(**{"Last C(E)TR": "01/08/2025"}))
    assert rows[2].outcome == "update"
    assert rows[2].plan == {
        "cetr": {"match": "2025-08-01", "held_on": "2025-08-01", "next_due_on": None}
    }
    _import(lead_client, second)
    assert sorted(Cetr.objects.values_list("held_on", flat=True)) == [
        datetime.date(2025, 3, 1),
        datetime.date(2025, 8, 1),
    ]
    undo(second, by=lead)
    assert list(Cetr.objects.values_list("held_on", flat=True)) == [datetime.date(2025, 3, 1)]


def test_the_values_page_reads_as_many_queries_for_many_hospitals_as_for_one(
    lead_client, django_assert_max_num_queries
):
    counts = []
    for hospitals in (1, 15):
        sheet = [row(**{"Hospital": f"Hospital {number}"}) for number in range(hospitals)]
        register_import = upload_and_check(lead_client, xlsx(sheet))
        url = reverse("dsr:import-values", args=[register_import.pk])
        with CaptureQueriesContext(connection) as queries:
            page = lead_client.get(url).content.decode()
        assert page.count("ODS code of “Hospital") == hospitals
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(22):  # one read of the rows per column of choices
        lead_client.get(url)


def test_someone_admitted_is_not_put_on_the_register_without_a_consent_basis(lead, icb_areas):
    person = _ada(lead, icb_areas)
    with pytest.raises(RegisterError, match="Record a consent basis"):
        admission_record(
            person=person,
            register_opened_on=datetime.date(2025, 5, 1),
            hospital_name="Hellesdon Hospital",
            hospital_ods_code="RMY01",
            cqc_rating="good",
            admitted_on=datetime.date(2025, 6, 10),
            ward_security="general",
            community_cetr_before_admission=True,
            by=lead,
        )
    assert not Admission.objects.exists() and not RegisterEntry.objects.exists()
