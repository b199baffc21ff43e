"""The DSR team's contact details and the register settings: one row each, changed only by the
DSR lead, every change kept with who made it."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from dsr import register_settings
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import RegisterSettings, TeamContact, User
from dsr.roles import ROLE_PERMISSIONS, Role

FIELDS = (
    "phone",
    "email",
    "address",
    "postcode",
    "opening_hours",
    "complaints",
    "young_people_guide_url",
)


@transaction.atomic
def team_contact_save(*, by: User, **fields: Any) -> TeamContact:
    """Set the team's contact details (phone, email, address, postcode, opening hours, how to
    complain or ask for a decision to be looked at again, the link to NHS England's guides for
    young people). The first save writes the row."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"team_contact_save() got unknown fields: {', '.join(sorted(unknown))}")
    contact = TeamContact.objects.select_for_update().filter(singleton=True).first()
    if contact is None:
        contact = TeamContact()
    for name, value in fields.items():
        setattr(contact, name, value)
    set_change_reason(contact, "Team contact details saved", by=by)
    contact.save()
    return contact


# The roles ACCESS.md lets act on escalations: the only ones that may own a level.
ESCALATION_OWNER_ROLES = tuple(
    role for role, held in ROLE_PERMISSIONS.items() if "act_on_escalations" in held
)


def _whole_numbers(value: Any) -> bool:
    """True when every number in `value` (a number, or lists and mappings of them) is a whole
    number of 0 or more; yes/no answers and role names are not numbers."""
    if isinstance(value, bool | str):
        return True
    if isinstance(value, int):
        return value >= 0
    if isinstance(value, Mapping):
        return all(_whole_numbers(item) for item in value.values())
    if isinstance(value, list | tuple):
        return all(_whole_numbers(item) for item in value)
    return False


@transaction.atomic
def register_settings_save(*, by: User, values: Mapping[str, Any]) -> RegisterSettings:
    """Store the settings the DSR lead set on the settings page, by Django setting name, over
    those stored before. Refused, writing nothing, for a setting the page does not hold, a
    figure that is not a whole number, or a level owned by a role that may not act on
    escalations (ACCESS.md). Every sweep and due date reads the new values from the next one
    (dsr.register_settings)."""
    known = {name for section in register_settings.sections() for name in section.names}
    unknown = set(values) - known
    if unknown:
        raise RegisterError(
            f"These are not settings of the register: {', '.join(sorted(unknown))}."
        )
    if not _whole_numbers(dict(values)):
        raise RegisterError("Every number of days, months or working days must be a whole number.")
    owners = values.get("DSR_ESCALATION_LEVEL_ROLES", {})
    for level, roles in owners.items():
        if not roles:
            raise RegisterError(f"Choose at least one role to own level {level}.")
        refused = [role for role in roles if role not in ESCALATION_OWNER_ROLES]
        if refused:
            names = ", ".join(Role(role).label if role in Role.values else role for role in refused)
            raise RegisterError(f"{names} may not act on escalations, so cannot own level {level}.")
    row = RegisterSettings.objects.select_for_update().filter(singleton=True).first()
    if row is None:
        row = RegisterSettings()
    row.values = {**row.values, **values}
    set_change_reason(row, "Register settings saved", by=by)
    row.save()
    register_settings.forget()
    return row
