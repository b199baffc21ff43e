"""The DSR team's contact details: one row, changed only by the DSR lead, every change kept."""

from typing import Any

from django.db import transaction

from dsr.history import set_change_reason
from dsr.models import TeamContact, User

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
