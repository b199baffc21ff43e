"""Reads for the shared records, through the scope helpers of dsr.scoping."""

from typing import Any

from dsr.models import Organisation
from dsr.scoping import get_object_for_user


def get_organisation_for_user(user: Any, pk: int) -> Organisation:
    """An organisation working in at least one of the user's areas, or 404."""
    return get_object_for_user(Organisation.objects.all(), user, pk=pk)
