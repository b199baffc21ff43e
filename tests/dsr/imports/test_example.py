"""The example register, brought across end to end through the pages and the job."""

import pytest
from django.urls import reverse

from dsr.imports.run import run
from dsr.models import Admission, Consent, ImportRow, Person, Rating, RegisterEntry
from dsr.queries import open_admission
from reviews.models import Cetr
from tests.dsr.imports.conftest import EXAMPLE
from tests.dsr.imports.flow import upload_and_check

pytestmark = pytest.mark.django_db


def test_the_example_checks_imports_and_a_second_import_changes_nothing(lead_client, lead):
    first = upload_and_check(lead_client, EXAMPLE.read_bytes(), "dsr-register-example.xlsx")
    assert first.header_row == 1 and first.rows.count() == 120
    counts = first.counts
    # The example's own slips: four rows rated before the person was added.
    refused = first.rows.filter(outcome="refused")
    assert [p["field"] for r in refused for p in r.problems] == ["rating_date"] * 4
    assert counts["create"] + counts["person_only"] == 116
    response = lead_client.post(reverse("dsr:import-start", args=[first.pk]))
    assert response.status_code == 302
    run(first.pk)
    first.refresh_from_db()
    assert first.status == "done" and first.rows_done == 120
    assert Person.objects.count() == counts["create"] + counts["person_only"]
    assert RegisterEntry.objects.count() == counts["create"]
    # The example's blue rows come with their admissions and are blue, but for the 3 brought
    # as people only (their consent basis is not valid for their age as the sheet has it: an
    # admission is recorded for someone on the register), whose next step says so. The 34 rows
    # with a last C(E)TR bring it, but for row 33, refused (rated before the person was added).
    blue = RegisterEntry.objects.filter(rating="BLUE")
    assert blue.count() == Admission.objects.count() == 4
    assert all(open_admission(entry.person) is not None for entry in blue)
    waiting = first.rows.filter(outcome="person_only", notes__icontains="Record the admission")
    assert waiting.count() == 3
    assert Cetr.objects.filter(status="completed").count() == 34 - 1
    admissions, cetrs = Admission.objects.count(), Cetr.objects.count()
    people = Person.objects.count()
    entries = RegisterEntry.objects.count()
    ratings = Rating.objects.count()
    consents = Consent.objects.count()

    second = upload_and_check(lead_client, EXAMPLE.read_bytes(), "dsr-register-example.xlsx")
    assert second.counts["same"] == 116, second.counts
    assert second.counts["refused"] == 4
    assert (Person.objects.count(), RegisterEntry.objects.count()) == (people, entries)
    assert (Rating.objects.count(), Consent.objects.count()) == (ratings, consents)
    assert (Admission.objects.count(), Cetr.objects.count()) == (admissions, cetrs)
    assert (
        ImportRow.objects.filter(
            register_import=second, outcome__in=["create", "update", "person_only"]
        ).count()
        == 0
    )
