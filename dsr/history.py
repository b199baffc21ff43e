"""Field-level audit with django-simple-history, configured once for every audited model.

- The actor is kept as an id *and* an email address, not a foreign key, so the audit trail
  survives the deletion of a user account.
- Services say who acted and why with `set_change_reason(obj, reason, by=user)` before saving;
  in a request, HistoryRequestMiddleware supplies the user when a service does not.
- `QuerySet.update()` and `bulk_*` skip history: they are kept for non-audited bookkeeping. A
  set-based write to an audited table writes its history rows itself, with a change reason
  naming the job (escalation sweeps; simple_history.utils.bulk_update_with_history).
- Work that runs outside a request with no user (a management command, a scheduled job) names
  itself with `acting_as_system(reason)`: every history row written inside it without a user or
  a reason of its own gets that reason, so no history row lacks an actor (RELIABILITY H-4).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import models
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record


class ActorStamp(models.Model):
    """Extra columns on every history table: who acted, by email, as it was at the time."""

    history_actor_email = models.CharField(max_length=254, blank=True)

    class Meta:
        abstract = True


def audited(**options: Any) -> HistoricalRecords:
    """The project's HistoricalRecords: pass model-specific options (excluded_fields, ...)."""
    return HistoricalRecords(
        bases=[ActorStamp],
        history_user_id_field=models.BigIntegerField(null=True, blank=True, db_index=True),
        **options,
    )


_SYSTEM_ACTOR: ContextVar[str] = ContextVar("dsr_history_system_actor", default="")
_JOB_REASON: ContextVar[str] = ContextVar("dsr_history_job_reason", default="")
# simple-history's change reason column (CharField max_length=100).
_REASON_LIMIT = 100


@contextmanager
def acting_as_system(reason: str) -> Iterator[None]:
    """Name the system job writing history rows inside this block (see the module docstring)."""
    token = _SYSTEM_ACTOR.set(reason)
    try:
        yield
    finally:
        _SYSTEM_ACTOR.reset(token)


@contextmanager
def written_for(reason: str) -> Iterator[None]:
    """Every history row written inside this block names `reason` first, before the service's
    own reason: "Imported from spreadsheet (import 7, SHA-256 ...): Consent recorded". A job
    that writes through the services (the spreadsheet import) so names itself on every row."""
    token = _JOB_REASON.set(reason)
    try:
        yield
    finally:
        _JOB_REASON.reset(token)


def set_change_reason(obj: models.Model, reason: str, *, by: Any) -> None:
    """Attach the actor and the reason to the next save of `obj` (simple-history reads both)."""
    obj._change_reason = reason  # type: ignore[attr-defined]
    obj._history_user = by  # type: ignore[attr-defined]


@receiver(pre_create_historical_record, dispatch_uid="dsr_history_actor_email")
def _stamp_actor(sender: Any, history_instance: Any, history_user: Any = None, **kwargs: Any):
    email, reason = _stamps(history_user, history_instance.history_change_reason)
    if email is not None and hasattr(history_instance, "history_actor_email"):
        history_instance.history_actor_email = email
    history_instance.history_change_reason = reason


def _stamps(history_user: Any, reason: str | None) -> tuple[str | None, str | None]:
    """The actor's email (None: leave it as it is) and the change reason of a history row
    written by `history_user` (None: nobody signed in, or the system) with `reason`."""
    email = None
    if history_user is not None:
        email = getattr(history_user, "email", "") or ""
    elif not reason:
        reason = _SYSTEM_ACTOR.get() or None
    job = _JOB_REASON.get()
    if job:
        reason = (f"{job}: {reason}" if reason else job)[:_REASON_LIMIT]
    return email, reason


M = TypeVar("M", bound=models.Model)


def create_with_history(objs: list[M], reason: str, *, by: Any) -> list[M]:
    """Insert `objs`, new rows of one audited model, with their "created" history rows: two
    statements whatever their number, where a save each makes two statements a row. Each
    history row names `by` and `reason` exactly as `set_change_reason` and a save would."""
    if not objs:
        return objs
    model = type(objs[0])
    model._default_manager.bulk_create(objs)  # PostgreSQL gives each its id
    email, stamped = _stamps(by, reason)
    for obj in objs:
        obj._history_user = by  # type: ignore[attr-defined]  (None too: not the request's user)
    model.history.bulk_history_create(  # type: ignore[attr-defined]
        objs,
        default_user=by,
        default_change_reason=stamped or "",
        custom_historical_attrs={"history_actor_email": email or ""},
    )
    return objs
