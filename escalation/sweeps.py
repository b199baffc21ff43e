"""The escalation sweeps: the rules sweep raises, set-based, an escalation for every rule's
triggers (escalation.triggers); the ladder sweep starts clocks, resolves what no longer holds and
moves up what was not acknowledged in time, then sends the owners' daily digests. The rules sweep
also raises again an escalation resolved while its cause is still there, once the cooling-off
period (DSR_ESCALATION_RERAISE_DAYS) has passed. Both are safe to run twice or at once."""

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from dsr.caching import changed
from dsr.history import set_change_reason
from dsr.models import Rating, RegisterEntry
from escalation import rules
from escalation.models import Escalation, EscalationTransition
from escalation.notifications import (
    notify_escalation_digests,
    notify_escalation_owners,
    notify_queue_repaired,
)
from escalation.queue_order import queue_order_rebuild, queue_order_refresh
from escalation.services import ratings_of, start_clocks
from escalation.triggers import TRIGGERS, Trigger, triggers

logger = logging.getLogger(__name__)


def escalation_rules_sweep(*, today: date | None = None) -> dict[str, int]:
    """Raise, set-based, an escalation for every triggering event of every rule that is on (the
    referral rule runs in the referral deadline sweep). The unique key on (reason, trigger) makes
    a second run, or a resolved escalation's event, raise nothing; a new event raises anew.
    An escalation of a rule that is on, resolved at least DSR_ESCALATION_RERAISE_DAYS ago while
    its cause is still there, is raised again (`_raise_again`). Then start the clocks of
    everything newly raised. Returns the rows raised by rule (and raised again, by rule, under
    "<rule> again")."""
    today = today or timezone.localdate()
    now = timezone.now()
    counts: dict[str, int] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            for trigger in triggers():
                if not rules.rule(trigger.name).on:
                    continue
                if trigger.swept:
                    counts[trigger.name] = _raise(cursor, trigger, today, now)
                again = _raise_again(cursor, trigger, now)
                if again:
                    counts[f"{trigger.name} again"] = again
            write_raised_rows(cursor, now)
        start_clocks()
    logger.info("escalation rules sweep %s", counts)
    return counts


def escalation_raise_rule(cursor: CursorWrapper, *, rule: str, today: date) -> int:
    """Raise, set-based and in the caller's transaction, the rule `rule` (an entry another app
    defined in escalation.triggers with swept=False) for today's triggers: the hook through
    which that app's own sweep hands a breach over. Nothing when the rule is off. Their clocks
    start, and their owners hear, at the next escalation ladder sweep."""
    if not rules.rule(rule).on:
        return 0
    now = timezone.now()
    raised = _raise(cursor, TRIGGERS[rule], today, now)
    write_raised_rows(cursor, now)
    return raised


def _raise(cursor: CursorWrapper, trigger: Trigger, today: date, now: datetime) -> int:
    rule = rules.rule(trigger.name)
    source, params = trigger.source(today, rule.days)
    cursor.execute(
        "INSERT INTO escalation_escalation (reason, trigger_type, trigger_id,"
        " person_id, local_authority_id, level, status, raised_at, note)"
        f" SELECT %s, %s, {trigger.trigger}, {trigger.person}, {trigger.local_authority}, %s,"
        f" 'open', %s, %s {source}"
        " ON CONFLICT (reason, trigger_type, trigger_id, raise_number) DO NOTHING",
        [trigger.name, trigger.trigger_type, rule.level, now, trigger.note, *params],
    )
    return cursor.rowcount


def with_cause(escalations: QuerySet) -> QuerySet:
    """`escalations` annotated with what the triggers' `holds` conditions read: `red_since`,
    the day the person's open entry turned red, and `trigger_entry`, a rating's entry."""
    return escalations.annotate(
        red_since=Subquery(
            RegisterEntry.objects.filter(
                person=OuterRef("person"), status=RegisterEntry.Status.OPEN
            ).values("rating_since")[:1]
        ),
        trigger_entry=Subquery(
            Rating.objects.filter(pk=OuterRef("trigger_id")).values("entry_id")[:1]
        ),
    )


