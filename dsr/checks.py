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
