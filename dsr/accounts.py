"""Account lifecycle: invitations, switching off unused accounts, and the access review.

- An administrator invites someone by email. The link in the email carries a token made with
  the service's secret key from the invitation's latest send; the database keeps only the
  token's SHA-256 hash, so reading the database alone never gives a working link. Sending again
  makes a new token (the old link then matches nothing); accepting or withdrawing ends it.
- Accepting creates the account with the invitation's roles and organisation and the password
  the invitee chose; they then set up their authenticator app (dsr.views.accounts.setup).
- Every night accounts not signed in to for DSR_ACCOUNT_DORMANT_DAYS are switched off, with the
  reason in their history; switching an account off ends its live sessions, because the
  authentication backend refuses an inactive user on their next request.
- A password reset request does the same work whatever the address typed, so neither its page
  nor its timing tells whether an account exists: it writes a PasswordResetRequest row and,
  after commit, queues a background job with the row's id (never the address). The job finds
  the active account, if any, and queues the outbox message; a sweep does the same for a row
  whose job could not be queued, and deletes handled rows a day later. The link is made when
  the message is sent, so the outbox row holds no working link. An account gets at most
  DSR_PASSWORD_RESET_PER_ACCOUNT_HOUR such messages an hour, however many are asked for.
"""

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.utils import bulk_update_with_history

from dsr.audit import Event, record_event
from dsr.history import set_change_reason
from dsr.models import Invitation, Notification, Organisation, PasswordResetRequest, User
from dsr.notifications import (
    INVITATION_SUBJECT,
    PASSWORD_RESET_SUBJECT,
    notify_dormant_accounts_disabled,
    notify_invitation,
    notify_password_reset,
)
from dsr.outbox import task_after_commit
from dsr.roles import Role
from dsr.services import RegisterError

logger = logging.getLogger(__name__)

# A password reset request the sweep handles: one waiting this long (its job, queued at commit,
# normally runs within a second), up to this many a run; one handled is deleted, with the address
# typed, this long after.
PASSWORD_RESET_SWEEP_AFTER = timedelta(seconds=10)
PASSWORD_RESET_SWEEP_BATCH = 500
PASSWORD_RESET_KEEP = timedelta(hours=24)
# Administrators are made by a superuser in the admin site: only a superuser may let someone
# into the admin site (dsr.admin.UserAdmin), so an invited administrator could not do the job.
INVITABLE_ROLES: list[Role] = [role for role in Role if role != Role.ADMINISTRATOR]
# The most accounts one summary email names; the access review page lists them all.
SUMMARY_NAMES = 50

_TOKEN = re.compile(r"[0-9a-f]{64}")
_TOKEN_SALT = "dsr.accounts.invitation"  # noqa: S105  (an HMAC salt, not a password)


class InvitationError(RegisterError):
    """An invitation could not be made, sent, withdrawn or accepted; the message is for the
    person using the page."""


# --- Tokens ------------------------------------------------------------------------------------


def _token_with(invitation: Invitation, secret: str) -> str:
    stamp = invitation.sent_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")
    value = f"{invitation.email}|{invitation.sends}|{stamp}"
    return salted_hmac(_TOKEN_SALT, value, secret=secret, algorithm="sha256").hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_token(invitation: Invitation) -> str:
    """The token of the invitation's latest email (64 hex characters).

    Made again at send time from the secret key; a key rotated since the invitation was sent is
    still found among SECRET_KEY_FALLBACKS. Raises InvitationError when no key gives the stored
    hash (the invitation must then be sent again)."""
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        token = _token_with(invitation, secret)
        if _hash(token) == invitation.token_hash:
            return token
    raise InvitationError("The invitation link cannot be made again. Send the invitation again.")


def get_invitation_by_token(token: str) -> Invitation | None:
    """The invitation whose latest email carries `token`, whatever its state; None for any
    other string (no query for one that is not even the right shape)."""
    if not _TOKEN.fullmatch(token):
        return None
    return Invitation.objects.select_related("organisation").filter(token_hash=_hash(token)).first()


