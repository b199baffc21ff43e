"""Records management: the subject access export (RELIABILITY H-6) and the retention schedule
(H-7), both built on one map of every table about a person (dsr.records.record_graph)."""

import datetime
import io
import json
import zipfile
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from dsr.models import (
    AccessEvent,
    Admission,
    CetrException,
    ImportRow,
    Notification,
    Person,
    PersonContact,
    PersonNeed,
    Placement,
    RegisterImport,
    Reminder,
    RetentionRun,
)
from dsr.records import (
    PERSON,
    REMOVED,
    REMOVED_EMAIL,
    record_graph,
    records_remove,
    retention_run,
)
from dsr.roles import Role
from dsr.services import register_close
from tests.conftest import SENTINEL, account, signed_in_client
from tests.dsr.factories import OrganisationFactory
from tests.figures import record

# --- Seeding a person in every table -----------------------------------------------------------


def _with_history(rows) -> set[tuple[str, int]]:
    """(table, pk) of each row and of every history row recorded for it."""
    found = set()
    for row in rows:
        found.add((row._meta.db_table, row.pk))
        history = getattr(type(row), "history", None)
        if history is not None:
            table = history.model._meta.db_table
            found |= {(table, pk) for pk in row.history.values_list("pk", flat=True)}
    return found


def _meeting(by):
    from reviews.models import Meeting

    return Meeting.objects.create(
        kind=Meeting.Kind.DSR_REVIEW, held_at=timezone.now(), chair=by, created_by=by
    )


