"""Adding to the outbox: the one way any app owes someone a message.

A message is a row in `Notification`, written in the same transaction as the decision or sweep
that owes it (RELIABILITY.md section G); delivery (`dsr.notifications`) claims and sends rows.
Apps never build rows themselves: each app's `notifications.py` has a `notify_<event>` function
that describes its messages with `message()` and hands them to `outbox_add()`, or, for a
set-based sweep, describes one message per row of an SQL source with `outbox_add_selected()`.
Both write in the caller's transaction and queue delivery once it commits, so a writer cannot
forget to.

Queueing is only a doorbell: the rows are the work, and a broker that cannot be reached is
logged, never turned into an error for a change that was saved (the delivery sweep sends what is
waiting).
"""

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from celery import Task
from django.db import transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from dsr.exceptions import RegisterError
from dsr.models import Notification
from dsr.nhsuk.validators import postcode_in, uk_mobile

logger = logging.getLogger(__name__)

# The most messages one delivery task sends before it hands over to the next task.
BATCH = 500


def message(
    *,
    subject_type: str,
    subject_id: int,
    kind: str,
    recipient_key: str,
    recipient_name: str,
    recipient_role: str = "",
    email: str = "",
    postal_address: str = "",
    letter: bool = False,
    phone: str = "",
    text: bool = False,
    local_authority_id: int | None = None,
    accessible_format: str = Notification.Format.STANDARD,
    context: dict[str, Any] | None = None,
) -> Notification:
    """One message, not yet written: by letter to `postal_address` when `letter`, by text message
    to the mobile `phone` when `text`, otherwise by email to `email` (the other addresses are
    left off the row). (`subject_type`, `subject_id`, `kind`, `recipient_key`) is its unique key.
    A letter to an address without a postcode is refused (RegisterError): it could not be
    posted; so is a text message to a number that is not a UK mobile."""
    if letter and not postcode_in(postal_address):
        raise RegisterError(
            f"The postal address for {recipient_name} has no postcode on its last line, so a "
            "letter cannot be posted: add the postcode."
        )
    if text:
        mobile = uk_mobile(phone)
        if not mobile:
            raise RegisterError(
                f"The phone number for {recipient_name} is not a UK mobile number, so a text "
                "message cannot be sent: correct it."
            )
        channel = Notification.Channel.SMS
    else:
        mobile = ""
        channel = Notification.Channel.LETTER if letter else Notification.Channel.EMAIL
    return Notification(
        subject_type=subject_type,
        subject_id=subject_id,
        local_authority_id=local_authority_id,
        kind=kind,
        recipient_key=recipient_key,
        recipient_name=recipient_name,
        recipient_role=recipient_role,
        channel=channel,
        email=email if channel == Notification.Channel.EMAIL else "",
        postal_address=postal_address if channel == Notification.Channel.LETTER else "",
        phone=mobile,
        accessible_format=accessible_format,
        context=context or {},
    )


def outbox_add(
    messages: Iterable[Notification], *, ignore_conflicts: bool = False
) -> list[Notification]:
    """Write `messages` (from `message()`) and queue their delivery after commit.

    A message whose unique key is already in the outbox raises IntegrityError, unless
    `ignore_conflicts`, when it is skipped: a sweep or a retried job that owes the same message
    again adds nothing. Returns the messages (with ids only when conflicts are not ignored).
    """
    rows = list(messages)
    if not rows:
        return rows
    Notification.objects.bulk_create(rows, ignore_conflicts=ignore_conflicts)
    deliver_after_commit(len(rows))
    return rows


class Sql:
    """An SQL expression over the source rows of `outbox_add_selected`, not a value, with the
    parameters of its `%s` placeholders."""

    def __init__(self, expression: str, *params: Any) -> None:
        self.expression = expression
        self.params = params