def _raise_again(cursor: CursorWrapper, trigger: Trigger, now: datetime) -> int:
    """Raise again, as the next raise number linked to it, the last escalation of each event of
    `trigger`'s rule that was resolved at least DSR_ESCALATION_RERAISE_DAYS ago while its cause
    is still there (for a rule whose cause is the person's state, only the person's latest
    escalation of the rule: a later one, a new red spell's say, stands for it). The unique key
    on (reason, trigger, raise number) makes two sweeps at once raise it again once."""
    later = Escalation.objects.filter(
        reason=OuterRef("reason"),
        trigger_type=OuterRef("trigger_type"),
        trigger_id=OuterRef("trigger_id"),
        raise_number__gt=OuterRef("raise_number"),
    )
    resolved = (
        with_cause(
            Escalation.objects.filter(
                reason=trigger.name,
                status=Escalation.Status.RESOLVED,
                resolved_at__lte=now - timedelta(days=rules.reraise_days()),
            )
        )
        .filter(trigger.holds())
        .exclude(Exists(later))
    )
    if trigger.per_person:
        resolved = resolved.exclude(
            Exists(
                Escalation.objects.filter(
                    Q(raised_at__gt=OuterRef("raised_at"))
                    | Q(raised_at=OuterRef("raised_at"), pk__gt=OuterRef("pk")),
                    reason=OuterRef("reason"),
                    person=OuterRef("person"),
                )
            )
        )
    ids = list(resolved.values_list("pk", flat=True))
    if not ids:
        return 0
    # One placeholder per id (not ANY(%s)): the same SQL runs on SQLite for `make run`.
    placeholders = ", ".join(["%s"] * len(ids))
    cursor.execute(
        "INSERT INTO escalation_escalation (reason, trigger_type, trigger_id, raise_number,"  # noqa: S608
        # (only placeholders are joined in: the values are parameters)
        " previous_id, person_id, local_authority_id, level, status, raised_at, note)"
        " SELECT o.reason, o.trigger_type, o.trigger_id, o.raise_number + 1, o.id, o.person_id,"
        " o.local_authority_id, %s, 'open', %s, %s FROM escalation_escalation o"
        f" WHERE o.id IN ({placeholders})"  # nosec B608
        " ON CONFLICT (reason, trigger_type, trigger_id, raise_number) DO NOTHING",
        [
            rules.rule(trigger.name).level,
            now,
            "Raised again by the escalation rules: the cause was still there after it was "
            "resolved.",
            *ids,
        ],
    )
    return cursor.rowcount


def write_raised_rows(cursor: Any, now: Any) -> int:
    """The "raised" transition row and the first history row of every escalation a sweep
    inserted in SQL just now (the sweep stamps them with `now`; one transition row each: a
    partial unique index backs it). Set-based, like the insert."""
    _write_raised_history(cursor, now)
    # Rows inserted in SQL send no signals: kept queue counts are counted afresh after commit.
    changed("escalation")
    cursor.execute(
        "INSERT INTO escalation_escalationtransition (escalation_id, from_status, to_status,"
        " from_level, to_level, by_id, at, reason) SELECT e.id, '', 'open', NULL, e.level, NULL,"
        " %s, 'Raised by the sweep.' FROM escalation_escalation e WHERE e.raised_at = %s"
        " AND NOT EXISTS"
        " (SELECT 1 FROM escalation_escalationtransition t WHERE t.escalation_id = e.id)"
        " ON CONFLICT (escalation_id) WHERE from_status = '' DO NOTHING",
        [now, now],
    )
    written = cursor.rowcount
    queue_order_refresh(
        # Raised just now, with no clock yet (an index on status and deadline finds them).
        Escalation.objects.filter(
            status=Escalation.Status.OPEN, ack_due_on__isnull=True, raised_at=now
        ).values_list("person_id", flat=True)
    )
    return written


RAISED_BY_SWEEP = "Raised by a sweep"


def _write_raised_history(cursor: Any, now: Any) -> int:
    """History rows ("+", named for the sweep, no user) for the escalations inserted in SQL
    just now that have none yet: the SQL insert bypasses simple-history's signals."""
    quote = connection.ops.quote_name
    history_model = Escalation.history.model  # type: ignore[attr-defined]
    kept = {field.column for field in history_model._meta.concrete_fields}
    # The columns the history keeps (some, like told_level, are left out of it).
    columns = [f.column for f in Escalation._meta.concrete_fields if f.column in kept]
    history_table = quote(history_model._meta.db_table)
    # Table and column names come from the model, quoted; the values are parameters.
    cursor.execute(
        f"INSERT INTO {history_table} ({', '.join(quote(c) for c in columns)}, history_date,"  # noqa: S608
        " history_change_reason, history_type, history_user_id, history_actor_email)"  # nosec B608
        f" SELECT {', '.join('e.' + quote(c) for c in columns)}, %s, %s, '+', NULL, ''"
        " FROM escalation_escalation e WHERE e.raised_at = %s"
        f" AND NOT EXISTS (SELECT 1 FROM {history_table} h WHERE h.id = e.id)",
        [now, RAISED_BY_SWEEP, now],
    )
    return cursor.rowcount


