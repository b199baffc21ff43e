"""An import made by mistake is undone, restoring the register exactly (issue 24, point 6), and
every record it writes has a history entry naming the import and the file's checksum."""

import datetime

import pytest
from django.urls import reverse

from dsr.exceptions import RegisterError
from dsr.imports.run import run, undo
from dsr.models import (
    AccessEvent,
    Admission,
    Consent,
    Person,
    PersonContact,
    Rating,
    RegisterEntry,
)
from dsr.roles import Role
from dsr.services import person_create, person_update
from reviews.models import Cetr
from tests.conftest import account, signed_in_client
from tests.dsr.imports.conftest import EXAMPLE, row, xlsx
from tests.dsr.imports.flow import upload_and_check

pytestmark = pytest.mark.django_db

TABLES = (Person, Consent, RegisterEntry, Rating, PersonContact, Admission, Cetr)


def snapshot() -> dict:
    """Every row of the register's tables, every column but the time it was last saved."""
    return {
        model.__name__: sorted(
            (tuple(sorted((k, str(v)) for k, v in values.items() if k != "updated_at")))
            for values in model.objects.values()
        )
        for model in TABLES
    }


def _import(client, data):
    register_import = upload_and_check(client, data)
    client.post(reverse("dsr:import-start", args=[register_import.pk]))
    run(register_import.pk)
    register_import.refresh_from_db()
    assert register_import.status == "done"
    return register_import


@pytest.fixture
def recorded(lead, icb_areas):
    """Someone already on the register before the import, whose postcode the sheet changes."""
    return person_create(
        by=lead,
        nhs_number="9434765919",  # not in the example
        given_name="Bo",
        family_name="Brown",
        date_of_birth=datetime.date(1992, 3, 20),
        local_authority=icb_areas["norfolk"],
        responsible_icb=icb_areas["icb"],
        diagnosis="learning_disability",
        diagnosis_status="confirmed",
        placement_type="family_home",
        postcode="IP1 2AB",
    )


def test_undo_restores_the_register_exactly(lead_client, lead, recorded):
    before = snapshot()
    register_import = _import(lead_client, EXAMPLE.read_bytes())
    changed = _import(
        lead_client,
        xlsx(
            [
                row(
                    **{
                        "NHS Number": "9434765919",
                        "Forename": "Bo",
                        "Surname": "Brown",
                        "DOB": "20/03/1992",
                    }
                )
            ]
        ),
    )
    recorded.refresh_from_db()
    assert recorded.postcode == "NR1 1AA" and recorded.register_entries.exists()
    assert Person.objects.count() > 100

    undo(changed, by=lead)
    undo(register_import, by=lead)

    assert snapshot() == before
    register_import.refresh_from_db()
    assert register_import.status == "undone" and register_import.undone_by == lead


def test_undo_through_the_page(lead_client, lead):
    register_import = _import(lead_client, xlsx([row()]))
    page = lead_client.get(reverse("dsr:import-undo", args=[register_import.pk]))
    assert "Undo the import of register.xlsx?" in page.content.decode()
    response = lead_client.post(reverse("dsr:import-undo", args=[register_import.pk]))
    assert response.status_code == 302
    assert not Person.objects.exists() and not Rating.objects.exists()


def test_undo_is_refused_once_someone_has_changed_a_record_it_wrote(lead_client, lead):
    register_import = _import(lead_client, xlsx([row(), row(**{"NHS Number": "9990786666"})]))
    person = Person.objects.get(nhs_number="9990786666")
    person_update(person=person, by=lead, postcode="NR2 4SD")
    before = snapshot()
    with pytest.raises(RegisterError, match="rows 3 have changed since it ran"):
        undo(register_import, by=lead)
    assert snapshot() == before  # nothing undone at all
    response = lead_client.post(reverse("dsr:import-undo", args=[register_import.pk]))
    assert "This import cannot be undone" in response.content.decode()