def seed_everywhere(person, *, by, meeting, tag: str) -> set[tuple[str, int]]:
    """A row about `person` (already on the register) in every table of the record graph, with
    `tag` in its text wherever it has text. Returns (table, pk) of every row, history included."""
    import uuid

    from escalation.models import Escalation, EscalationNote, EscalationTransition
    from reviews.models import (
        Action,
        ActionLink,
        ActionLinkUse,
        ActionTransition,
        AgendaItem,
        Cetr,
        CetrRequest,
        CetrRequestTransition,
        CetrTransition,
        OversightVisit,
        PanelMember,
    )
    from tests.referrals.factories import ReferralAttachmentFactory, ReferralFactory

    today = timezone.localdate()
    entry = person.register_entries.get()
    admission = Admission.objects.create(
        person=person,
        hospital_name=f"{tag} Hospital",
        hospital_ods_code="RMY01",
        cqc_rating=Admission.CqcRating.GOOD,
        admitted_on=entry.opened_on,
        ward_security=Admission.WardSecurity.GENERAL,
        community_cetr_before_admission=True,
        recorded_by=by,
        discharged_on=entry.opened_on,
        discharged_by=by,
        planned_discharge_on=entry.opened_on,
        weekly_cost=Decimal("4200.00"),
        funder="joint",
    )
    placement = Placement.objects.create(
        person=person,
        placement_type="supported_living",
        out_of_area=True,
        provider_name=f"{tag} Homes",
        started_on=entry.opened_on,
        ended_on=entry.opened_on,
        weekly_cost=Decimal("1850.50"),
        funder="local_authority",
        recorded_by=by,
    )
    referral = ReferralFactory(
        person=person,
        local_authority=person.local_authority,
        given_name=person.given_name,
        family_name=person.family_name,
        risks=f"{tag} risks",
        status="added",
        initial_rating="GREEN",
        review_held_on=today,
        decided_at=timezone.now(),
        decided_by=by,
    )
    cetr = Cetr.objects.create(
        person=person, kind=Cetr.Kind.COMMUNITY, education_element=False, created_by=by
    )
    item = AgendaItem.objects.create(
        meeting=meeting, person=person, reasons=["by_hand"], discussion=f"{tag} discussed"
    )
    action = Action.objects.create(
        person=person,
        source=Action.Source.MEETING,
        agenda_item=item,
        description=f"{tag} respite",
        owner_name=f"{tag} Owner",
        agency="social_care",
        due_on=today,
        created_by=by,
    )
    link = ActionLink.objects.create(
        action=action,
        summary=f"{tag} summary",
        sent_to_name=f"{tag} Owner",
        email="owner@example.org",
        key=uuid.uuid4(),
        token_hash=uuid.uuid4().hex * 2,
        expires_at=timezone.now(),
        sent_by=by,
    )
    request = CetrRequest.objects.create(
        reference=f"CR-{person.pk}",
        channel="online",
        relationship="family",
        requester_name=f"{tag} Requester",
        requester_email="family@example.org",
        contact_by="email",
        given_name=person.given_name,
        family_name=person.family_name,
        date_of_birth=person.date_of_birth,
        in_hospital="no",
        reason=f"{tag} harder at home",
        person_knows=True,
        person=person,
    )
    escalation = Escalation.objects.create(
        reason=Escalation.Reason.OVERDUE_ACTION,
        trigger_type="reviews.action",
        trigger_id=action.pk,
        person=person,
        local_authority=person.local_authority,
        note=f"{tag} escalated",
    )
    rows = [
        person,
        person.consents.get(),
        entry,
        entry.ratings.get(),
        admission,
        placement,
        PersonContact.objects.create(person=person, role="key_worker", name=f"{tag} Keyworker"),
        CetrException.objects.create(
            person=person,
            meeting_kind="laep",
            held_on=today,
            reason=f"{tag} urgent",
            recorded_by=by,
        ),
        PersonNeed.objects.create(
            person=person, need="housing", source="register", noted_on=today, noted_by=by
        ),
        AccessEvent.objects.create(
            user=by, person=person, action="view_person", path=f"/people/{person.pk}/"
        ),
        referral,
        referral.transitions.get(),
        referral.contacts.get(),
        ReferralAttachmentFactory(referral=referral, content=f"%PDF-1.4 {tag}".encode()),
        item,
        cetr,
        PanelMember.objects.create(cetr=cetr, role="chair", name=f"{tag} Chair"),
        OversightVisit.objects.create(
            person=person,
            admission=admission,
            visited_on=today,
            visited_by=f"{tag} Visitor",
            findings=f"{tag} settled",
            recorded_by=by,
        ),
        action,
        link,
        ActionLinkUse.objects.create(link=link, kind="blocked", note=f"{tag} in the way"),
        ActionTransition.objects.create(
            action=action, from_status="open", to_status="cancelled", by=by, reason=f"{tag} off"
        ),
        CetrTransition.objects.create(
            cetr=cetr, from_status="planned", to_status="cancelled", by=by, reason=f"{tag} off"
        ),
        request,
        CetrRequestTransition.objects.create(
            request=request, from_status="received", to_status="declined", by=by, reason=tag
        ),
        escalation,
        EscalationTransition.objects.create(
            escalation=escalation, from_status="", to_status="open"
        ),
        EscalationNote.objects.create(escalation=escalation, by=by, text=f"{tag} note"),
        Notification.objects.create(
            subject_type="referrals.referral",
            subject_id=referral.pk,
            kind="referral_outcome",
            recipient_key="person",
            recipient_name=f"{tag} Letter",
            channel="letter",
            postal_address=f"1 {tag} Street",
            status="sent",
            sent_at=timezone.now(),
            context={"outcome": "added"},
        ),
        Reminder.objects.create(
            subject_type="reviews.action",
            subject_id=action.pk,
            kind="action_due",
            stage=f"due-{today}",
            due_on=today,
        ),
        # The spreadsheet row a register import brought them in from.
        ImportRow.objects.create(
            register_import=RegisterImport.objects.create(
                uploaded_by=by, file_name="register.xlsx", checksum="0" * 64, file_kind="xlsx"
            ),
            row_number=2,
            raw=[person.nhs_number, f"{tag} row"],
            outcome="create",
            person=person,
            applied=True,
        ),
    ]
    # The escalation's place in its level's queue, kept as the services keep it.
    from escalation.models import QueuePlace
    from escalation.queue_order import queue_order_refresh

    queue_order_refresh([person.pk])
    rows.extend(QueuePlace.objects.filter(person=person))
    return _with_history(rows)


