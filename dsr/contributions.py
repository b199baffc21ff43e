"""The one place an app adds to the register (STYLE point 1, docs/architecture.md).

Each app describes everything it adds in its own `contributions.py`, as one `Contribution`, and
its AppConfig.ready() hands it to `contribute()`: events on a person's timeline, required next
steps, sections of the person page, the dashboard and each user's home page, the values its
messages need, retention rules and holds, header links, who else may see a person, demo data,
the tables its kept counts follow, its part of the settings page and what it brings across from
a register spreadsheet. The register reads them through its own modules (`dsr.timeline`,
`dsr.next_steps`, `dsr.panels`, `dsr.outbox.delivery`, `dsr.records`, `dsr.navigation`,
`dsr.models.Person`, `dsr.demo`, `dsr.caching`, `dsr.register_settings`, `dsr.imports.parts`)
and never imports an app.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Q

from dsr import (
    caching,
    demo,
    navigation,
    next_steps,
    panels,
    records,
    register_changes,
    register_settings,
    timeline,
)
from dsr.imports.parts import ImportPart, register_import_part
from dsr.models import people as register_models
from dsr.navigation import NavItem
from dsr.next_steps import Source as NextStepSource
from dsr.outbox import delivery
from dsr.outbox.delivery import ContextProvider, SentHook
from dsr.panels import DashboardPanel, HomePanel, PersonPanel
from dsr.records import PersonHold, RetentionRule
from dsr.register_settings import SettingsSection
from dsr.timeline import Source as TimelineSource

# Who else may see a person: a condition on Person for the user, or None (ACCESS.md).
VisibilityRule = Callable[[Any], Q | None]


@dataclass(frozen=True)
class Contribution:
    timeline: TimelineSource | None = None
    next_steps: NextStepSource | None = None
    person_panels: tuple[PersonPanel, ...] = ()
    dashboard_panels: tuple[DashboardPanel, ...] = ()
    home_panels: tuple[HomePanel, ...] = ()
    # The values a message's templates need, by the outbox subject ("<app>.<model>").
    message_contexts: Mapping[str, ContextProvider] = field(default_factory=dict)
    # What a message records once it is sent (not when queued), by the outbox subject.
    message_sent: Mapping[str, SentHook] = field(default_factory=dict)
    retention_rules: tuple[RetentionRule, ...] = ()
    person_holds: tuple[PersonHold, ...] = ()
    navigation: tuple[NavItem, ...] = ()
    visibility: VisibilityRule | None = None
    demo: Callable[..., Any] | None = None
    # Kept counts (dsr.caching) counted afresh after a change to these models, by name.
    follows: Mapping[str, tuple[type[models.Model], ...]] = field(default_factory=dict)
    # Parts of the DSR lead's settings page (dsr.register_settings).
    settings_sections: tuple[SettingsSection, ...] = ()
    # What the app brings across from a register spreadsheet (dsr.imports.parts).
    import_parts: tuple[ImportPart, ...] = ()
    # Told, in the writer's transaction, of the people whose place on the register changed
    # (dsr.register_changes).
    register_changed: register_changes.Listener | None = None


def _one(value: Any) -> tuple[Any, ...]:
    return () if value is None else (value,)


def contribute(contribution: Contribution) -> None:
    """Add an app's contribution to the register. Safe to call twice with the same one."""
    registrations: list[tuple[Callable[[Any], None], Iterable[Any]]] = [
        (timeline.register_source, _one(contribution.timeline)),
        (next_steps.register_source, _one(contribution.next_steps)),
        (panels.register_person_panel, contribution.person_panels),
        (panels.register_dashboard_panel, contribution.dashboard_panels),
        (panels.register_home_panel, contribution.home_panels),
        (records.register_retention_rule, contribution.retention_rules),
        (records.register_person_hold, contribution.person_holds),
        (register_models.register_visibility_rule, _one(contribution.visibility)),
        (demo.register_demo_seeder, _one(contribution.demo)),
        (register_settings.register_section, contribution.settings_sections),
        (register_import_part, contribution.import_parts),
        (register_changes.register_listener, _one(contribution.register_changed)),
    ]
    for register, items in registrations:
        for item in items:
            register(item)
    for subject_type, provider in contribution.message_contexts.items():
        delivery.register_context_provider(subject_type, provider)
    for subject_type, hook in contribution.message_sent.items():
        delivery.register_sent_hook(subject_type, hook)
    for name, followed in contribution.follows.items():
        caching.follow_changes(name, *followed)
    navigation.register_items(contribution.navigation)
