"""Password reset requests: the same work whatever the address typed, a job and a sweep to
handle them, and the limits (see the package docstring)."""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from dsr.exceptions import RegisterError
from dsr.models import Notification, PasswordResetRequest, User
from dsr.notifications import (
    PASSWORD_RESET_SUBJECT,
    notify_password_reset,
)
from dsr.outbox import task_after_commit

logger = logging.getLogger(__name__)

# A password reset request the sweep handles: one waiting this long (its job, queued at commit,
# normally runs within a second), up to this many a run; one handled is deleted, with the address
# typed, this long after.
PASSWORD_RESET_SWEEP_AFTER = timedelta(seconds=10)
PASSWORD_RESET_SWEEP_BATCH = 500
PASSWORD_RESET_KEEP = timedelta(hours=24)


class PasswordResetRefused(RegisterError):
    """A password reset email can no longer be sent: the account was switched off since."""


def password_reset_account_id(email: str) -> int | None:
    """The id of the active account `email` names, for the audit record of a request (one
    query, whether or not there is one)."""
    return (
        User.objects.filter(email__iexact=email.strip(), is_active=True)
        .values_list("pk", flat=True)
        .first()
    )


def password_reset_request(*, email: str) -> PasswordResetRequest:
    """Ask for a password reset email to `email`: write the request (one INSERT, whatever the
    address) and queue, after commit, the job that handles it (queue_password_reset_task, sent
    the row's id). Nothing here depends on whether the address belongs to an account. The row
    is the record of the request: if the broker cannot be reached, the failure is logged and
    password_reset_sweep handles the row."""
    from dsr.tasks import queue_password_reset_task

    reset = PasswordResetRequest.objects.create(email=email.strip().lower())
    task_after_commit(queue_password_reset_task, reset.pk)
    return reset


@transaction.atomic
def password_reset_process(*, request_id: int) -> int | None:
    """Handle one password reset request: queue the message for each active account with a
    usable password that its address names (Django's own matching, PasswordResetForm.get_users:
    the stored address must match the typed one case-insensitively), unless the account has
    already had DSR_PASSWORD_RESET_PER_ACCOUNT_HOUR of them in the last hour; then mark the
    request handled. Returns how many messages were queued, or None when there was nothing to
    do: the request is gone, already handled, or in another worker's hands (SKIP LOCKED), so
    the job and the sweep may both run it, and run it again, and one message is queued.

    The account's row is locked while its messages are counted, so requests at the same moment
    cannot pass the limit together. The message goes to the address the account holds; its link
    is made when it is sent (password_reset_context). Enqueues delivery after commit.
    """
    reset = (
        PasswordResetRequest.objects.select_for_update(skip_locked=True)
        .filter(pk=request_id, processed_at__isnull=True)
        .first()
    )
    if reset is None:
        logger.info(
            "password reset request skipped (gone, handled or in hand) request=%s", request_id
        )
        return None
    limit = settings.DSR_PASSWORD_RESET_PER_ACCOUNT_HOUR
    since = timezone.now() - timedelta(hours=1)
    queued = 0
    for user in PasswordResetForm().get_users(reset.email):
        # The account's row lock: requests at the same moment are counted one by one.
        User.objects.select_for_update().filter(pk=user.pk).exists()
        sent = Notification.objects.filter(
            subject_type=PASSWORD_RESET_SUBJECT, subject_id=user.pk, created_at__gte=since
        )
        if sent.count() >= limit:
            logger.warning("password reset limit reached user=%s limit=%s", user.pk, limit)
            continue
        notify_password_reset(user, reset)
        queued += 1
        logger.info("password reset email queued user=%s request=%s", user.pk, reset.pk)
    reset.processed_at = timezone.now()
    reset.save(update_fields=["processed_at"])
    return queued


def password_reset_sweep() -> dict[str, int]:
    """Handle the password reset requests waiting longer than PASSWORD_RESET_SWEEP_AFTER (their
    job could not be queued, or was lost), oldest first, up to PASSWORD_RESET_SWEEP_BATCH a run;
    then delete the requests handled more than PASSWORD_RESET_KEEP ago, with the addresses
    typed. Safe beside the jobs and another sweep (password_reset_process). Returns how many
    requests were handled and how many deleted."""
    now = timezone.now()
    waiting = list(
        PasswordResetRequest.objects.filter(
            processed_at__isnull=True, requested_at__lt=now - PASSWORD_RESET_SWEEP_AFTER
        )
        .order_by("requested_at")
        .values_list("pk", flat=True)[:PASSWORD_RESET_SWEEP_BATCH]
    )
    handled = sum(
        password_reset_process(request_id=request_id) is not None for request_id in waiting
    )
    deleted, _ = PasswordResetRequest.objects.filter(
        processed_at__lt=now - PASSWORD_RESET_KEEP
    ).delete()
    if handled or deleted:
        logger.info("password reset sweep handled=%s deleted=%s", handled, deleted)
    return {"handled": handled, "deleted": deleted}


def password_reset_context(user_id: int) -> dict[str, Any]:
    """What the password reset email says, made when it is sent: a link with Django's reset
    token for the account as it is now (it stops working once the password changes or the
    account signs in, and after PASSWORD_RESET_TIMEOUT). Raises PasswordResetRefused (the
    outbox then marks the message failed) once the account is switched off."""
    user = User.objects.get(pk=user_id)
    if not user.is_active or not user.has_usable_password():
        raise PasswordResetRefused("The account was switched off after the reset was asked for.")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password-reset-confirm", kwargs={"uidb64": uid, "token": token})
    return {"url": settings.SITE_URL + path, "link_lifetime": password_reset_link_lifetime()}


def password_reset_link_lifetime() -> str:
    """How long a reset link works (PASSWORD_RESET_TIMEOUT), as the email and pages say it."""
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    return f"{hours} hour{pluralize(hours)}"