# --- Sign-in lockout ---------------------------------------------------------------------------

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


# --- Password reset ----------------------------------------------------------------------------


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


# --- Invitations -------------------------------------------------------------------------------


def _expiry(now: datetime) -> datetime:
    return now + timedelta(days=settings.DSR_INVITATION_DAYS)


def _cancel_unsent(invitation: Invitation, reason: str) -> int:
    # Outbox bookkeeping (not history-tracked): an older email still waiting is never sent.
    return Notification.objects.filter(
        subject_type=INVITATION_SUBJECT,
        subject_id=invitation.pk,
        status=Notification.Status.PENDING,
    ).update(status=Notification.Status.CANCELLED, cancelled_reason=reason)


def invitation_create(
    *,
    email: str,
    full_name: str,
    organisation: Organisation,
    roles: list[str],
    by: User,
    job_title: str = "",
) -> Invitation:
    """Invite someone to hold `roles` at `organisation`, and queue the email with their link.

    Raises InvitationError when a role may not be invited, the address already has an account,
    or it already has an invitation waiting (the database's unique key decides a race). Queues
    one outbox message, delivered after commit.
    """
    roles = list(dict.fromkeys(roles))
    if not roles:
        raise InvitationError("Select at least one role.")
    if any(role not in INVITABLE_ROLES for role in roles):
        raise InvitationError("Administrators are made in the admin site, not invited.")
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise InvitationError("An account with this email address already exists.")
    now = timezone.now()
    invitation = Invitation(
        email=email,
        full_name=full_name,
        job_title=job_title,
        organisation=organisation,
        roles=roles,
        sent_at=now,
        expires_at=_expiry(now),
        invited_by=by,
    )
    invitation.token_hash = _hash(_token_with(invitation, settings.SECRET_KEY))
    set_change_reason(invitation, "Invitation sent", by=by)
    try:
        with transaction.atomic():
            invitation.save()
            notify_invitation(invitation)
    except IntegrityError as exc:
        raise InvitationError(
            "This email address already has an invitation waiting. Send that one again from "
            "the list of invitations."
        ) from exc
    logger.info("invitation sent invitation=%s by=%s", invitation.pk, by.pk)
    return invitation


def invitation_resend(*, invitation: Invitation, by: User) -> Invitation:
    """Send a waiting (or expired) invitation again: a new link, valid for another
    DSR_INVITATION_DAYS; the old link stops working and an older email not yet sent is
    cancelled. Raises InvitationError once it has been accepted or withdrawn."""
    with transaction.atomic():
        current = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if current.status != Invitation.Status.PENDING:
            raise InvitationError(
                "This invitation has been accepted or withdrawn, so it cannot be sent again."
            )
        now = timezone.now()
        _cancel_unsent(current, "A newer invitation email replaced this one.")
        current.sends += 1
        current.sent_at = now
        current.expires_at = _expiry(now)
        current.token_hash = _hash(_token_with(current, settings.SECRET_KEY))
        set_change_reason(current, "Invitation sent again", by=by)
        current.save(update_fields=["sends", "sent_at", "expires_at", "token_hash", "updated_at"])
        notify_invitation(current)
    logger.info(
        "invitation sent again invitation=%s by=%s sends=%s", current.pk, by.pk, current.sends
    )
    return current


def invitation_revoke(*, invitation: Invitation, by: User) -> Invitation:
    """Withdraw a waiting invitation: its link stops working and an email not yet sent is
    cancelled. Withdrawing twice changes nothing; raises InvitationError once accepted."""
    with transaction.atomic():
        current = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if current.status == Invitation.Status.REVOKED:
            return current
        if not current.can_transition(Invitation.Status.REVOKED):
            raise InvitationError(
                "This invitation has already been accepted. Deactivate the account instead."
            )
        _cancel_unsent(current, "The invitation was withdrawn.")
        current.status = Invitation.Status.REVOKED
        current.revoked_at = timezone.now()
        current.revoked_by = by
        set_change_reason(current, "Invitation withdrawn", by=by)
        current.save(update_fields=["status", "revoked_at", "revoked_by", "updated_at"])
    logger.info("invitation withdrawn invitation=%s by=%s", current.pk, by.pk)
    return current


