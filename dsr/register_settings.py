"""The settings the DSR lead changes in the service (`/settings/`), read by every due date and
sweep: the stored value first (dsr.models.RegisterSettings), else the Django setting, else the
caller's default.

Reading is cheap: the stored values are read from the database at most once per process every
`KEEP_SECONDS` seconds, so a sweep or a page that works out due dates in a loop makes one query,
not one per call. A save forgets them in the saving process at once, and again when its
transaction commits; every other process (the Celery worker that runs the sweeps, the other web
workers) reads the new values within `KEEP_SECONDS`, well inside the five minutes between
sweeps, so a change takes effect on the next sweep.

An app adds its own part of the settings page through its contribution (`settings_sections`):
a `SettingsSection` names the Django settings it stores, the form with their questions (its
fields' hints say whether due dates already stored are worked out again), the values it shows
to start with, and how the answers become stored values. The register never imports the app.
"""

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.apps import apps
from django.conf import settings
from django.db import transaction

_T = TypeVar("_T")

KEEP_SECONDS = 10.0


class _Kept:
    values: Mapping[str, Any] | None = None
    until = -math.inf


def current() -> Mapping[str, Any]:
    """The stored values by setting name ({} when the DSR lead has saved nothing)."""
    now = time.monotonic()
    if _Kept.values is None or now >= _Kept.until:
        # Through the app registry: the models import the deadlines, which read this module.
        model = apps.get_model("dsr", "RegisterSettings")
        stored = model.objects.filter(singleton=True).values_list("values", flat=True).first()
        _Kept.values = stored or {}
        _Kept.until = now + KEEP_SECONDS
    return _Kept.values


def setting(name: str, default: _T) -> _T:
    """The value the DSR lead saved for `name`; else the Django setting `name`; else `default`."""
    stored = current()
    if name in stored:
        return stored[name]
    return getattr(settings, name, default)


def forget() -> None:
    """Read the stored values afresh next time: now, and once the current transaction commits
    (another process may have read the old ones in between)."""
    forget_now()
    transaction.on_commit(forget_now, robust=True)


def forget_now() -> None:
    _Kept.values = None


# --- The sections of the settings page ------------------------------------------------------


# A group of questions on the page: its legend, its hint (what a change does to due dates
# already stored), and its fields' names.
Fieldset = tuple[str, str, list[str]]


@dataclass(frozen=True)
class SettingsSection:
    # Sections are shown by `order`, under `title`. Every section's form is a base of the one
    # page form, so it adds its fields in __init__ or as class attributes, names them uniquely,
    # and its clean() calls super().clean().
    order: int
    title: str
    form: type[forms.Form]
    # The groups of questions, given the page form (whose fields may depend on settings).
    fieldsets: Callable[[forms.Form], list[Fieldset]]
    # The Django settings the section stores.
    names: tuple[str, ...]
    # The answers to show to start with, from the values in force now.
    initial: Callable[[], dict[str, Any]]
    # The stored values (by setting name) from the cleaned answers.
    values: Callable[[dict[str, Any]], dict[str, Any]]


_SECTIONS: dict[str, SettingsSection] = {}


def register_section(section: SettingsSection) -> None:
    _SECTIONS[section.form.__name__] = section


def sections() -> list[SettingsSection]:
    return sorted(_SECTIONS.values(), key=lambda section: section.order)


def page_form_class() -> type[forms.Form]:
    """One form with every section's questions, so the page has one error summary and one
    save: nothing is written unless every answer is right."""
    bases = tuple(section.form for section in sections())
    return type("RegisterSettingsForm", bases or (forms.Form,), {})


def page_initial() -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for section in sections():
        initial.update(section.initial())
    return initial


def page_values(cleaned: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for section in sections():
        values.update(section.values(cleaned))
    return values