def _close_cleared(now: Any) -> int:
    """Resolve, as the rules, every live escalation whose cause has cleared (the rating was
    reviewed, the action done, the person discharged...): it leaves the queue and never climbs
    the ladder. A row per escalation says why."""
    closed = 0
    for trigger in triggers():
        reason, holds, why = trigger.name, trigger.holds(), trigger.cleared
        cleared = list(
            with_cause(
                Escalation.objects.select_for_update(skip_locked=True).live().filter(reason=reason)
            ).exclude(holds)
        )
        outcome = f"Closed by the rules: {why}."
        for escalation in cleared:
            EscalationTransition.objects.create(
                escalation=escalation,
                from_status=escalation.status,
                to_status=Escalation.Status.RESOLVED,
                from_level=escalation.level,
                to_level=escalation.level,
                reason=outcome,
            )
            escalation.status = Escalation.Status.RESOLVED
            escalation.resolved_at = now
            escalation.outcome = outcome
            set_change_reason(escalation, "Resolved by the rules", by=None)
            escalation.save()
        queue_order_refresh(e.person_id for e in cleared)
        closed += len(cleared)
    return closed


def escalation_ladder_sweep(*, today: date | None = None) -> dict[str, int]:
    """Start the clock of anything raised without one; resolve what no longer holds; then move
    every escalation still not acknowledged after its deadline up one level (to the top at
    most), with a new deadline from today; then send the owners' daily digests (what is new to
    them, and a reminder of top-level escalations past their deadline). Rows are claimed with
    SKIP LOCKED, so two sweeps at once move each escalation once."""
    today = today or timezone.localdate()
    moved: list[Escalation] = []
    with transaction.atomic():
        started = start_clocks()
        cleared = _close_cleared(timezone.now())
        due = list(
            Escalation.objects.select_for_update(skip_locked=True).filter(
                status=Escalation.Status.OPEN,
                ack_due_on__lt=today,
                level__lt=rules.top_level(),
            )
        )
        ratings = ratings_of(e.person_id for e in due if e.person_id)
        for escalation in due:
            from_level = escalation.level
            escalation.level += 1
            escalation.ack_due_on = rules.ack_due(today, ratings.get(escalation.person_id, ""))
            set_change_reason(
                escalation, f"Not acknowledged: moved to level {escalation.level}", by=None
            )
            escalation.save()
            EscalationTransition.objects.create(
                escalation=escalation,
                from_status=escalation.status,
                to_status=escalation.status,
                from_level=from_level,
                to_level=escalation.level,
                reason="Not acknowledged by the deadline: moved to "
                f"{rules.level_name(escalation.level)}.",
            )
            moved.append(escalation)
        queue_order_refresh(e.person_id for e in moved)
        notify_escalation_owners(moved, "escalation_level_up", ratings=ratings)
        digests = notify_escalation_digests(today)
    counts = {"started": started, "cleared": cleared, "moved_up": len(moved), "digests": digests}
    logger.info("escalation ladder sweep %s", counts)
    return counts


def escalation_queue_reconcile() -> dict[str, int]:
    """Work every place in the escalation queue out afresh from the escalations, the register
    and the people, repair any difference, and report it: an error in the log (ids only) and
    an email to each DSR lead (HZ-19: a person rated Red missing from a manager's queue would
    not be seen). Returns the differences found and repaired by kind; all zero when the queue
    was right. Safe to run at any time: people who change while it runs are worked out again
    under their row lock before anything is called a difference."""
    found = queue_order_rebuild()
    counts = found.as_counts()
    if not found.count:
        logger.info("escalation queue check: in step with the records")
        return counts
    people = sorted({person for _level, person in found.missing + found.extra + found.changed})
    logger.error(
        "escalation queue check: out of step with the records, repaired %s people=%s",
        counts,
        people[:100],
    )
    notify_queue_repaired(counts, timezone.now())
    return counts