def invitation_accept(*, invitation: Invitation, password: str) -> User:
    """Make the invitee's account with the invitation's details, roles and the password they
    chose (already checked by the password validators), and mark the invitation accepted.

    Raises InvitationError when the invitation is no longer waiting (used, withdrawn or
    expired; checked under a row lock, so a link works once even when sent twice at once), or
    an account with the address was made some other way since.
    """
    with transaction.atomic():
        current = Invitation.objects.select_for_update().get(pk=invitation.pk)
        now = timezone.now()
        if current.state(now) != Invitation.Status.PENDING:
            raise InvitationError("This invitation can no longer be used.")
        user = User(
            email=current.email,
            full_name=current.full_name,
            job_title=current.job_title,
            organisation_id=current.organisation_id,
            date_joined=now,
        )
        user.set_password(password)
        set_change_reason(user, f"Account made from invitation {current.pk}", by=None)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:
            raise InvitationError(
                "An account with this email address already exists. Sign in with it, or ask "
                "your administrator."
            ) from exc
        labels = [Role(role).label for role in current.roles]
        user.groups.set(Group.objects.filter(name__in=labels))
        current.status = Invitation.Status.ACCEPTED
        current.accepted_at = now
        current.user = user
        set_change_reason(current, "Invitation accepted", by=user)
        current.save(update_fields=["status", "accepted_at", "user", "updated_at"])
    logger.info("invitation accepted invitation=%s user=%s", current.pk, user.pk)
    return user


def invitations_waiting() -> QuerySet[Invitation]:
    """Invitations not yet accepted or withdrawn, expired ones included, soonest to expire
    first."""
    return (
        Invitation.objects.filter(status=Invitation.Status.PENDING)
        .select_related("organisation", "invited_by")
        .order_by("expires_at", "id")
    )


def invitation_context(invitation_id: int) -> dict[str, Any]:
    """What the invitation email says, made at delivery: the link of the latest send. Raises
    InvitationError (the outbox then marks the message failed) once the invitation is no
    longer waiting, so a withdrawn invitation's email is never sent."""
    invitation = Invitation.objects.select_related("organisation").get(pk=invitation_id)
    if invitation.state(timezone.now()) != Invitation.Status.PENDING:
        raise InvitationError("The invitation is no longer waiting to be accepted.")
    token = invitation_token(invitation)
    expires = timezone.localtime(invitation.expires_at)
    return {
        "url": settings.SITE_URL + reverse("accounts:invitation-accept", args=[token]),
        "expires": f"{expires:%-d %B %Y at %H:%M}",
        "organisation": invitation.organisation.name,
        "roles": ", ".join(Role(role).label for role in invitation.roles),
    }


# --- Unused accounts ---------------------------------------------------------------------------


def last_activity() -> Greatest:
    """When an account was last in use, as a query expression: the latest of its last sign-in,
    its creation (for an invited account, when the invitation was accepted) and its last
    reactivation, so an account switched back on is not switched off again the next night.

    The reactivation is the earliest history row showing the account active with no inactive
    row after it; for an account never switched off, that is its first row.
    """
    history = User.history.model
    later_off = history.objects.filter(
        id=OuterRef("id"), is_active=False, history_date__gt=OuterRef("history_date")
    )
    active_since = (
        history.objects.filter(id=OuterRef("pk"), is_active=True)
        .exclude(Exists(later_off))
        .order_by("history_date")
        .values("history_date")[:1]
    )
    return Greatest(
        Coalesce("last_login", "date_joined"),
        Coalesce(Subquery(active_since), "date_joined"),
    )


