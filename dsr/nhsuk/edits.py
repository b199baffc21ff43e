"""Lost-update protection for the forms that overwrite a record (RELIABILITY H-1, hazard HZ-7).

An edit page carries, in a signed hidden field, the version of the record it was drawn from: the
id of the record's latest history row (every audited write makes one, dsr/history.py), so no
schema change is needed. On submit, inside one transaction, the record's row is locked and each
field the submission would write is compared between that version (its history row) and the row
as it is now. When someone else changed one of them, nothing is written: the page is drawn again
with the form as typed (nothing entered is lost), an NHS.UK error summary, and a table of what
changed (the field, their value, now saved, and yours). That page carries the new version, so
saving again keeps the typed values, knowingly.

A change to a field the submission does not write is no conflict: nothing of it is lost.
A submission without the hidden field, or with one that is altered or not this record's, is
refused the same way: nothing is written and the page is drawn again with the version now saved.
The version comes from the page, so a client that leaves it out must not be taken at its word.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django import forms
from django.core import signing
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst

from dsr.exceptions import RegisterError

logger = logging.getLogger(__name__)

FIELD = "edit_version"
_SALT = "dsr.nhsuk.edits.version"
CONFLICT_MESSAGE = (
    "Someone else changed this record while you were editing it. Nothing has been saved. "
    "Check what they changed, then save again to keep your answers."
)
STALE_MESSAGE = (
    "This page could not be checked against the record. Nothing has been saved: check your "
    "answers and save again."
)
GONE_MESSAGE = "This record was removed while you were editing it. Nothing has been saved."


@dataclass(frozen=True)
class Change:
    """One field someone else changed after the page was drawn, as shown on the conflict page."""

    field: str
    label: str
    theirs: str
    yours: str


class EditRefused(RegisterError):
    """The guard wrote nothing: the page could not be checked, or the record is gone. About the
    whole page, not one field."""


class EditConflict(EditRefused):
    """Someone else changed a field this submission writes; nothing was written."""

    def __init__(self, changes: list[Change]):
        super().__init__(CONFLICT_MESSAGE)
        self.changes = changes


def latest_version(model: type[models.Model], pk: Any) -> int | None:
    """The id of the record's latest history row (None before its first audited write)."""
    return (
        model.history.filter(id=pk)  # type: ignore[attr-defined]
        .order_by("-history_id")
        .values_list("history_id", flat=True)
        .first()
    )


def _comparable(field: models.Field, value: Any) -> Any:
    """A value as stored, with blanks alike: an object as its id; None, "" and [] as None."""
    if isinstance(value, models.Model):
        value = value.pk
    if value is None or value == "" or value == []:
        return None
    return value


def _choices(field: models.Field, form_field: Any) -> dict:
    source = field.flatchoices if field.choices else []
    if isinstance(form_field, forms.ChoiceField) and not isinstance(
        form_field, forms.ModelChoiceField
    ):
        source = [pair for pair in form_field.choices if isinstance(pair[1], str)]
    return {str(key): label for key, label in source}


def show(field: models.Field, value: Any, form_field: Any = None) -> str:
    """A stored or typed value as a person reads it."""
    value = _comparable(field, value)
    if value is None:
        return "Not given"
    if field.is_relation:
        related = field.related_model._base_manager.filter(pk=value).first()
        return str(related) if related is not None else "Removed"
    labels = _choices(field, form_field)
    if isinstance(value, list):
        return ", ".join(str(labels.get(str(v), v)) for v in value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if labels:
        return str(labels.get(str(value), value))
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "j F Y, H:i")
    if isinstance(value, date):
        return date_format(value, "j F Y")
    return str(value)


def _token(record: models.Model, version: int | None) -> str:
    return signing.dumps([record._meta.label_lower, record.pk, version], salt=_SALT)


