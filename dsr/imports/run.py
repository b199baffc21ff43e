"""Applying a checked import in batches, and undoing it (issue 24, point 6).

Each batch is one transaction holding the import's row lock: its rows are re-checked against
the register as it is now, written through the register's own services, and marked applied,
all or nothing. A worker killed mid-batch leaves the batch unwritten; the job, run again (the
broker redelivers it, the page offers to carry on, or `manage.py run_import`), starts from the
first row not yet applied. A row whose re-check differs from the dry run (the register changed
in between) is not written, and says so.

Every row written carries a history entry naming the import and the file's checksum
(dsr.history.written_for). Undo removes what the import added and puts back what it changed,
all at once, and only while nothing else has changed those rows since.
"""

import datetime
import logging
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from dsr.exceptions import RegisterError
from dsr.history import set_change_reason, written_for
from dsr.imports.check import Context, check_rows, store_rows
from dsr.imports.parts import import_parts
from dsr.models import (
    Admission,
    Consent,
    ImportRow,
    Person,
    PersonContact,
    Rating,
    RegisterEntry,
    RegisterImport,
    User,
)
from dsr.queries import open_entry
from dsr.register_changes import people_changed, people_changes_gathered
from dsr.security.scoping import local_authority_ids_for
from dsr.services.admissions import admission_record
from dsr.services.people import consent_record, contacts_add, person_create, person_update
from dsr.services.register import register_open

logger = logging.getLogger(__name__)

Outcome = ImportRow.Outcome
Status = RegisterImport.Status
WRITES = (Outcome.CREATE, Outcome.PERSON_ONLY, Outcome.UPDATE)
_MODELS = {
    "Person": Person,
    "Consent": Consent,
    "RegisterEntry": RegisterEntry,
    "Admission": Admission,
}


def _model(name: str) -> Any:
    """The model of a stamp or created list: the register's, or an app's part's."""
    parts = {part.model.__name__: part.model for part in import_parts()}
    return _MODELS.get(name) or parts[name]


_DATES = ("date_of_birth",)


def _person_fields(values: dict[str, Any]) -> dict[str, Any]:
    fields = {}
    for name, value in values.items():
        if name in ("local_authority", "responsible_icb"):
            fields[f"{name}_id"] = value
        elif name in _DATES:
            fields[name] = datetime.date.fromisoformat(value)
        else:
            fields[name] = value
    return fields


