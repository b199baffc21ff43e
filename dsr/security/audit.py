"""Security events on the "dsr.audit" logger: sign-in events and refusals (RELIABILITY E-1, E-2).

One record per event. Each record carries these fields (logging `extra`), which the JSON log
formatter writes out as fields of their own:

- `event`: one of `Event`;
- `at`: when, in UTC (ISO 8601 with offset);
- `user_id`: the account's primary key, or None when there is no known account; never an email
  address or a name, even for a failed sign-in with an address that is not ours;
- `client_ip`: the client's address, worked out as django-axes does (TRUSTED_PROXY_COUNT);
- `route`: the URL name of the view (`accounts:sign-in`), or None outside a resolved view;
- refusals also carry `status`, `method` and `path` (paths hold ids only, ASVS 14.2.1).

The request id (E-7) is added to every record by the logging filter in settings.LOGGING.

Sign-in, sign-out and failures come from Django's auth signals, lockouts from django-axes'
signal, deactivation from saving a user; the second factor and password reset views call
`record_event` themselves (django-otp sends no signal from custom views).
"""

import logging
from enum import StrEnum
from typing import Any

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from log_request_id import local as request_id_local
from simple_history.models import HistoricalRecords

from dsr.models import AccessEvent, Person, User
from dsr.security.logs import escape_controls

logger = logging.getLogger("dsr.audit")


class Event(StrEnum):
    SIGN_IN_SUCCESS = "sign_in_success"  # password accepted; the second factor comes next
    SIGN_IN_FAILURE = "sign_in_failure"
    SIGN_IN_LOCKED_OUT = "sign_in_locked_out"
    SECOND_FACTOR_SUCCESS = "second_factor_success"
    SECOND_FACTOR_FAILURE = "second_factor_failure"
    SECOND_FACTOR_SET_UP = "second_factor_set_up"
    SIGN_OUT = "sign_out"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"  # noqa: S105  (an event name)
    PASSWORD_RESET_COMPLETED = "password_reset_completed"  # noqa: S105
    ACCOUNT_DEACTIVATED = "account_deactivated"
    ACCESS_REFUSED = "access_refused"
    # Through an NHS identity provider (dsr.accounts.identity_providers): signed in (with
    # `provider` and whether it counted as `multi_factor`), refused (with the `reason`), an
    # identity no account has, a first link to an account, and the provider's logout.
    PROVIDER_SIGN_IN = "provider_sign_in"
    PROVIDER_SIGN_IN_REFUSED = "provider_sign_in_refused"
    PROVIDER_UNKNOWN_IDENTITY = "provider_unknown_identity"
    PROVIDER_IDENTITY_LINKED = "provider_identity_linked"
    PROVIDER_IDENTITY_REMOVED = "provider_identity_removed"
    BACK_CHANNEL_LOGOUT = "back_channel_logout"
    BACK_CHANNEL_LOGOUT_REFUSED = "back_channel_logout_refused"


FAILURES = {
    Event.SIGN_IN_FAILURE,
    Event.SIGN_IN_LOCKED_OUT,
    Event.SECOND_FACTOR_FAILURE,
    Event.ACCESS_REFUSED,
    Event.PROVIDER_SIGN_IN_REFUSED,
    Event.PROVIDER_UNKNOWN_IDENTITY,
    Event.BACK_CHANNEL_LOGOUT_REFUSED,
}


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None or not getattr(request, "META", None):
        return None
    return getattr(request, "axes_ip_address", None) or get_client_ip_address(request)


def _route(request: HttpRequest | None) -> str | None:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else None


def record_event(
    event: Event, request: HttpRequest | None, *, user_id: int | None, **fields: Any
) -> None:
    """Write one audit record for `event` (see the module docstring for its fields)."""
    level = logging.WARNING if event in FAILURES else logging.INFO
    route = _route(request)
    client_ip = _client_ip(request)
    logger.log(
        level,
        "%s user=%s ip=%s route=%s",
        event.value,
        user_id,
        client_ip,
        route,
        extra={
            "event": event.value,
            "at": timezone.now().isoformat(),
            "user_id": user_id,
            "client_ip": client_ip,
            "route": route,
            **fields,
        },
    )


