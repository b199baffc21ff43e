"""Records management: everything held about a person, and the retention schedule.

- Subject access (UK GDPR Art 15; RELIABILITY H-6): `person_records_export` writes one ZIP
  holding a JSON file with every row about a person in every table, history rows included, and
  the files stored with those rows.
- Retention (storage limitation; the NHS Records Management Code; ASVS v5.0.0-14.2.7;
  RELIABILITY H-7): `retention_run` removes records past their period with their history rows,
  outbox rows and stored files, and writes one RetentionRun row per rule.

Both read one map of the schema, `record_graph(root)`, worked out from the models' relations
rather than listed by hand, so a model added later with a foreign key to a person (or to anything
about a person) is exported and removed with them without a change here:

- a foreign key into the graph brings a model in (Consent.person, Rating.entry,
  ReferralContact.referral, Action.cetr);
- a history model (django-simple-history) is linked to its model by the object's id, and through
  its own copies of the foreign keys, so the history of rows already deleted is found too;
- a pair of fields `<name>_type` and `<name>_id` points at a row of any model by its label
  ("referrals.referral", 12): Notification.subject, Reminder.subject, Escalation.trigger.

Rows are collected by id, a table at a time, parents before children; deletes run children
first, one DELETE per table per batch of people or referrals. No row is handled one by one in
Python, except the stored files, which the storage deletes one at a time after the commit.
"""

import functools
import graphlib
import io
import json
import logging
import os
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as day_start
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from dsr.deadlines import months_later
from dsr.models import (
    AccessEvent,
    Admission,
    Notification,
    Person,
    RegisterEntry,
    RetentionRun,
    User,
)

logger = logging.getLogger(__name__)

PERSON = "dsr.Person"
# Ids per query (well inside every database's limit on parameters), and roots per batch.
CHUNK = 500
ROOT_BATCH = 200


