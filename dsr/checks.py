"""System checks for what the service must be set up with before people use it."""

from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError


@checks.register(checks.Tags.database)
def team_contact_set(databases: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn a live service (DEBUG off) whose DSR team contact details are not set: the public
    pages and the outcome messages would say only that they have not been set up yet. Run with
    the database checks (`manage.py check --database default`, and by `migrate`)."""
    if not databases or settings.DEBUG:
        return []
    from dsr.queries import team_contact

    try:
        contact = team_contact()
    except DatabaseError:  # before the migrations have made the table
        return []
    if contact is not None:
        return []
    return [
        checks.Warning(
            "The DSR team's contact details are not set.",
            hint="The DSR lead sets them at /settings/contact/ (Team contact details).",
            id="dsr.W001",
        )
    ]


@checks.register()
def notify_configured(**kwargs: Any) -> list[checks.CheckMessage]:
    """With DSR_MESSAGES = "notify", refuse to start without a Notify API key or without a
    Notify template for every kind of message the service sends (notify/README.md): a message
    of a kind without one could never be sent."""
    if settings.DSR_MESSAGES != "notify":
        return []
    from dsr.outbox.notify import notify_template_names

    errors = []
    if not settings.NOTIFY_API_KEY:
        errors.append(
            checks.Error(
                'DSR_MESSAGES is "notify" but NOTIFY_API_KEY is not set.',
                hint="Create a live API key in GOV.UK Notify and set NOTIFY_API_KEY.",
                id="dsr.E001",
            )
        )
    missing = [name for name in notify_template_names() if not settings.NOTIFY_TEMPLATES.get(name)]
    if missing:
        errors.append(
            checks.Error(
                f"No GOV.UK Notify template is set for: {', '.join(missing)}.",
                hint="Add each to NOTIFY_TEMPLATES (JSON, kind to template id): see "
                "notify/README.md.",
                id="dsr.E002",
            )
        )
    return errors
