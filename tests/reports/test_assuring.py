"""The Assuring Transformation extract (reports.assuring): every mapped AT item filled from the
register (a test per item), objectors kept in with their identifiers withheld, one access-log
row per person, only the register team, and only people in hospital in the user's areas."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from dsr.models import AccessEvent, Admission, Diagnosis, DiagnosisStatus
from dsr.roles import Role
from dsr.services import admission_discharge, admission_record
from reports.assuring import ITEMS, NOT_HELD
from tests.conftest import account, signed_in_client
from tests.reviews.factories import CompletedCetrFactory

pytestmark = pytest.mark.django_db

URL = "reports:assuring-transformation"


@pytest.fixture
def inpatient(make_person, organisations, clerk, frozen_now):
    """On the register from 5 January; admitted on 3 February with every AT detail recorded;
    an inpatient C(E)TR held on 20 February with the next due on 20 May."""
    icb = organisations["icb"]
    icb.ods_code = "QMM"
    icb.save()
    person = make_person(
        "AMBER",
        nhs_number="9434765919",
        postcode="NR1 1AA",
        sex="2",
        ethnicity="D",
        gp_practice_code="D82001",
        diagnosis=Diagnosis.BOTH,
        diagnosis_status=DiagnosisStatus.CLINICALLY_UNDERSTOOD,
        date_of_birth=datetime.date(1990, 6, 15),
    )
    admission_record(
        person=person,
        hospital_name="Riverside Hospital",
        hospital_ods_code="rmy01",
        cqc_rating=Admission.CqcRating.GOOD,
        admitted_on=datetime.date(2026, 2, 3),
        ward_security=Admission.WardSecurity.MEDIUM,
        mha_status="Section 3",
        community_cetr_before_admission=True,
        planned_discharge_on=datetime.date(2026, 6, 30),
        weekly_cost=Decimal("5250.00"),
        funder="icb",
        by=clerk,
    )
    CompletedCetrFactory(
        person=person,
        kind="inpatient",
        held_on=datetime.date(2026, 2, 20),
        next_due_on=datetime.date(2026, 5, 20),
        created_by=clerk,
    )
    return person


def _download(user) -> list[dict[str, str]]:
    response = signed_in_client(user).get(reverse(URL))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response).decode().lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


EXPECTED = {
    "NHS number": "9434765919",
    "Date of birth": "1990-06-15",
    "Postcode of usual address": "NR1 1AA",
    "Gender (stated gender code)": "2",
    "Ethnic category": "D",
    "GP practice code": "D82001",
    "Local authority of residence (GSS code)": "E10000901",
    "Responsible commissioner (ODS code)": "QMM",
    "Learning disability, autism or both": "Learning disability and autism",
    "Diagnosed or clinically understood": "Clinically understood",
    "Hospital site (ODS code)": "RMY01",
    "Hospital name": "Riverside Hospital",
    "Date of admission": "2026-02-03",
    "Ward security level": "Medium secure",
    "Mental Health Act legal status": "Section 3",
    "Community C(E)TR before admission": "Y",
    "On the dynamic support register before admission": "Y",
    "Date of the most recent C(E)TR": "2026-02-20",
    "Date the next C(E)TR is due": "2026-05-20",
    "Planned discharge date": "2026-06-30",
    "Patient objects to sharing identifiable data": "N",
}


def test_every_item_is_tested():
    assert [item.name for item in ITEMS] == list(EXPECTED)
    assert NOT_HELD  # the items the register does not hold are listed (and documented)


@pytest.mark.parametrize("item", list(EXPECTED))
def test_each_at_item_is_filled_from_the_register(inpatient, clerk, item):
    (row,) = _download(clerk)
    assert row[item] == EXPECTED[item]


def test_an_objector_is_counted_with_identifiers_withheld(inpatient, clerk):
    inpatient.at_objection = True
    inpatient.save()
    (row,) = _download(clerk)
    assert row["NHS number"] == ""
    assert row["Date of birth"] == ""
    assert row["Postcode of usual address"] == ""
    assert row["Patient objects to sharing identifiable data"] == "Y"
    # The rest of the record is still there, so the collection counts the stay.
    assert row["Date of admission"] == "2026-02-03"
    assert row["Hospital site (ODS code)"] == "RMY01"


def test_admitted_the_day_they_joined_the_register_is_not_before(
    make_person, admit, clerk, frozen_now
):
    person = make_person("RED", opened_on=datetime.date(2026, 2, 3))
    admit(person, datetime.date(2026, 2, 3))
    (row,) = _download(clerk)
    assert row["On the dynamic support register before admission"] == "N"
    assert row["Date of the most recent C(E)TR"] == ""


def test_only_people_in_hospital_and_in_scope(inpatient, make_person, admit, clerk, organisations):
    discharged = make_person("AMBER")
    admission_discharge(
        admission=admit(discharged, datetime.date(2026, 2, 1)),
        discharged_on=datetime.date(2026, 2, 20),
        by=clerk,
    )
    make_person("RED")  # never admitted
    admit(make_person("AMBER", area="south"), datetime.date(2026, 2, 5))
    assert len(_download(clerk)) == 2  # the ICB covers both areas
    north_staff = account(organisations["north_council"], Role.REGISTER_STAFF)
    rows = _download(north_staff)
    assert [row["NHS number"] for row in rows] == ["9434765919"]


def test_one_access_log_row_per_person_in_the_file(inpatient, make_person, admit, clerk):
    other = make_person("AMBER")
    admit(other, datetime.date(2026, 2, 10))
    _download(clerk)
    events = AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT_AT)
    assert sorted(e.person_id for e in events) == sorted([inpatient.pk, other.pk])
    assert {e.user_id for e in events} == {clerk.pk}
    assert all(e.detail == {"rows": 2} for e in events)


def test_the_dsr_lead_may_download_and_a_commissioner_may_not(inpatient, organisations):
    lead = account(organisations["icb"], Role.DSR_LEAD)
    assert len(_download(lead)) == 1
    commissioner = account(organisations["icb"], Role.PLANNING_COMMISSIONER)
    assert signed_in_client(commissioner).get(reverse(URL)).status_code == 403
    # Before the second factor: sent to it, and nothing logged.
    staff = account(organisations["icb"], Role.REGISTER_STAFF)
    response = signed_in_client(staff, verified=False).get(reverse(URL))
    assert response.status_code == 302
    assert not AccessEvent.objects.filter(user=staff).exists()


def test_the_extract_runs_the_same_queries_at_two_sizes(
    make_person, admit, clerk, frozen_now, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in_client(clerk)
    for _ in range(2):
        admit(make_person("AMBER"), datetime.date(2026, 2, 3))
    client.get(reverse(URL))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse(URL))
    for _ in range(8):
        admit(make_person("AMBER"), datetime.date(2026, 2, 3))
    with django_assert_max_num_queries(len(queries)):
        assert client.get(reverse(URL)).status_code == 200