# --- The record graph ------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """How a child's rows hang off a parent's: the child's column holding the parent's id, or
    (for a pointer) the prefix of its `<prefix>_type` and `<prefix>_id` fields."""

    parent: type[models.Model]
    field: str
    pointer: bool = False

    def condition(self, ids: list[Any]) -> Q:
        if self.pointer:
            return Q(
                **{
                    f"{self.field}_type": self.parent._meta.label_lower,
                    f"{self.field}_id__in": ids,
                }
            )
        return Q(**{f"{self.field}__in": ids})


@dataclass(frozen=True)
class Node:
    model: type[models.Model]
    links: tuple[Link, ...]

    @property
    def table(self) -> str:
        return self.model._meta.db_table


@dataclass(frozen=True)
class RecordGraph:
    """Every model holding rows about a root model's rows: the root first, and each model
    after every model it links to."""

    root: type[models.Model]
    nodes: tuple[Node, ...]

    @property
    def models(self) -> list[type[models.Model]]:
        return [node.model for node in self.nodes]


@functools.cache
def _models() -> tuple[type[models.Model], ...]:
    found = apps.get_models(include_auto_created=True)
    return tuple(
        sorted(
            (m for m in found if m._meta.managed and not m._meta.proxy), key=lambda m: m._meta.label
        )
    )


def _history_base(model: type[models.Model]) -> type[models.Model] | None:
    """The model a django-simple-history model records, or None."""
    return getattr(model, "instance_type", None)


def _foreign_keys(model: type[models.Model]) -> list[Any]:
    return [
        f
        for f in model._meta.concrete_fields
        if f.is_relation and (f.many_to_one or f.one_to_one) and f.related_model is not None
    ]


def _pointers(model: type[models.Model]) -> list[str]:
    """Prefixes of the `<prefix>_type` (text) and `<prefix>_id` (integer) pairs on `model`."""
    fields = {f.name: f for f in model._meta.concrete_fields}
    prefixes = []
    for name, f in fields.items():
        partner = fields.get(name.removesuffix("_type") + "_id")
        if (
            name.endswith("_type")
            and isinstance(f, models.CharField)
            and isinstance(partner, models.IntegerField)
            and not partner.is_relation
            and not partner.primary_key  # a history row's history_type and history_id
        ):
            prefixes.append(name.removesuffix("_type"))
    return prefixes


@functools.cache
def _reaching(target: type[models.Model]) -> frozenset[type[models.Model]]:
    """`target` and every model with a chain of foreign keys to it."""
    found = {target}
    grew = True
    while grew:
        grew = False
        for model in _models():
            if model not in found and any(
                f.related_model in found and f.related_model is not model
                for f in _foreign_keys(model)
            ):
                found.add(model)
                grew = True
    return frozenset(found)


def _may_be_pointed_at(target: type[models.Model], by: type[models.Model]) -> bool:
    """Whether a pointer on `by` may name a row of `target`. Not: itself, a history model, a
    model below `by` (its own transitions and notes), or a pure pointer table (a message or
    reminder, which has no foreign key chain to a person): keeping those out keeps the graph
    free of cycles."""
    pure_pointer = bool(_pointers(target)) and target not in _reaching(Person)
    return not (
        target is by or _history_base(target) is not None or target in _reaching(by) or pure_pointer
    )


def _links(model: type[models.Model], members: list[type[models.Model]]) -> tuple[Link, ...]:
    links: list[Link] = []
    base = _history_base(model)
    if base in members:
        links.append(Link(base, base._meta.pk.attname))
    for f in _foreign_keys(model):
        # A model's link to itself (a referral marked as a duplicate of another) would bring
        # in rows about someone else: it is never followed.
        if f.related_model in members and f.related_model not in (model, base):
            links.append(Link(f.related_model, f.attname))
    for prefix in _pointers(model):
        links.extend(
            Link(target, prefix, pointer=True)
            for target in members
            if _may_be_pointed_at(target, model)
        )
    return tuple(links)


@functools.cache
def record_graph(root: str) -> RecordGraph:
    """The map of every table holding rows about rows of `root` ("dsr.Person"), worked out from
    the models' relations. Raises ImproperlyConfigured if the links form a cycle."""
    root_model = apps.get_model(root)
    links: dict[type[models.Model], tuple[Link, ...]] = {root_model: ()}
    grew = True
    while grew:
        grew = False
        for model in _models():
            if model is root_model:
                continue
            found = _links(model, list(links))
            if found and found != links.get(model):
                links[model] = found
                grew = True
    sorter = graphlib.TopologicalSorter(
        {model: {link.parent for link in found} for model, found in links.items()}
    )
    try:
        ordered = list(sorter.static_order())
    except graphlib.CycleError as exc:
        raise ImproperlyConfigured(f"The records about {root} link in a cycle: {exc}") from exc
    return RecordGraph(root=root_model, nodes=tuple(Node(model, links[model]) for model in ordered))


