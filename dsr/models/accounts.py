"""Account lifecycle: invitations to use the register.

An administrator invites someone by email; the invitation holds the account's details and roles
until the invitee accepts it, and only then does the account exist. The link in the email
carries a token the database never holds: only its SHA-256 hash is stored (dsr.accounts).
"Expired" is not a status: it is worked out from `expires_at` when read.

A password reset request is a row too, written alike whether or not the address has an account,
so that the background job is sent only its id and a sweep handles a request whose job could
not be queued (dsr.accounts).
"""

from datetime import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_otp.models import Device

from dsr.history import audited
from dsr.models.core import Organisation, TimeStampedModel


class Invitation(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Withdrawn"

    # A pending invitation is accepted or withdrawn, once; nothing follows either.
    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.PENDING: {Status.ACCEPTED, Status.REVOKED},
        Status.ACCEPTED: set(),
        Status.REVOKED: set(),
    }

    email = models.EmailField("email address")
    full_name = models.CharField(max_length=150)
    job_title = models.CharField(max_length=150, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="invitations"
    )
    # The roles the account will hold (dsr.roles.Role values).
    roles = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # SHA-256 of the token in the latest email; sending again replaces it, so older links die.
    token_hash = models.CharField(max_length=64, unique=True)
    sends = models.PositiveSmallIntegerField(default=1)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="invitation",
        null=True,
        blank=True,
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    history = audited(excluded_fields=["token_hash"])

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(status="pending"),
                name="one_pending_invitation_per_email",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="accepted", user__isnull=False, accepted_at__isnull=False)
                    | (~Q(status="accepted") & Q(user__isnull=True, accepted_at__isnull=True))
                ),
                name="invitation_acceptance_is_complete",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="revoked", revoked_at__isnull=False, revoked_by__isnull=False)
                    | (~Q(status="revoked") & Q(revoked_at__isnull=True, revoked_by__isnull=True))
                ),
                name="invitation_withdrawal_is_complete",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("sent_at")), name="invitation_expires_after_sending"
            ),
            models.CheckConstraint(condition=~Q(roles=[]), name="invitation_has_a_role"),
        ]

    def __str__(self) -> str:
        return f"Invitation to {self.email} ({self.status})"

    def is_expired(self, now: datetime) -> bool:
        return self.status == self.Status.PENDING and self.expires_at <= now

    def state(self, now: datetime) -> str:
        """The state to show: pending, expired, accepted or revoked."""
        return "expired" if self.is_expired(now) else self.status

    def can_transition(self, to: str) -> bool:
        return to in self.ALLOWED_TRANSITIONS[self.status]


class PasswordResetRequest(models.Model):
    """A password reset asked for: the address as typed (trimmed, in lower case), until the
    request has been handled and a day has passed (dsr.accounts.password_reset_sweep). Work
    bookkeeping, not audited: the request is recorded by its password_reset_requested audit
    event (dsr.security.audit), and the email it leads to by its outbox row."""

    email = models.EmailField("email address as typed")
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_at__isnull=True) | Q(processed_at__gte=F("requested_at")),
                name="password_reset_processed_after_request",
            ),
        ]

    def __str__(self) -> str:
        state = "handled" if self.processed_at else "waiting"
        return f"Password reset request {self.pk} ({state})"


class ProviderIdentity(Device):
    """An NHS identity (a CIS2 or Entra ID subject) linked to an account that already exists.

    The link is made at the first sign-in through the provider whose verified email address is
    an active account's (dsr.accounts.identity_providers); later sign-ins match the subject
    alone. A provider never creates an account or grants a role.

    It is also the django-otp device a provider sign-in is verified with when the provider
    recorded a multi-factor authentication: the session names it as its verified device, as it
    names the authenticator app after a code. It never checks a code itself.
    """

    provider = models.CharField(max_length=20)
    subject = models.CharField(max_length=255)
    linked_at = models.DateTimeField(default=timezone.now)
    # The last sign-in through the link (dsr.accounts.identity_providers.identity_used).
    last_used_at = models.DateTimeField(null=True, blank=True)
    # When an administrator removed the link (dsr.accounts.identity_providers.identity_remove):
    # the row stays, so that this identity is not linked again by its email address but is
    # treated as unknown; the account may be linked to another identity of the provider.
    removed_at = models.DateTimeField(null=True, blank=True)

    history = audited()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="one_link_per_identity"),
            models.UniqueConstraint(
                fields=["provider", "user"],
                condition=Q(removed_at__isnull=True),
                name="one_identity_per_provider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} identity of account {self.user_id}"

    def verify_token(self, token) -> bool:
        return False


class ProviderSession(models.Model):
    """A session signed in through a provider, by the provider's session id (`sid`) and subject,
    so that the provider's back-channel logout can end it. Goes with the session row."""

    session = models.OneToOneField(Session, on_delete=models.CASCADE, primary_key=True)
    provider = models.CharField(max_length=20)
    subject = models.CharField(max_length=255)
    sid = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["provider", "sid"]),
            models.Index(fields=["provider", "subject"]),
        ]

    def __str__(self) -> str:
        return f"Session signed in through {self.provider}"