def _day(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _stamp(written: dict, obj: Any) -> None:
    """When `obj` was last saved, as its last save set it (auto_now), for undo's check."""
    written["stamps"][f"{type(obj).__name__}:{obj.pk}"] = obj.updated_at.isoformat()


def _open(person: Person, entry: dict[str, Any], by: User, written: dict) -> list[Any]:
    """Put the person on the register; a blue rating with its admission, recorded as the
    admission form records it (rule 5). Returns the records saved, for undo's stamps."""
    saved: list[Any] = []
    if entry.get("admission"):
        admission = entry["admission"]
        admitted = admission_record(
            person=person,
            register_opened_on=_day(entry["opened_on"]),
            notes=entry["rationale"],
            by=by,
            **{**admission, "admitted_on": _day(admission["admitted_on"])},
        )
        opened = open_entry(person)
        written["created"]["Admission"].append(admitted.pk)
        saved.append(admitted)
    else:
        opened = register_open(
            person=person,
            rating=entry["rating"],
            rationale=entry["rationale"],
            opened_on=_day(entry["opened_on"]),
            rated_on=_day(entry["rated_on"]),
            by=by,
        )
    written["created"]["RegisterEntry"].append(opened.pk)
    written["created"]["Rating"].extend(opened.ratings.values_list("pk", flat=True))
    return [*saved, opened]


def _apply(row: ImportRow, plan: dict[str, Any], by: User, reason: str) -> dict[str, Any]:
    """Write one row's plan through the services; returns what was written, for undo."""
    written: dict[str, Any] = {"created": defaultdict(list), "updated": {}, "stamps": {}}
    saved: list[Any] = []
    if row.outcome == Outcome.UPDATE:
        person = Person.objects.get(pk=row.person_id)
        if plan.get("person"):
            fields = _person_fields(plan["person"])
            written["updated"] = {
                name: _json(getattr(person, name)) for name in fields if hasattr(person, name)
            }
            person = person_update(person=person, by=by, **fields)
    else:
        person = person_create(by=by, **_person_fields(plan["person"]))
        written["created"]["Person"].append(person.pk)
        saved.append(person)
    consent = plan.get("consent")
    if consent:
        row_consent = consent_record(
            person=person,
            basis=consent["basis"],
            given_on=_day(consent["given_on"]),
            given_by=consent.get("given_by", ""),
            decision_maker=consent.get("decision_maker", ""),
            capacity_assessed_on=_day(consent.get("capacity_assessed_on")),
            by=by,
        )
        written["created"]["Consent"].append(row_consent.pk)
        saved.append(row_consent)
    if plan.get("entry"):
        saved.extend(_open(person, plan["entry"], by, written))
    contacts = [PersonContact(role=c["role"], name=c["name"]) for c in plan.get("contacts", [])]
    if contacts:
        added = contacts_add(person=person, contacts=contacts, reason=reason, by=by)
        written["created"]["PersonContact"].extend(c.pk for c in added)
    for part in import_parts():
        if plan.get(part.key):
            record = part.write(person=person, values=plan[part.key], source=reason, by=by)
            written["created"][part.model.__name__].append(record.pk)
            saved.append(record)
    if row.outcome == Outcome.UPDATE:
        saved.append(person)
    for obj in saved:
        _stamp(written, obj)
    row.person_id = person.pk
    written["created"] = dict(written["created"])
    return written


def _json(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def start(register_import: RegisterImport, *, by: User) -> RegisterImport:
    """Queue a checked import to run in the background."""
    from dsr.tasks import run_import_task

    with transaction.atomic():
        locked = RegisterImport.objects.select_for_update().get(pk=register_import.pk)
        if locked.status != Status.CHECKED:
            raise RegisterError("This import has already started.")
        if locked.rows.filter(outcome="").exists():
            raise RegisterError("Check the file before importing it.")
        locked.status = Status.QUEUED
        locked.rows_total = locked.rows.count()
        locked.rows_done = 0
        set_change_reason(locked, "Import started", by=by)
        locked.save()
        transaction.on_commit(lambda: run_import_task.delay(locked.pk))
    return locked


def _prepare(import_id: int) -> Context:
    """What every batch of one run re-checks its rows with, built once for the run: the
    import's columns and words, and the areas of the lead who uploaded it."""
    register_import = RegisterImport.objects.select_related("uploaded_by").get(pk=import_id)
    return Context.build(register_import, local_authority_ids_for(register_import.uploaded_by))


def apply_batch(import_id: int, size: int | None = None, context: Context | None = None) -> bool:
    """Apply the next batch of rows, all or nothing. True while rows remain. `context`, from
    `_prepare`, is shared by the batches of one run (built here when not given)."""
    size = size or settings.DSR_IMPORT_BATCH_ROWS
    with transaction.atomic():
        register_import = RegisterImport.objects.select_for_update().get(pk=import_id)
        if register_import.status not in (Status.QUEUED, Status.RUNNING):
            return False
        context = context or _prepare(import_id)
        by = context.register_import.uploaded_by
        if register_import.status == Status.QUEUED:
            register_import.status = Status.RUNNING
            register_import.started_at = timezone.now()
        rows = list(register_import.rows.filter(applied=False).order_by("row_number")[:size])
        if not rows:
            register_import.status = Status.DONE
            register_import.finished_at = timezone.now()
            set_change_reason(register_import, "Import finished", by=by)
            register_import.save()
            from dsr.imports.files import discard

            discard(register_import.stored_name)
            RegisterImport.objects.filter(pk=import_id).update(file_deleted_at=timezone.now())
            return False
        to_write = [row for row in rows if row.outcome in WRITES]
        plans = check_rows(context, to_write)
        with written_for(register_import.reason), people_changes_gathered():
            for row, plan in zip(to_write, plans, strict=True):
                if plan.outcome != row.outcome or plan.plan != row.plan:
                    row.notes = [
                        *row.notes,
                        "Not imported: the register changed after the check. Check the file "
                        "again to bring this row in.",
                    ]
                    row.outcome = Outcome.REFUSED
                    continue
                row.written = _apply(row, row.plan, by, register_import.reason)
        for row in rows:
            row.applied = True
        store_rows(rows, ["applied", "written", "person", "outcome", "notes"])
        # rows_done moves in the same transaction as the rows' `applied`, so it stays their count.
        register_import.rows_done += len(rows)
        register_import.save(update_fields=["status", "started_at", "rows_done", "updated_at"])
    return True


def run(import_id: int) -> int:
    """Apply every remaining batch; returns how many batches ran. Safe to run again."""
    batches = 0
    context = _prepare(import_id)
    while apply_batch(import_id, context=context):
        batches += 1
    logger.info("import applied import=%s batches=%s", import_id, batches)
    return batches


def is_stalled(register_import: RegisterImport) -> bool:
    """Checking or importing, but no batch finished for DSR_IMPORT_STALL_SECONDS: its worker
    has gone."""
    if register_import.status not in (Status.CHECKING, Status.QUEUED, Status.RUNNING):
        return False
    idle = timezone.now() - register_import.updated_at
    return idle.total_seconds() > settings.DSR_IMPORT_STALL_SECONDS


def resume(register_import: RegisterImport, *, by: User) -> None:
    """Queue a stalled job again: the check (for `by`'s areas), or the import."""
    from dsr.tasks import check_import_task, run_import_task

    if register_import.status == Status.CHECKING:
        check_import_task.delay(register_import.pk, by.pk)
    else:
        run_import_task.delay(register_import.pk)


# --- Undo -------------------------------------------------------------------------------------


def _changed_since(rows: list[ImportRow], finished_at: datetime.datetime | None) -> list[int]:
    """Rows whose records something else has changed since the import wrote them: a record
    saved again (its stamp moved) or gone; a contact or rating added to what it created; a
    contact it added changed after it finished. A query per kind of record, whatever the rows."""
    keys: dict[str, set[int]] = defaultdict(set)
    created: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        for key in row.written.get("stamps", {}):
            model, pk = key.split(":")
            keys[model].add(int(pk))
        for model, ids in row.written.get("created", {}).items():
            created[model].update(ids)
    now = {
        f"{model}:{pk}": stamp.isoformat()
        for model, ids in keys.items()
        for pk, stamp in _model(model).objects.filter(pk__in=ids).values_list("pk", "updated_at")
    }
    contacts_of: dict[int, set[int]] = defaultdict(set)
    for pk, person_id in PersonContact.objects.filter(person_id__in=created["Person"]).values_list(
        "pk", "person_id"
    ):
        contacts_of[person_id].add(pk)
    ratings_of: dict[int, set[int]] = defaultdict(set)
    for pk, entry_id in Rating.objects.filter(entry_id__in=created["RegisterEntry"]).values_list(
        "pk", "entry_id"
    ):
        ratings_of[entry_id].add(pk)
    touched = set(
        PersonContact.objects.filter(pk__in=created["PersonContact"])
        .exclude(updated_at__lte=finished_at or timezone.now())
        .values_list("pk", flat=True)
    )
    changed = []
    for row in rows:
        mine = {model: set(ids) for model, ids in row.written.get("created", {}).items()}
        contacts = mine.get("PersonContact", set())
        if (
            any(now.get(key) != stamp for key, stamp in row.written.get("stamps", {}).items())
            or any(contacts_of[p] - contacts for p in mine.get("Person", ()))
            or any(ratings_of[e] - mine.get("Rating", set()) for e in mine.get("RegisterEntry", ()))
            or contacts & touched
        ):
            changed.append(row.row_number)
    return changed


def undo(register_import: RegisterImport, *, by: User) -> RegisterImport:
    """Remove what the import added and put back what it changed, at once. Raises
    RegisterError, changing nothing, if anything else has changed those records since."""
    with transaction.atomic():
        locked = RegisterImport.objects.select_for_update().get(pk=register_import.pk)
        if locked.status != Status.DONE:
            raise RegisterError("Only a finished import can be undone.")
        rows = list(locked.rows.filter(applied=True).exclude(written={}).order_by("-row_number"))
        changed = _changed_since(rows, locked.finished_at)
        if changed:
            listed = ", ".join(str(n) for n in changed[:10])
            raise RegisterError(
                f"This import cannot be undone: the records from rows {listed} have changed "
                "since it ran."
            )
        try:
            with written_for(f"Undoing import {locked.pk}"), people_changes_gathered():
                for row in rows:
                    _undo_row(row, by)
        except ProtectedError:
            raise RegisterError(
                "This import cannot be undone: other records now refer to people it added."
            ) from None
        locked.status = Status.UNDONE
        locked.undone_at = timezone.now()
        locked.undone_by = by
        set_change_reason(locked, "Import undone", by=by)
        locked.save()
        ImportRow.objects.filter(register_import=locked).update(applied=False)
    logger.info("import undone import=%s by=%s", locked.pk, by.pk)
    return locked


def _delete(model: Any, ids: list[int], by: User) -> None:
    for obj in model.objects.filter(pk__in=ids):
        if hasattr(obj, "history"):
            set_change_reason(obj, "Import undone", by=by)
        obj.delete()


def _undo_row(row: ImportRow, by: User) -> None:
    created = row.written.get("created", {})
    for part in import_parts():
        _delete(part.model, created.get(part.model.__name__, []), by)
    _delete(PersonContact, created.get("PersonContact", []), by)
    Rating.objects.filter(pk__in=created.get("Rating", [])).delete()
    _delete(RegisterEntry, created.get("RegisterEntry", []), by)
    _delete(Admission, created.get("Admission", []), by)
    _delete(Consent, created.get("Consent", []), by)
    _delete(Person, created.get("Person", []), by)
    updated = row.written.get("updated") or {}
    if updated and row.person_id and not created.get("Person"):
        person = Person.objects.get(pk=row.person_id)
        fields = {
            name: datetime.date.fromisoformat(value) if name in _DATES and value else value
            for name, value in updated.items()
        }
        person_update(person=person, by=by, **fields)
    # A rating or an entry taken away moves the person in the escalation queue.
    people_changed([row.person_id])