def record_refusal(request: HttpRequest, status: int) -> None:
    """An access refusal: a 403, a 404 or a redirect to sign in (E-2)."""
    user = getattr(request, "user", None)
    record_event(
        Event.ACCESS_REFUSED,
        request,
        user_id=user.pk if user is not None and user.is_authenticated else None,
        status=status,
        method=escape_controls(request.method or ""),
        path=escape_controls(request.path),
    )


def _account_id(username: Any) -> int | None:
    """The id of the account a typed email address names, if any (the address is not logged)."""
    if not isinstance(username, str) or not username:
        return None
    users = get_user_model()._default_manager
    return users.filter(email__iexact=username).values_list("pk", flat=True).first()


@receiver(user_logged_in, dispatch_uid="dsr_audit_logged_in")
def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record_event(Event.SIGN_IN_SUCCESS, request, user_id=user.pk)


@receiver(user_login_failed, dispatch_uid="dsr_audit_login_failed")
def _sign_in_failed(
    sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    record_event(Event.SIGN_IN_FAILURE, request, user_id=_account_id(credentials.get("username")))


@receiver(user_locked_out, dispatch_uid="dsr_audit_locked_out")
def _locked_out(sender: Any, request: HttpRequest, username: Any = None, **kwargs: Any) -> None:
    record_event(Event.SIGN_IN_LOCKED_OUT, request, user_id=_account_id(username))


@receiver(user_logged_out, dispatch_uid="dsr_audit_logged_out")
def _signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record_event(Event.SIGN_OUT, request, user_id=getattr(user, "pk", None))


_WAS_ACTIVE = "_dsr_audit_was_active"


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="dsr_audit_user_before_save")
def _note_active(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.pk is None:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    was = sender._default_manager.filter(pk=instance.pk).values_list("is_active", flat=True)
    setattr(instance, _WAS_ACTIVE, was.first())


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="dsr_audit_user_after_save")
def _deactivated(sender: Any, instance: Any, **kwargs: Any) -> None:
    was_active = instance.__dict__.pop(_WAS_ACTIVE, None)
    if was_active and not instance.is_active:
        # In a request (the admin, an account page) the request says who and from where.
        request = getattr(HistoricalRecords.context, "request", None)
        actor = getattr(request, "user", None)
        record_event(
            Event.ACCOUNT_DEACTIVATED,
            request,
            user_id=instance.pk,
            by_user_id=actor.pk if actor is not None and actor.is_authenticated else None,
        )


# --- The access log: who saw whose record (ACCESS.md) -----------------------------------------


def access_log_record(
    *,
    user: User,
    action: str,
    path: str,
    person: Person | None = None,
    detail: dict[str, Any] | None = None,
) -> AccessEvent:
    """Write one access-log row. `detail` holds filter names and counts, never personal data."""
    return AccessEvent.objects.create(
        user=user,
        person=person,
        action=action,
        path=path[:300],
        detail=detail or {},
        request_id=current_request_id(),
    )


def access_log_people(
    *,
    user: User,
    action: str,
    path: str,
    people_ids: list[int],
    detail: dict[str, Any] | None = None,
) -> None:
    """One access-log row per person shown on a list or in search results, in one insert; one
    row without a person when nobody was shown (the search itself is still logged)."""
    fields = {"action": action, "path": path[:300], "detail": detail or {}}
    fields["request_id"] = current_request_id()
    rows = [AccessEvent(user=user, person_id=pk, **fields) for pk in people_ids] or [
        AccessEvent(user=user, **fields)
    ]
    AccessEvent.objects.bulk_create(rows)


def current_request_id() -> str:
    """The current request's correlation id (RELIABILITY E-7), so an access-log row and the log
    records of one request can be matched; blank outside a request."""
    return getattr(request_id_local, "request_id", "")
