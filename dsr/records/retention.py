"""Retention (RELIABILITY H-7): records past their period removed with their history, outbox
rows and files, one RetentionRun row per rule."""

import functools
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as day_start
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from dsr.deadlines import months_later
from dsr.models import (
    AccessEvent,
    Admission,
    Notification,
    Person,
    Placement,
    RegisterEntry,
    RetentionRun,
)
from dsr.records.graph import (
    PERSON,
    ROOT_BATCH,
    RecordGraph,
    StoredFile,
    chunks,
    collect,
    foreign_keys,
    graph_models,
    history_base,
    record_graph,
    stored_files,
)

logger = logging.getLogger(__name__)


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
    for batch in chunks(ids, ROOT_BATCH):
        found = collect(graph, batch)
        files.extend(stored_files(graph, found))
        _detach_references(graph, found)
        for node in reversed(graph.nodes):
            queryset = node.model._base_manager.all()
            for chunk in chunks(found[node.model]):
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
    for model in graph_models():
        for f in foreign_keys(model):
            ids = found.get(f.related_model)
            if not (ids and f.null and f.db_constraint and (model, f.attname) not in links):
                continue
            going = found.get(model, set())
            for chunk in chunks(ids):
                rows = [
                    row
                    for row in model._base_manager.filter(**{f"{f.attname}__in": chunk})
                    if row.pk not in going
                ]
                if not rows:
                    continue
                for row in rows:
                    setattr(row, f.name, None)
                if history_base(model) is None and hasattr(model, "history"):
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
    have had nothing since: no open admission, no placement open or ended since, no change to
    their details, and nothing another app holds them for (`register_person_hold`)."""
    entries = RegisterEntry.objects.filter(person=OuterRef("pk"))
    recent_or_open = entries.filter(
        Q(status=RegisterEntry.Status.OPEN) | Q(closed_on__gte=timezone.localdate(cutoff))
    )
    in_hospital = Admission.objects.filter(person=OuterRef("pk"), discharged_on__isnull=True)
    # A placement or care package still paid for, or ended within the period, is the ICB's
    # business with the person still: their record is kept as for a stay in hospital.
    placed = Placement.objects.filter(person=OuterRef("pk")).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=timezone.localdate(cutoff))
    )
    keep = (
        Q(Exists(recent_or_open))
        | Q(Exists(in_hospital))
        | Q(Exists(placed))
        | Q(updated_at__gte=cutoff)
    )
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
REMOVED_PHONE = "removed"


def _outbox_anonymise(cutoff: datetime) -> dict[str, int]:
    """Sent (or cancelled) messages older than the period lose the recipient's name, address or
    phone number, the message's content and any note of how staff dealt with it; the row stays,
    so who was told, how and when is still shown, and the sweeps' unique keys still stop the
    same reminder being written again. The address columns get a marker, as the table requires
    an address for each channel."""
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
            phone=Case(
                When(channel=Notification.Channel.SMS, then=Value(REMOVED_PHONE)),
                default=Value(""),
            ),
            context={},
            dealt_with_note="",
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