def _exists(row: tuple[str, int]) -> bool:
    table, pk = row
    model = next(m for m in apps.get_models(include_auto_created=True) if m._meta.db_table == table)
    return model._base_manager.filter(pk=pk).exists()


def _graph_tables() -> set[str]:
    return {node.table for node in record_graph(PERSON).nodes}


# --- The record graph ---------------------------------------------------------------------------


def test_every_model_with_a_foreign_key_to_a_person_is_in_the_record_graph():
    """A model added later with a foreign key to Person, or a history model, or a table that
    points at rows by label, is exported and removed with the person."""
    graph = set(record_graph(PERSON).models)
    direct = {
        relation.related_model
        for relation in Person._meta.get_fields(include_hidden=True)
        if relation.is_relation and relation.auto_created and not relation.concrete
    }
    audited = {model.history.model for model in graph if hasattr(model, "history")}
    pointer_tables = {Notification, Reminder}
    missing = sorted(m._meta.label for m in (direct | audited | pointer_tables) - graph)
    assert direct
    assert missing == []


def test_the_record_graph_follows_no_link_to_someone_elses_rows():
    """A referral marked as a duplicate of another is not followed (it may be about someone
    else), and no shared record (a meeting, an attendee, a user) is about the person."""
    from reviews.models import Attendee, Meeting

    graph = record_graph(PERSON)
    referral = next(node for node in graph.nodes if node.table == "referrals_referral")
    assert [link.field for link in referral.links] == ["person_id"]
    assert not {Meeting, Attendee, apps.get_model(settings.AUTH_USER_MODEL)} & set(graph.models)


# --- The subject access export (H-6) -----------------------------------------------------------


def _export(client, person, purpose="subject_access"):
    return client.post(reverse("dsr:person-export", args=[person.pk]), {"purpose": purpose})


