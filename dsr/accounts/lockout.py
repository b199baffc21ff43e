"""Sign-in lockout: which account a failed sign-in counts against (django-axes)."""

import logging

from django.conf import settings
from django.http import HttpRequest

from dsr.models import User

logger = logging.getLogger(__name__)

_LOCKOUT_KEY = "_dsr_lockout_keys"


def lockout_username(request: HttpRequest | None, credentials: dict | None) -> str | None:
    """The name django-axes counts failed sign-ins under (AXES_USERNAME_CALLABLE): the address
    of the account the typed address signs in to, found by the backend's own lookup
    (`get_by_natural_key`, case-insensitive in the database), else the typed address in lower
    case. So "Name@NHS.net", "NAME@nhs.net" and even a dotless "ı" for an "i" share one
    counter, for counting failures and for the lockout check alike.

    Axes passes `credentials` when it has them, and otherwise reads the request's form. The
    answer is kept on the request, as axes asks several times per sign-in."""
    typed = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD) if credentials else None
    if typed is None and request is not None:
        typed = getattr(request, "POST", {}).get(settings.AXES_USERNAME_FORM_FIELD)
    if not isinstance(typed, str) or not typed.strip():
        return None
    typed = typed.strip()
    known = getattr(request, _LOCKOUT_KEY, None) if request is not None else None
    if known is not None and typed in known:
        return known[typed]
    try:
        key = User._default_manager.get_by_natural_key(typed).email
    except (User.DoesNotExist, User.MultipleObjectsReturned):
        key = typed.lower()
    if request is not None:
        if known is None:
            known = {}
            setattr(request, _LOCKOUT_KEY, known)
        known[typed] = key
    return key