# The columns the outbox fills in every row it inserts in SQL, and their values unless given.
_SELECTED_DEFAULTS: dict[str, Any] = {
    "local_authority_id": None,
    "recipient_role": "",
    "channel": Notification.Channel.EMAIL.value,
    "email": "",
    "postal_address": "",
    "accessible_format": Notification.Format.STANDARD.value,
    "context": "{}",
    "status": Notification.Status.PENDING.value,
    "attempts": 0,
    "error": "",
    "provider_reference": "",
    "cancelled_reason": "",
}


def outbox_add_selected(
    cursor: CursorWrapper,
    *,
    source: str,
    params: Sequence[Any] = (),
    subject_type: str,
    subject_id: Sql,
    kind: str,
    recipient_key: str,
    recipient_name: str,
    **columns: Any,
) -> int:
    """Insert, set-based, one email per row of `source` ("FROM ... WHERE ...", with `params`),
    skipping any already in the outbox, and queue their delivery after commit. Each value is a
    plain value, or an `Sql` expression over the source's rows (for example
    `Sql("u.full_name")`); `columns` may give `local_authority_id`, `recipient_role` and
    `email`. No row is loaded into Python. Returns how many were inserted."""
    unknown = set(columns) - {"local_authority_id", "recipient_role", "email"}
    if unknown:
        raise TypeError(f"outbox_add_selected() cannot set {', '.join(sorted(unknown))}")
    now = timezone.now()
    values = {
        **_SELECTED_DEFAULTS,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "kind": kind,
        "recipient_key": recipient_key,
        "recipient_name": recipient_name,
        "created_at": now,
        "scheduled_for": now,
        **columns,
    }
    expressions, values_params = [], []
    for value in values.values():
        if isinstance(value, Sql):
            expressions.append(value.expression)
            values_params.extend(value.params)
        else:
            expressions.append("%s")
            values_params.append(value)
    cursor.execute(
        f"INSERT INTO {Notification._meta.db_table} ({', '.join(values)})"
        f" SELECT {', '.join(expressions)} {source}"
        " ON CONFLICT (subject_type, subject_id, kind, recipient_key) DO NOTHING",
        [*values_params, *params],
    )
    inserted = cursor.rowcount
    deliver_after_commit(inserted)
    return inserted


def task_after_commit(task: Task, *ids: int) -> None:
    """Queue `task` with `ids` once the transaction commits. The rows written in the transaction
    are the record of the work and a scheduled sweep does what could not be queued, so a broker
    that cannot be reached is logged (naming the task) and never fails the saved change. Tasks
    are sent ids, never personal data (RELIABILITY E-4)."""

    def queue_task() -> None:
        task.delay(*ids)

    queue_task.__qualname__ = f"{task.name}.delay"  # the name Django logs a failure by
    transaction.on_commit(queue_task, robust=True)


def deliver_after_commit(count: int = 1) -> None:
    """Queue delivery of `count` new outbox rows once the transaction commits: one delivery
    task per batch of rows, never one per message (PERFORMANCE T9), and one set of tasks for
    everything one atomic block adds (a sweep's several inserts, a decision's recipients)."""
    if count <= 0:
        return
    from dsr.tasks import deliver_notifications_task  # tasks call services that call this

    connection = transaction.get_connection()
    block = id(connection.atomic_blocks[-1]) if connection.atomic_blocks else None
    # The block's callback still waiting for this transaction's commit, if any: the count lives
    # on it, so it goes with it when a rollback discards it.
    for _savepoints, waiting, _robust in connection.run_on_commit:
        if getattr(waiting, "outbox_block", None) == block and block is not None:
            waiting.rows += count
            return

    def queue_delivery() -> None:
        for _ in range(-(-queue_delivery.rows // BATCH)):  # type: ignore[attr-defined]
            deliver_notifications_task.delay()

    queue_delivery.rows = count  # type: ignore[attr-defined]
    queue_delivery.outbox_block = block  # type: ignore[attr-defined]
    transaction.on_commit(queue_delivery, robust=True)