class EditGuard:
    """Guards one edit page of one record. `writes` maps the form's cleaned data to the model
    fields (by name) and values the submission writes; the view passes the guard to its page
    helper, which calls `save` and puts `context` on the page."""

    def __init__(self, record: models.Model, writes: Callable[[dict], dict[str, Any]]):
        self.record = record
        self.writes = writes
        self.changes: list[Change] = []

    # --- the version the page carries -----------------------------------------------------

    def _loaded(self, request: HttpRequest) -> int | None:
        """The version the submission's page was drawn from (None: before the record's first
        audited write). Raises EditRefused when the field is missing, altered or another
        record's."""
        raw = request.POST.get(FIELD)
        if raw is None:
            logger.info("edit refused: no version field record=%s", self.record.pk)
            raise EditRefused(STALE_MESSAGE)
        try:
            label, pk, version = signing.loads(raw, salt=_SALT)
        except (signing.BadSignature, TypeError, ValueError):
            label, pk, version = None, None, None
        if label != self.record._meta.label_lower or pk != self.record.pk:
            logger.info("edit refused: version field altered record=%s", self.record.pk)
            raise EditRefused(STALE_MESSAGE)
        if version is not None and not isinstance(version, int):
            raise EditRefused(STALE_MESSAGE)
        return version

    def context(self, request: HttpRequest) -> dict[str, Any]:
        """What the page template needs: the version to carry and what changed. A page drawn
        again for a mistake in the form keeps the version it was first drawn from; the
        conflict page carries the version now saved."""
        version = None
        if request.method == "POST" and not self.changes:
            try:
                self._loaded(request)
            except RegisterError:
                pass  # refused: the page carries the version now saved
            else:
                version = request.POST[FIELD]
        if version is None:
            version = _token(self.record, latest_version(type(self.record), self.record.pk))
        return {"edit_version": version, "edit_changes": self.changes}

    # --- the submission ---------------------------------------------------------------------

    def save(self, request: HttpRequest, form: Any, act: Callable[[dict], Any]) -> Any:
        """Run `act(cleaned data)` under the record's row lock when no field it writes changed
        since the page was drawn; raise EditConflict (nothing written) when one did, and
        EditRefused (nothing written) when the submission carries no readable version."""
        version = self._loaded(request)
        proposed = self.writes(form.cleaned_data)
        model = type(self.record)
        with transaction.atomic():
            try:
                current = model._base_manager.select_for_update().get(pk=self.record.pk)
            except model.DoesNotExist:
                raise EditRefused(GONE_MESSAGE) from None
            changes = self._changes(version, current, proposed, form)
            if changes:
                self.changes = changes
                logger.info(
                    "edit conflict model=%s record=%s fields=%s",
                    model._meta.label_lower,
                    current.pk,
                    ",".join(c.field for c in changes),
                )
                raise EditConflict(changes)
            return act(form.cleaned_data)

    def _changes(
        self, version: int | None, current: models.Model, proposed: dict[str, Any], form: Any
    ) -> list[Change]:
        model = type(current)
        if latest_version(model, current.pk) == version:
            return []
        snapshot = (
            model.history.filter(id=current.pk, history_id=version).first()  # type: ignore[attr-defined]
            if version is not None
            else None
        )
        changes = []
        for name, yours in proposed.items():
            field = model._meta.get_field(name)
            now = _comparable(field, getattr(current, field.attname))
            if snapshot is not None:
                then = _comparable(field, getattr(snapshot, field.attname))
                if then == now:
                    continue  # nobody else changed it
            if _comparable(field, yours) == now:
                continue  # typed the same as what was saved: nothing is lost
            form_field = getattr(form, "fields", {}).get(name)
            changes.append(
                Change(
                    field=name,
                    label=str(form_field.label if form_field and form_field.label else "")
                    or capfirst(str(field.verbose_name)),
                    theirs=show(field, now, form_field),
                    yours=show(field, yours, form_field),
                )
            )
        return changes


def model_form_writes(form: Any, names: list[str] | None = None) -> Callable[[dict], dict]:
    """For a ModelForm: the model fields it writes (all of its own, or `names`)."""
    model = form._meta.model
    own = {f.name for f in model._meta.concrete_fields}
    fields = [n for n in (names if names is not None else list(form.fields)) if n in own]
    return lambda data: {name: data[name] for name in fields if name in data}