def _read_by_the_lead_and_register_staff(lead_client, icb_areas, people):
    """Each person's page, the register and a search, as the DSR lead and as register staff:
    reads, which write only to the access log."""
    staff = account(
        icb_areas["icb"], Role.REGISTER_STAFF, email="staff@nhs.example", full_name="Sam Staff"
    )
    for client in (lead_client, signed_in_client(staff)):
        for person in people:
            page = client.get(reverse("dsr:person-detail", args=[person.pk]))
            assert page.status_code == 200
            assert person.family_name in page.content.decode()
        assert client.get(reverse("dsr:register-list")).status_code == 200
        found = client.post(reverse("dsr:register-search"), {"name": "Lovelace"})
        assert "Lovelace" in found.content.decode()


def test_reading_the_people_imported_does_not_stop_the_undo(lead_client, lead, icb_areas):
    before = snapshot()
    register_import = _import(
        lead_client,
        xlsx([row(), row(**{"NHS Number": "9990786666", "RAG": None})]),
    )
    people = list(Person.objects.all())
    _read_by_the_lead_and_register_staff(lead_client, icb_areas, people)
    reads = list(AccessEvent.objects.filter(person_id__in=[p.pk for p in people]).values())
    assert len(reads) >= 4

    undo(register_import, by=lead)

    assert snapshot() == before
    # The reads stay logged, naming the person by id, though the person is gone.
    assert list(AccessEvent.objects.filter(pk__in=[r["id"] for r in reads]).values()) == reads


def test_a_change_after_the_reads_still_stops_the_undo(lead_client, lead, icb_areas):
    register_import = _import(lead_client, xlsx([row()]))
    person = Person.objects.get()
    _read_by_the_lead_and_register_staff(lead_client, icb_areas, [person])
    person_update(person=person, by=lead, postcode="NR2 4SD")
    before = snapshot()
    with pytest.raises(RegisterError, match="rows 2 have changed since it ran"):
        undo(register_import, by=lead)
    assert snapshot() == before


def test_every_row_written_has_history_naming_the_import_and_checksum(lead_client):
    register_import = _import(lead_client, xlsx([row()]))
    reason = f"Imported from spreadsheet (import {register_import.pk}, SHA-256 "
    person = Person.objects.get()
    records = [
        person,
        person.consents.get(),
        person.register_entries.get(),
        person.contacts.get(),
    ]
    for record in records:
        reasons = [h.history_change_reason for h in record.history.all()]
        assert reasons and all(
            r.startswith(reason + register_import.checksum[:16]) for r in reasons
        )
    rating = Rating.objects.get()
    assert rating.set_by == register_import.uploaded_by


def test_undo_is_refused_once_another_record_refers_to_a_person_it_added(lead_client, lead):
    from reviews.services.cetrs import cetr_plan

    register_import = _import(lead_client, xlsx([row()]))
    person = Person.objects.get()
    cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=lead)  # work begun on the record
    before = snapshot()
    with pytest.raises(RegisterError, match="other records now refer to people it added"):
        undo(register_import, by=lead)
    assert snapshot() == before


def test_another_icbs_lead_cannot_see_or_undo_an_import(lead_client, lead):
    from dsr.roles import Role
    from tests.conftest import account, signed_in_client
    from tests.dsr.factories import OrganisationFactory

    register_import = _import(lead_client, xlsx([row()]))
    other = signed_in_client(account(OrganisationFactory(name="Other ICB"), Role.DSR_LEAD))
    for name in ("dsr:import-detail", "dsr:import-check", "dsr:import-report", "dsr:import-undo"):
        assert other.get(reverse(name, args=[register_import.pk])).status_code == 404
    assert other.post(reverse("dsr:import-undo", args=[register_import.pk])).status_code == 404
    assert "register.xlsx" not in other.get(reverse("dsr:import-list")).content.decode()
    assert Person.objects.count() == 1
