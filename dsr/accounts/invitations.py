"""Invitations: made, sent again, withdrawn and accepted, with a token only the email holds
(see the package docstring)."""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from dsr import tokens
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import Invitation, Notification, Organisation, User
from dsr.notifications import (
    INVITATION_SUBJECT,
    notify_invitation,
)
from dsr.roles import Role

logger = logging.getLogger(__name__)

# Administrators are made by a superuser in the admin site: only a superuser may let someone
# into the admin site (dsr.admin.UserAdmin), so an invited administrator could not do the job.
INVITABLE_ROLES: list[Role] = [role for role in Role if role != Role.ADMINISTRATOR]


_TOKEN_SALT = "dsr.accounts.invitation"  # noqa: S105  (an HMAC salt, not a password)


class InvitationError(RegisterError):
    """An invitation could not be made, sent, withdrawn or accepted; the message is for the
    person using the page."""


def _token_value(invitation: Invitation) -> str:
    stamp = invitation.sent_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")
    return f"{invitation.email}|{invitation.sends}|{stamp}"


def _token_hash(invitation: Invitation) -> str:
    return tokens.digest(tokens.keyed(_TOKEN_SALT, _token_value(invitation)))


def invitation_token(invitation: Invitation) -> str:
    """The token of the invitation's latest email (64 hex characters).

    Made again at send time from the secret key; a key rotated since the invitation was sent is
    still found among SECRET_KEY_FALLBACKS. Raises InvitationError when no key gives the stored
    hash (the invitation must then be sent again)."""
    token = tokens.made_again(_TOKEN_SALT, _token_value(invitation), invitation.token_hash)
    if token is not None:
        return token
    raise InvitationError("The invitation link cannot be made again. Send the invitation again.")


def get_invitation_by_token(token: str) -> Invitation | None:
    """The invitation whose latest email carries `token`, whatever its state; None for any
    other string (no query for one that is not even the right shape)."""
    rows = Invitation.objects.select_related("organisation")
    return tokens.find(rows, token, field="token_hash", shape=tokens.KEYED)


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
    invitation.token_hash = _token_hash(invitation)
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
        current.token_hash = _token_hash(current)
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