def accounts_disable_dormant(*, now: datetime | None = None) -> list[int]:
    """Switch off every active account whose last activity (see last_activity) is more than
    DSR_ACCOUNT_DORMANT_DAYS before `now`; returns their ids.

    Set-based: one query finds them, one bulk update with history switches them off, each with
    the reason in its history. Accounts locked by another transaction are left for the next
    run. Their live sessions end with it (the backend refuses inactive users). Queues one
    summary email to each administrator still active when any account was switched off.
    """
    now = now or timezone.now()
    days = settings.DSR_ACCOUNT_DORMANT_DAYS
    cutoff = now - timedelta(days=days)
    with transaction.atomic():
        dormant = list(
            User.objects.select_for_update(skip_locked=True, of=("self",))
            .annotate(active_at=last_activity())
            # Superusers are left on: they are how accounts are switched back on, and a night
            # that switched off every one would leave nobody able to.
            .filter(is_active=True, is_superuser=False, active_at__lt=cutoff)
            .select_related("organisation")
            .order_by("full_name", "id")
        )
        if not dormant:
            logger.info("dormant accounts: none to switch off")
            return []
        for user in dormant:
            user.is_active = False
        bulk_update_with_history(
            dormant,
            User,
            ["is_active"],
            batch_size=500,
            default_change_reason=f"Not signed in for {days} days: switched off",
        )
        _tell_administrators(dormant, now, days)
        # A bulk update sends no save signal: each switch-off is recorded here instead.
        for user in dormant:
            record_event(Event.ACCOUNT_DEACTIVATED, None, user_id=user.pk, reason="dormant")
    ids = [user.pk for user in dormant]
    logger.info("dormant accounts switched off count=%s ids=%s", len(ids), ids)
    return ids


def _tell_administrators(dormant: list[User], now: datetime, days: int) -> int:
    """One summary email to each active administrator: who was switched off, and a link to
    the access review. The run is keyed by its London minute, so a rerun adds no copy."""
    administrators = User.objects.filter(
        is_active=True, groups__name=Role.ADMINISTRATOR.label
    ).order_by("id")
    accounts = [
        {
            "name": user.full_name or user.email,
            "email": user.email,
            "organisation": user.organisation.name if user.organisation else "",
            "last_signed_in": (
                f"{timezone.localtime(user.last_login):%-d %B %Y}" if user.last_login else "never"
            ),
        }
        for user in dormant[:SUMMARY_NAMES]
    ]
    context = {
        "count": len(dormant),
        "days": days,
        "accounts": accounts,
        "more": max(0, len(dormant) - SUMMARY_NAMES),
        "url": settings.SITE_URL + reverse("dsr:account-review"),
    }
    sent = notify_dormant_accounts_disabled(administrators, context, now)
    if not sent:
        logger.warning("dormant accounts switched off but no active administrator to tell")
    return sent


# --- The access review -------------------------------------------------------------------------


def account_review_list(
    *, role: str = "", organisation: Organisation | None = None
) -> QuerySet[User]:
    """Every active account, with its organisation, roles, whether it has a confirmed
    authenticator app and its invitation; filtered by role and organisation. Two queries
    whatever the number of accounts (the accounts, then their groups)."""
    users = (
        User.objects.filter(is_active=True)
        .select_related("organisation", "invitation")
        .prefetch_related("groups")
        .annotate(
            has_second_factor=Exists(
                TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)
            )
        )
        .order_by("full_name", "id")
    )
    if role:
        users = users.filter(groups__name=Role(role).label)
    if organisation is not None:
        users = users.filter(organisation=organisation)
    return users


def invitation_state_of(user: User) -> str:
    """How an account came to be, for the review: "Accepted <date>" or "Not invited"."""
    try:
        invitation = user.invitation
    except Invitation.DoesNotExist:
        return "Not invited"
    return f"Invitation accepted {timezone.localtime(invitation.accepted_at):%-d %B %Y}"