def _read_zip(response) -> tuple[dict, dict[str, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    contents = {name: archive.read(name) for name in archive.namelist()}
    document = next(json.loads(data) for name, data in contents.items() if name.endswith(".json"))
    return document, contents


@pytest.mark.django_db
def test_export_holds_every_row_about_the_person_and_nothing_about_anyone_else(
    make_person, clerk, staff_client, staff_user
):
    meeting = _meeting(clerk)
    person = make_person("RED", given_name="Alex", family_name="Exportee")
    other = make_person("RED", given_name="Sam", family_name=SENTINEL)
    seeded = seed_everywhere(person, by=clerk, meeting=meeting, tag="Alphaexport")
    sentinel_rows = seed_everywhere(other, by=clerk, meeting=meeting, tag=SENTINEL)
    assert {table for table, _ in seeded} == _graph_tables()  # data in every table

    started = timezone.now()
    response = _export(staff_client, person)
    seconds = (timezone.now() - started).total_seconds()

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="subject-access-')
    document, contents = _read_zip(response)
    exported = {(table, row["pk"]) for table, rows in document["tables"].items() for row in rows}
    assert seeded - exported == set()
    assert sentinel_rows & exported == set()
    assert not any(SENTINEL.encode() in data for data in contents.values())
    assert document["tables"]["dsr_person"][0]["family_name"] == "Exportee"
    # The costs, funders and placements are the person's too (issue 23, point 4).
    (placement,) = document["tables"]["dsr_placement"]
    assert (placement["weekly_cost"], placement["funder"]) == ("1850.50", "local_authority")
    assert placement["provider_name"] == "Alphaexport Homes"
    assert document["tables"]["dsr_historicalplacement"]
    (admission,) = document["tables"]["dsr_admission"]
    assert (admission["weekly_cost"], admission["funder"]) == ("4200.00", "joint")
    attachment = [data for name, data in contents.items() if "/files/" in name]
    assert attachment == [b"%PDF-1.4 Alphaexport"]
    logged = AccessEvent.objects.get(action=AccessEvent.Action.EXPORT_PERSON)
    assert (logged.user, logged.person, logged.detail) == (
        staff_user,
        person,
        {"purpose": "subject_access"},
    )
    record("H-6 tables in the subject access export", len(document["tables"]))
    record("H-6 seeded rows present in the export", f"{len(seeded & exported)}/{len(seeded)}")
    record("H-6 rows about another person in the export", len(sentinel_rows & exported))
    record("H-6 export generated in (s)", round(seconds, 2))


@pytest.mark.django_db
def test_export_page_asks_why_and_exports_nothing_on_get(make_person, staff_client):
    person = make_person("RED")
    url = reverse("dsr:person-export", args=[person.pk])

    page = staff_client.get(url)
    refused = staff_client.post(url, {})

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "Why are you exporting this person&#x27;s records?" in page.content.decode()
    assert refused.status_code == 200
    assert refused["Content-Type"].startswith("text/html")
    assert "Choose why you are exporting this person&#x27;s records." in refused.content.decode()
    assert "nhsuk-error-summary" in refused.content.decode()
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT_PERSON).exists()


@pytest.mark.django_db
def test_person_page_offers_the_export_to_the_register_team_only(
    make_person, staff_client, organisations
):
    person = make_person("RED")
    manager = signed_in_client(account(organisations["trust"], Role.SENIOR_MANAGER_HEALTH))
    link = "Export everything held about this person"

    assert link in staff_client.get(person.get_absolute_url()).content.decode()
    assert link not in manager.get(person.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_export_is_refused_to_other_roles_and_out_of_scope_people(
    make_person, organisations, areas
):
    person = make_person("RED", area="north")
    south_icb = OrganisationFactory(name="South ICB", local_authorities=[areas["south"]])
    elsewhere = signed_in_client(account(south_icb, Role.REGISTER_STAFF))
    # A senior manager may see a Red person in their area, but not export their records.
    manager = signed_in_client(account(organisations["trust"], Role.SENIOR_MANAGER_HEALTH))

    assert manager.get(person.get_absolute_url()).status_code == 200
    assert _export(manager, person).status_code == 403
    assert _export(elsewhere, person).status_code == 404
    assert elsewhere.get(reverse("dsr:person-export", args=[person.pk])).status_code == 404
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT_PERSON).exists()


# --- Retention (H-7) ---------------------------------------------------------------------------


def _declined_referral(by, area, tag, live_escalation=False, **fields):
    from escalation.models import Escalation, EscalationTransition
    from tests.referrals.factories import ReferralAttachmentFactory, ReferralFactory

    referral = ReferralFactory(
        status="not_eligible",
        local_authority=area,
        family_name=tag,
        review_held_on=timezone.localdate(),
        decided_at=timezone.now(),
        decided_by=by,
        ineligible_reason=f"{tag} reason",
        signposting="The local offer.",
        **fields,
    )
    attachment = ReferralAttachmentFactory(referral=referral, content=f"%PDF-1.4 {tag}".encode())
    escalation = Escalation.objects.create(
        reason=Escalation.Reason.REFERRAL_OVERDUE,
        trigger_type="referrals.referral",
        trigger_id=referral.pk,
        local_authority=area,
        **(
            {}
            if live_escalation
            else {"status": "resolved", "resolved_at": timezone.now(), "outcome": "Decided."}
        ),
    )
    rows = [
        referral,
        *referral.transitions.all(),
        *referral.contacts.all(),
        attachment,
        escalation,
        EscalationTransition.objects.create(
            escalation=escalation, from_status="", to_status="open"
        ),
        Notification.objects.create(
            subject_type="referrals.referral",
            subject_id=referral.pk,
            kind="referral_outcome",
            recipient_key="person",
            recipient_name=f"{tag} Letter",
            channel="letter",
            postal_address=f"1 {tag} Street",
            status="sent",
            sent_at=timezone.now(),
        ),
    ]
    return referral, _with_history(rows), attachment.file.name


def _sent(name: str, sent_at: str) -> Notification:
    return Notification.objects.create(
        subject_type="dsr.registerentry",
        subject_id=999_000 + Notification.objects.count(),
        kind="rating_review_due",
        recipient_key=name,
        recipient_name=name,
        channel="email",
        email=f"{name.lower()}@example.org",
        status="sent",
        sent_at=datetime.datetime.fromisoformat(sent_at),
        context={"name": name},
    )


def _travel(when: str):
    return time_machine.travel(f"{when} 10:00:00+00:00", tick=False)


@pytest.mark.django_db
def test_retention_removes_records_past_their_period_with_history_outbox_and_files(
    make_person, clerk, areas, django_capture_on_commit_callbacks
):
    from referrals.models import Referral
    from tests.referrals.factories import ReferralFactory

    with _travel("2018-03-01"):
        old = make_person(opened_on=datetime.date(2018, 1, 5), family_name="Oldrecord")
        old_rows = seed_everywhere(old, by=clerk, meeting=_meeting(clerk), tag="Oldrecord")
        old_file = old.referrals.get().attachments.get().file.name
        declined_old, declined_old_rows, declined_old_file = _declined_referral(
            clerk, areas["north"], "Olddeclined"
        )
    with _travel("2019-02-01"):
        register_close(entry=old.register_entries.get(), reason="risk_reduced", by=clerk)
    with _travel("2023-06-01"):
        kept = make_person(opened_on=datetime.date(2023, 6, 1), family_name="Keptrecord")
        kept_rows = seed_everywhere(kept, by=clerk, meeting=_meeting(clerk), tag="Keptrecord")
        kept_file = kept.referrals.get().attachments.get().file.name
    with _travel("2024-06-01"):
        register_close(entry=kept.register_entries.get(), reason="risk_reduced", by=clerk)
        _, declined_new_rows, declined_new_file = _declined_referral(
            clerk, areas["north"], "Newdeclined"
        )
    with _travel("2019-05-01"):
        # An old read of a record that is kept: the access log has its own period.
        old_read = AccessEvent.objects.create(
            user=clerk, person=kept, action="view_person", path="/people/"
        )
    with _travel("2026-03-10"):
        # A live referral marked as a duplicate of the old declined one: it stays, unlinked.
        duplicate = ReferralFactory(local_authority=areas["north"], duplicate_of=declined_old)
        sent_long_ago = _sent("Ann", "2025-01-01T09:00:00+00:00")
        sent_lately = _sent("Bea", "2026-03-01T09:00:00+00:00")
        with django_capture_on_commit_callbacks(execute=True):
            runs = {run.kind: run for run in retention_run()}
        again = retention_run()

    removed = sorted(row for row in old_rows | declined_old_rows if _exists(row))
    touched = sorted(row for row in kept_rows | declined_new_rows if not _exists(row))
    assert removed == []
    assert touched == []
    assert not default_storage.exists(old_file)
    assert not default_storage.exists(declined_old_file)
    assert default_storage.exists(kept_file) and default_storage.exists(declined_new_file)
    assert not AccessEvent.objects.filter(pk=old_read.pk).exists()
    assert AccessEvent.objects.filter(person=kept).exists()
    duplicate.refresh_from_db()
    assert duplicate.duplicate_of is None
    assert duplicate.history.first().history_change_reason.startswith("Retention:")
    sent_long_ago.refresh_from_db()
    sent_lately.refresh_from_db()
    assert (sent_long_ago.recipient_name, sent_long_ago.email, sent_long_ago.context) == (
        REMOVED,
        REMOVED_EMAIL,
        {},
    )
    assert (sent_lately.recipient_name, sent_lately.email) == ("Bea", "bea@example.org")

    assert set(runs) == set(RetentionRun.Kind.values)
    closed = runs[RetentionRun.Kind.CLOSED_RECORDS].removed
    assert _graph_tables() <= set(closed)
    assert (closed["dsr_person"], closed["stored files"]) == (1, 1)
    declined = runs[RetentionRun.Kind.DECLINED_REFERRALS].removed
    assert (declined["referrals_referral"], declined["stored files"]) == (1, 1)
    assert declined["escalation_historicalescalation"] >= 1
    assert runs[RetentionRun.Kind.ACCESS_LOG].removed == {"dsr_accessevent": 1}
    assert runs[RetentionRun.Kind.OUTBOX].removed["dsr_notification"] >= 1
    assert [run.total for run in again] == [0, 0, 0, 0]
    assert RetentionRun.objects.count() == 8
    assert Referral.objects.filter(pk=declined_old.pk).exists() is False
    total = sum(run.total for run in runs.values())
    record("H-7 rows removed in the retention test", total)
    record("H-7 rows within their period touched", len(touched))
    record("H-7 rows removed by a second run", sum(run.total for run in again))


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the audit triggers are PostgreSQL's")
def test_removal_outside_the_retention_transaction_is_refused_by_the_audit_triggers(make_person):
    person = make_person()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        records_remove(root=PERSON, due=Person.objects.filter(pk=person.pk))

    assert Person.objects.filter(pk=person.pk).exists()


@pytest.mark.django_db
def test_retention_page_lists_the_latest_runs(organisations):
    from dsr.tasks import apply_retention_schedule_task

    totals = apply_retention_schedule_task()
    lead = signed_in_client(account(organisations["icb"], Role.DSR_LEAD))

    page = lead.get(reverse("dsr:retention-runs")).content.decode()

    assert totals == dict.fromkeys(RetentionRun.Kind.values, 0)
    assert page.count('<tr class="nhsuk-table__row">') == 1 + len(RetentionRun.Kind.values)
    assert "Declined and withdrawn referrals" in page
    schedule = settings.CELERY_BEAT_SCHEDULE["apply-retention-schedule"]
    assert schedule["task"] == "dsr.tasks.apply_retention_schedule_task"
    assert (schedule["schedule"].hour, schedule["schedule"].minute) == ({1}, {30})


def test_a_declined_referral_with_a_live_escalation_waits_for_it(clerk, areas):
    from referrals.models import Referral

    with _travel("2018-03-01"):
        kept, _rows, _file = _declined_referral(
            clerk, areas["north"], "Stillescalated", live_escalation=True
        )
    with _travel("2026-03-10"):
        retention_run()
    assert Referral.objects.filter(pk=kept.pk).exists()


@pytest.mark.django_db
def test_a_placement_still_paid_for_or_ended_lately_keeps_the_record_as_a_hospital_stay_does(
    make_person, clerk
):
    """Issue 23, point 4: placements and their costs are kept and removed with the rest of the
    record, and a placement the ICB still pays for (or ended within the period) keeps it."""
    from dsr.services import placement_end, placement_record

    people = {}
    with _travel("2018-03-01"):
        for name in ("Openplacement", "Endedlately", "Endedlongago"):
            person = make_person(opened_on=datetime.date(2018, 1, 5), family_name=name)
            placement_record(
                person=person,
                placement_type="residential_care",
                started_on=datetime.date(2018, 1, 5),
                weekly_cost=Decimal("3100.00"),
                funder="icb",
                by=clerk,
            )
            people[name] = person
        placement_end(
            placement=people["Endedlongago"].placements.get(),
            ended_on=datetime.date(2018, 2, 1),
            by=clerk,
        )
    with _travel("2019-02-01"):
        for person in people.values():
            register_close(entry=person.register_entries.get(), reason="risk_reduced", by=clerk)
    with _travel("2025-01-10"):
        # Ended within the period; the person's own row untouched since 2019.
        placement = Placement.objects.get(person=people["Endedlately"])
        Placement.objects.filter(pk=placement.pk).update(ended_on=datetime.date(2025, 1, 10))
    with _travel("2026-03-10"):
        retention_run()
    assert Person.objects.filter(pk=people["Openplacement"].pk).exists()
    assert Placement.objects.filter(person=people["Openplacement"]).exists()
    assert Person.objects.filter(pk=people["Endedlately"].pk).exists()
    gone = people["Endedlongago"]
    assert not Person.objects.filter(pk=gone.pk).exists()
    assert not Placement.objects.filter(person_id=gone.pk).exists()
    assert not Placement.history.filter(person_id=gone.pk).exists()