def _chunks(ids: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    items = sorted(ids)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def collect(graph: RecordGraph, root_ids: Iterable[Any]) -> dict[type[models.Model], set[Any]]:
    """The ids of every row about the roots `root_ids`, by model: one query per link and chunk
    of parent ids, parents before children."""
    found: dict[type[models.Model], set[Any]] = {}
    for node in graph.nodes:
        manager = node.model._base_manager
        ids: set[Any] = set()
        if node.model is graph.root:
            for chunk in _chunks(root_ids):
                ids.update(manager.filter(pk__in=chunk).values_list("pk", flat=True))
        for link in node.links:
            for chunk in _chunks(found.get(link.parent, ())):
                ids.update(manager.filter(link.condition(chunk)).values_list("pk", flat=True))
        found[node.model] = ids
    return found


@dataclass(frozen=True)
class StoredFile:
    table: str
    row: Any
    name: str
    storage: Storage

    @property
    def archive_path(self) -> str:
        return f"files/{self.table}/{self.row}-{os.path.basename(self.name)}"


def _stored_files(graph: RecordGraph, found: dict) -> list[StoredFile]:
    files = []
    for node in graph.nodes:
        fields = [f for f in node.model._meta.concrete_fields if isinstance(f, models.FileField)]
        if not fields:
            continue
        for chunk in _chunks(found[node.model]):
            rows = node.model._base_manager.filter(pk__in=chunk).values_list(
                "pk", *[f.attname for f in fields]
            )
            for pk, *names in rows:
                files.extend(
                    StoredFile(node.table, pk, name, f.storage)
                    for f, name in zip(fields, names, strict=True)
                    if name
                )
    return files


# --- Subject access ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectAccessExport:
    filename: str
    content: bytes
    rows: dict[str, int]  # rows per table
    files: int
    seconds: float


def _serialised(model: type[models.Model], ids: set[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(ids):
        objects = model._base_manager.filter(pk__in=chunk).order_by("pk")
        rows.extend(
            {"pk": row["pk"], **row["fields"]} for row in serializers.serialize("python", objects)
        )
    return rows


def person_records_export(
    *, person: Person, by: User, purpose: str, path: str
) -> SubjectAccessExport:
    """Everything held about `person`, as one ZIP: `records.json` (every row about them in every
    table of the record graph, history rows included, under each table's name) and `files/` (the
    files stored with those rows). Writes one access-log row (EXPORT_PERSON, with the purpose)
    first, in the same transaction, so the export includes its own record. A stored file that
    cannot be read is listed as missing rather than stopping the export."""
    started = time.monotonic()
    with transaction.atomic():
        AccessEvent.objects.create(
            user=by,
            person=person,
            action=AccessEvent.Action.EXPORT_PERSON,
            path=path[:300],
            detail={"purpose": purpose},
        )
        graph = record_graph(PERSON)
        found = collect(graph, [person.pk])
        tables = {
            node.table: _serialised(node.model, found[node.model])
            for node in graph.nodes
            if found[node.model]
        }
        files = _stored_files(graph, found)
    now = timezone.localtime()
    folder = f"subject-access-{person.pk}-{now:%Y-%m-%d}"
    listed = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for stored in files:
            try:
                with stored.storage.open(stored.name, "rb") as handle:
                    archive.writestr(f"{folder}/{stored.archive_path}", handle.read())
                missing = False
            except OSError:
                logger.warning("stored file missing table=%s row=%s", stored.table, stored.row)
                missing = True
            listed.append(
                {
                    "table": stored.table,
                    "row": stored.row,
                    "path": "" if missing else stored.archive_path,
                    "missing": missing,
                }
            )
        document = {
            "person_id": person.pk,
            "generated_at": now,
            "generated_by_user_id": by.pk,
            "purpose": purpose,
            "tables": tables,
            "files": listed,
        }
        archive.writestr(
            f"{folder}/records.json",
            json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        )
    rows = {table: len(found_rows) for table, found_rows in tables.items()}
    logger.info(
        "subject access export person=%s by=%s tables=%s rows=%s files=%s",
        person.pk,
        by.pk,
        len(rows),
        sum(rows.values()),
        len(files),
    )
    return SubjectAccessExport(
        filename=f"{folder}.zip",
        content=buffer.getvalue(),
        rows=rows,
        files=len(files),
        seconds=time.monotonic() - started,
    )


# --- Retention ---------------------------------------------------------------------------------


class RetentionError(Exception):
    pass


@dataclass(frozen=True)
class RetentionRule:
    """One line of the retention schedule: `cutoff(now)` is the moment before which its records
    are past their period; `apply(cutoff)` removes them and returns rows per table."""

    kind: str
    cutoff: Callable[[datetime], datetime]
    apply: Callable[[datetime], dict[str, int]]


# Conditions on Person that keep someone past the end of their time on the register (a live
# referral about them), contributed by other apps in AppConfig.ready(): each takes the cutoff.
PersonHold = Callable[[datetime], Q]
_PERSON_HOLDS: list[PersonHold] = []
_RULES: list[RetentionRule] = []


def register_person_hold(hold: PersonHold) -> None:
    if hold not in _PERSON_HOLDS:
        _PERSON_HOLDS.append(hold)


def register_retention_rule(rule: RetentionRule) -> None:
    if rule.kind not in {known.kind for known in _RULES}:
        _RULES.append(rule)


def _day_start(day: Any) -> datetime:
    # Midnight exists on every London day (the clocks change at 01:00 and 02:00).
    return timezone.make_aware(datetime.combine(day, day_start.min))


def years_before(now: datetime, years: int) -> datetime:
    """The start of the same London day `years` years before `now` (29 February goes to 28)."""
    return _day_start(months_later(timezone.localdate(now), -12 * years))


def days_before(now: datetime, days: int) -> datetime:
    return _day_start(timezone.localdate(now) - timedelta(days=days))


def records_remove(*, root: str, due: QuerySet) -> dict[str, int]:
    """Delete the rows of `due` (rows of the `root` model) and every row about them in every
    table of its record graph, history rows, outbox rows and reminders included: one DELETE per
    table for each batch of ROOT_BATCH roots, children first. A nullable reference to a removed
    row from a row that stays (a referral marked as its duplicate) is cleared. The files stored
    with the rows are deleted from storage once the transaction commits.

    Runs inside the retention transaction (`retention_run`), which the append-only triggers on
    history, access-log and transition tables require. Returns rows removed per table, with
    "stored files" for the files.
    """
    graph = record_graph(root)
    removed: Counter[str] = Counter()
    files: list[StoredFile] = []
    ids = list(due.order_by("pk").values_list("pk", flat=True))
    for batch in _chunks(ids, ROOT_BATCH):
        found = collect(graph, batch)
        files.extend(_stored_files(graph, found))
        _detach_references(graph, found)
        for node in reversed(graph.nodes):
            queryset = node.model._base_manager.all()
            for chunk in _chunks(found[node.model]):
                # A plain DELETE: Django's collector would load each row and refuse PROTECT
                # foreign keys that the same transaction is deleting anyway.
                removed[node.table] += queryset.filter(pk__in=chunk)._raw_delete(queryset.db)
    if files:
        removed["stored files"] = len(files)
        transaction.on_commit(functools.partial(_delete_files, files))
    return {table: count for table, count in removed.items() if count}


def _detach_references(graph: RecordGraph, found: dict) -> None:
    """Clear nullable references to rows about to go from rows that stay, with their history
    rows (a referral marked as a duplicate of a removed one: a handful of rows at most)."""
    links = {(node.model, link.field) for node in graph.nodes for link in node.links}
    for model in _models():
        for f in _foreign_keys(model):
            ids = found.get(f.related_model)
            if not (ids and f.null and f.db_constraint and (model, f.attname) not in links):
                continue
            going = found.get(model, set())
            for chunk in _chunks(ids):
                rows = [
                    row
                    for row in model._base_manager.filter(**{f"{f.attname}__in": chunk})
                    if row.pk not in going
                ]
                if not rows:
                    continue
                for row in rows:
                    setattr(row, f.name, None)
                if _history_base(model) is None and hasattr(model, "history"):
                    bulk_update_with_history(rows, model, [f.name], default_change_reason=DETACHED)
                else:
                    model._base_manager.bulk_update(rows, [f.name])


DETACHED = "Retention: the record it pointed to was removed"


def _delete_files(files: list[StoredFile]) -> None:
    for stored in files:
        try:
            stored.storage.delete(stored.name)
        except OSError:
            logger.warning("stored file not deleted table=%s row=%s", stored.table, stored.row)


def people_past_retention(cutoff: datetime) -> QuerySet[Person]:
    """People who have been on the register, whose every entry closed before `cutoff`, and who
    have had nothing since: no open admission, no change to their details, and nothing another
    app holds them for (`register_person_hold`)."""
    entries = RegisterEntry.objects.filter(person=OuterRef("pk"))
    recent_or_open = entries.filter(
        Q(status=RegisterEntry.Status.OPEN) | Q(closed_on__gte=timezone.localdate(cutoff))
    )
    in_hospital = Admission.objects.filter(person=OuterRef("pk"), discharged_on__isnull=True)
    keep = Q(Exists(recent_or_open)) | Q(Exists(in_hospital)) | Q(updated_at__gte=cutoff)
    for hold in _PERSON_HOLDS:
        keep |= hold(cutoff)
    return Person.objects.filter(Exists(entries)).exclude(keep)


def _closed_records_remove(cutoff: datetime) -> dict[str, int]:
    return records_remove(root=PERSON, due=people_past_retention(cutoff))


def _access_log_remove(cutoff: datetime) -> dict[str, int]:
    old = AccessEvent.objects.filter(at__lt=cutoff)
    count = old._raw_delete(old.db)
    return {AccessEvent._meta.db_table: count} if count else {}


REMOVED = "Removed under the retention schedule"
REMOVED_EMAIL = "removed@retention.invalid"


def _outbox_anonymise(cutoff: datetime) -> dict[str, int]:
    """Sent (or cancelled) messages older than the period lose the recipient's name, address
    and the message's content; the row stays, so who was told, how and when is still shown,
    and the sweeps' unique keys still stop the same reminder being written again. The address
    columns get a marker, as the table requires an address for each channel."""
    sent = Q(status=Notification.Status.SENT, sent_at__lt=cutoff) | Q(
        status=Notification.Status.CANCELLED, created_at__lt=cutoff
    )
    count = (
        Notification.objects.filter(sent)
        .exclude(recipient_name=REMOVED)
        .update(
            recipient_name=REMOVED,
            email=Case(
                When(channel=Notification.Channel.EMAIL, then=Value(REMOVED_EMAIL)),
                default=Value(""),
            ),
            postal_address=Case(
                When(channel=Notification.Channel.LETTER, then=Value(REMOVED)),
                default=Value(""),
            ),
            context={},
        )
    )
    return {Notification._meta.db_table: count} if count else {}


OWN_RULES = [
    RetentionRule(
        kind=RetentionRun.Kind.CLOSED_RECORDS,
        cutoff=lambda now: years_before(now, settings.DSR_RETENTION_CLOSED_RECORD_YEARS),
        apply=_closed_records_remove,
    ),
    RetentionRule(
        kind=RetentionRun.Kind.ACCESS_LOG,
        cutoff=lambda now: years_before(now, settings.DSR_RETENTION_ACCESS_LOG_YEARS),
        apply=_access_log_remove,
    ),
    RetentionRule(
        kind=RetentionRun.Kind.OUTBOX,
        cutoff=lambda now: days_before(now, settings.DSR_RETENTION_OUTBOX_DAYS),
        apply=_outbox_anonymise,
    ),
]


def _allow_retention_changes() -> None:
    """History, access-log and transition rows are append-only: database triggers refuse to
    change or delete them unless the transaction has set `dsr.retention` (migration 0007). The
    third argument makes the setting end with this transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('dsr.retention', 'on', true)")


def retention_run(*, now: datetime | None = None) -> list[RetentionRun]:
    """Apply each rule of the retention schedule once, each in its own transaction, and write a
    RetentionRun row for it (also when it removed nothing) in that transaction: a rule that
    fails removes nothing and records nothing, and the others still run; RetentionError then
    names the failed rules. Idempotent: a second run finds nothing more to remove. Returns the
    RetentionRun rows written."""
    now = now or timezone.now()
    runs = []
    failed = []
    for rule in [*OWN_RULES, *_RULES]:
        cutoff = rule.cutoff(now)
        try:
            with transaction.atomic():
                _allow_retention_changes()
                removed = rule.apply(cutoff)
                run = RetentionRun.objects.create(
                    kind=rule.kind,
                    ran_at=now,
                    cutoff=cutoff,
                    removed=removed,
                    total=sum(removed.values()),
                )
        except Exception:
            logger.exception("retention rule failed kind=%s", rule.kind)
            failed.append(rule.kind)
            continue
        logger.info("retention rule applied kind=%s removed=%s", rule.kind, removed)
        runs.append(run)
    if failed:
        raise RetentionError(f"Retention rules failed: {', '.join(failed)}.")
    return runs


def retention_runs_recent(limit: int = 50) -> list[RetentionRun]:
    return list(RetentionRun.objects.all()[:limit])
