"""The signed-in user and their second-factor devices, read from the cache (docs/adr/0009).

Every signed-in request needs the account (is it active, is the session's password hash still
its own) and the device the session was verified with (does it still exist, is it still
confirmed). Both are kept in the cache for up to `KEPT_SECONDS`, with the devices beside the
user, in one cache entry read together with the account's *version* in one call. Django's own
checks (`django.contrib.auth.get_user`'s session hash, `ModelBackend.user_can_authenticate`,
django-otp's device binding) still run on every request, on the kept copy.

The version is a random token, replaced after every committed change that matters: a saved or
deleted account, its groups, a saved or deleted device (the signals below), and the set-based
writes that send no signal (`account_changed`, called by the dormant-account sweep). A kept copy
is used only while its version is the current one, so a deactivated account, a changed password,
a role change or a removed device takes effect on the next request. If the cache cannot be reached
the account and device are read from the database on each request (Faults item 3); a version the
cache could not take at the moment of a change leaves a kept copy usable until it is
`KEPT_SECONDS` old, at most.
"""

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from dsr.caching import unless_cache_down

# The longest a kept copy is used, whatever its version says.
KEPT_SECONDS = 60
_VERSION = "signed-in:version:"
_KEPT = "signed-in:user:"
_DEVICES = "_dsr_devices"


def account_changed(user_id: int) -> None:
    """Every kept copy of the account and its devices is out of date: now, and again once the
    current transaction commits (a request that read the account before the commit may have
    kept the old row under the version set now)."""

    key = _VERSION + str(user_id)

    def move_on() -> None:
        unless_cache_down(lambda: cache.set(key, _token(), None), otherwise=None)

    move_on()
    transaction.on_commit(move_on, robust=True)


def _token() -> str:
    return uuid.uuid4().hex


def _read(user_id: Any) -> Any:
    """The account with its confirmed devices (persistent id to device), from the cache while
    its copy is current, otherwise from the database (and kept); None for no active account."""
    version_key, kept_key = _VERSION + str(user_id), _KEPT + str(user_id)
    found = unless_cache_down(lambda: cache.get_many([version_key, kept_key]), otherwise=None)
    if found is None:  # the cache cannot be reached: the database alone
        return _from_database(user_id)
    version, kept = found.get(version_key), found.get(kept_key)
    if version is not None and kept is not None and kept[0] == version:
        return kept[1]
    if version is None:
        unless_cache_down(lambda: cache.add(version_key, _token(), None), otherwise=None)
        version = unless_cache_down(lambda: cache.get(version_key), otherwise=None)
    user = _from_database(user_id)
    if version is not None:
        unless_cache_down(
            lambda: cache.set(kept_key, (version, user), KEPT_SECONDS), otherwise=None
        )
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
