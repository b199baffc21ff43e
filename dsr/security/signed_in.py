"""The signed-in user and their second-factor devices, kept between requests (docs/adr/0009).

Every signed-in request needs the account (is it active, is the session's password hash still
its own) and the device the session was verified with (does it still exist, is it still
confirmed). Each web process keeps a copy of both, the confirmed devices beside the user, for up
to `KEPT_SECONDS`, used only while it carries the accounts' current *version*: a token in the
cache read together with the session, in the same call (dsr.security.sessions). Django's own
checks (`django.contrib.auth.get_user`'s session hash, `ModelBackend.user_can_authenticate`,
django-otp's device binding) still run on every request, on the copy.

The version is a random token, replaced now and after every committed change that matters: a
saved or deleted account, its groups, a saved or deleted device (the signals below), and the
set-based writes that send no signal (`account_changed`, called by the dormant-account sweep).
So a deactivated account, a changed password, a role change or a removed device takes effect on
the next request. If the cache cannot be reached there is no version, and the account and device
are read from the database on each request (Faults item 3); a version the cache could not take
at the moment of a change leaves a copy usable until it is `KEPT_SECONDS` old, at most.
"""

# pickle: only for the bytes this process pickles itself (the kept copies below).
import pickle  # nosec B403
import uuid
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from dsr.caching import unless_cache_down

# The longest a kept copy is used, whatever its version says.
KEPT_SECONDS = 60
# The accounts' version: a random token in the cache, replaced after every change that matters.
VERSION_KEY = "signed-in:version"
_DEVICES = "_dsr_devices"
# The version read with this request's session (dsr.security.sessions.SessionStore.load).
_version_seen: ContextVar[str | None] = ContextVar("dsr_accounts_version", default=None)
# This process's copies: user id to (version, when read, the pickled user with its devices).
_kept: dict[Any, tuple[str, float, bytes]] = {}


def account_changed(user_id: int) -> None:
    """Every kept copy of the account and its devices is out of date: now, and again once the
    current transaction commits (a request that read the account before the commit may have
    kept the old row under the version set now). The version is one for all accounts, so that it
    is read with the session in one call; changes to accounts are rare beside requests."""

    def move_on() -> None:
        unless_cache_down(lambda: _cache().set(VERSION_KEY, _token(), None), otherwise=None)

    move_on()
    transaction.on_commit(move_on, robust=True)


def _cache() -> Any:
    return caches[settings.SESSION_CACHE_ALIAS]


def _token() -> str:
    return uuid.uuid4().hex


def version_read(version: str | None) -> None:
    """The accounts' version as the session store read it with the session, in the same call
    (dsr.security.sessions); None when it was not read (the cache could not be reached)."""
    _version_seen.set(version)


def _read(user_id: Any) -> Any:
    """The account with its confirmed devices (persistent id to device): this process's copy
    while it carries the version read with this request's session and is under KEPT_SECONDS
    old, otherwise from the database (and kept); None for no such account."""
    version = _version_seen.get()
    _version_seen.set(None)  # for this request only
    if version is None:  # not read with the session: the database, and a version for next time
        unless_cache_down(lambda: _cache().add(VERSION_KEY, _token(), None), otherwise=None)
        return _from_database(user_id)
    now = timezone.now().timestamp()
    kept = _kept.get(user_id)
    if kept is not None and kept[0] == version and now - kept[1] < KEPT_SECONDS:
        # Bytes this process pickled itself.
        return pickle.loads(kept[2])  # noqa: S301  # nosec B301
    user = _from_database(user_id)
    _kept[user_id] = (version, now, pickle.dumps(user))
    return user


def _from_database(user_id: Any) -> Any:
    User = get_user_model()
    try:
        user = User._default_manager.get(pk=user_id)
    except User.DoesNotExist:
        return None
    setattr(user, _DEVICES, {d.persistent_id: d for d in devices_for_user(user, confirmed=True)})
    return user


class KeptUserBackend(ModelBackend):
    """Django's ModelBackend, reading the signed-in user through the cache."""

    def get_user(self, user_id: Any) -> Any:
        user = _read(user_id)
        return user if self.user_can_authenticate(user) else None


class KeptDeviceOTPMiddleware(OTPMiddleware):
    """django-otp's middleware, taking the session's device from the devices read with the user
    (confirmed ones only) when the user came through KeptUserBackend."""

    def _verify_user_sync(self, request: Any, user: Any) -> Any:
        devices = getattr(user, _DEVICES, None) if user.is_authenticated else None
        if devices is None:
            return super()._verify_user_sync(request, user)
        self._init_user_fields(user)
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        device = (
            devices.get(self._normalize_persistent_id(persistent_id)) if persistent_id else None
        )
        user.otp_device = self._finalize_device(request, user, device)
        return user


# --- What makes a kept copy out of date -------------------------------------------------------


@receiver(post_save, dispatch_uid="signed_in_user_saved")
@receiver(post_delete, dispatch_uid="signed_in_user_deleted")
def _row_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    if sender is get_user_model():
        account_changed(instance.pk)
    elif isinstance(instance, Device) and instance.user_id is not None:
        account_changed(instance.user_id)


@receiver(m2m_changed, dispatch_uid="signed_in_groups_changed")
def _groups_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set, **kwargs):
    if sender is not get_user_model().groups.through:
        return
    if not reverse:  # an account's groups changed
        if action in ("post_add", "post_remove", "post_clear"):
            account_changed(instance.pk)
    elif action in ("post_add", "post_remove"):  # a group's members changed
        for user_id in pk_set or ():
            account_changed(user_id)
    elif action == "pre_clear":  # a group is emptied: its members, while they are known
        for user_id in instance.user_set.values_list("pk", flat=True):
            account_changed(user_id)
