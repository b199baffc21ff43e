"""The notification outbox: every message the service owes someone, written in the same
transaction as the decision that owes it (RELIABILITY.md section G).

A row is the work. Delivery claims pending rows and records the result; the unique key makes a
second copy of the same message impossible however often a decision or sweep runs.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dsr.security.scoping import ScopedQuerySet, in_area_or_unknown_for_icb


class NotificationQuerySet(ScopedQuerySet):
    """Messages about people in the user's areas; those whose area is not known yet are seen
    by staff of an ICB (as referrals are)."""

    def visible_to(self, user) -> "NotificationQuerySet":
        if not user.has_perm("dsr.manage_referrals"):
            return self.none()
        return self.filter(in_area_or_unknown_for_icb(user))


# What staff call each kind of message (a kind without a label is its name in words, with
# C(E)TR written as the service writes it).
KIND_LABELS = {
    "referral_received": "Referral acknowledgement",
    "referral_outcome": "Referral outcome",
    "cetr_request_received": "C(E)TR request acknowledgement",
    "cetr_request_arranged": "C(E)TR request: review arranged",
    "cetr_request_declined": "C(E)TR request: declined",
    "referral_day14": "Reminder: decision due in 14 days",
    "referral_day21": "Reminder: decision due in 7 days",
    "referral_day27": "Reminder: decision due tomorrow",
    "referral_breach": "Four-week deadline passed",
    "referral_received_easy_read": "Referral acknowledgement (easy read)",
    "referral_outcome_easy_read": "Referral outcome (easy read)",
    "account_invitation": "Account invitation",
    "password_reset": "Password reset",
    "dormant_accounts_disabled": "Dormant accounts switched off",
    "action_due": "Reminder: action due today",
    "action_due_soon": "Reminder: action due soon",
    "action_link": "Action owner's link",
    "action_blocked": "Action owner says something is in the way",
    "consent_review_due": "Reminder: consent review due",
    "rating_review_due": "Reminder: rating review due",
    "inadequate_hospital_admission": "Admission to a hospital rated inadequate",
    "escalation_raised": "Escalation raised",
    "escalation_level_up": "Escalation moved up a level",
    "escalation_digest": "Escalations digest",
    "escalation_queue_repaired": "Escalation queue repaired",
}
# The recipient key of the letter giving a not-eligible decision's reasons to someone told the
# outcome by email ends with this (referrals.recipients.OutcomeMessage.key).
REASONS_LETTER_SUFFIX = "-letter"


class Notification(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"
        SMS = "sms", "Text message"

    class Receipt(models.TextChoices):
        """What the message provider (GOV.UK Notify) last reported about delivery."""

        DELIVERED = "delivered", "Delivered"
        PERMANENT_FAILURE = "permanent-failure", "Not delivered: the address or number is wrong"
        TEMPORARY_FAILURE = (
            "temporary-failure",
            "Not delivered: the inbox or phone was not available",
        )
        TECHNICAL_FAILURE = "technical-failure", "Not delivered: a technical fault"
        RETURNED_LETTER = "returned-letter", "Letter returned to sender"
        # A letter's own statuses (GOV.UK Notify's letter and precompiled letter statuses).
        RECEIVED = "received", "Letter printed and posted"
        CANCELLED = "cancelled", "Letter cancelled: not printed or posted"
        VALIDATION_FAILED = (
            "validation-failed",
            "Letter not printed: it goes outside the area that can be printed",
        )
        VIRUS_SCAN_FAILED = "virus-scan-failed", "Letter not printed: it failed a virus check"
        # Notify's "permanent-failure" for a letter: its printer could not print it.
        NOT_PRINTED = "not-printed", "Letter not printed: the printer could not print it"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        LETTER_READY = "letter_ready", "Letter ready to print and post"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Format(models.TextChoices):
        STANDARD = "standard", "Standard"
        EASY_READ = "easy_read", "Easy read"
        LARGE_PRINT = "large_print", "Large print"

    # What the message is about: "<app>.<model>" and its id (for example "referrals.referral").
    subject_type = models.CharField(max_length=60)
    subject_id = models.BigIntegerField()
    # The area of the person the message is about, for scope (ACCESS.md); empty when unknown.
    local_authority = models.ForeignKey(
        "dsr.LocalAuthority", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Which message: the template family under templates/emails/ (for example
    # "referral_outcome_not_eligible").
    kind = models.CharField(max_length=60)
    # A stable key for the recipient within the subject (for example "contact-12", "referrer").
    recipient_key = models.CharField(max_length=60)
    recipient_name = models.CharField(max_length=150)
    recipient_role = models.CharField(max_length=80, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True, db_default="")
    postal_address = models.TextField(blank=True)
    accessible_format = models.CharField(
        max_length=20, choices=Format.choices, default=Format.STANDARD
    )
    # Everything the templates need, as plain values: no query at send time.
    context = models.JSONField(default=dict)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    scheduled_for = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    # The provider's last delivery receipt for it, and when it came (empty until one does).
    receipt = models.CharField(max_length=20, choices=Receipt.choices, blank=True, db_default="")
    receipt_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.TextField(blank=True)
    # A message that failed or was not delivered, which staff have dealt with another way (who,
    # when and what they did): it leaves the lists of messages to act on. Written once.
    dealt_with_at = models.DateTimeField(null=True, blank=True)
    dealt_with_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    dealt_with_note = models.TextField(blank=True, db_default="")

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "kind", "recipient_key"],
                name="one_message_per_subject_kind_recipient",
            ),
            models.CheckConstraint(
                condition=~Q(channel="email") | ~Q(email=""), name="email_has_an_address"
            ),
            models.CheckConstraint(
                condition=~Q(channel="letter") | ~Q(postal_address=""),
                name="letter_has_an_address",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="sent_has_a_time"
            ),
            models.CheckConstraint(
                condition=~Q(channel="sms") | ~Q(phone=""), name="sms_has_a_number"
            ),
            models.CheckConstraint(
                condition=Q(dealt_with_at__isnull=True) | Q(dealt_with_by__isnull=False),
                name="dealt_with_by_someone",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_for"], name="notification_due_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="notification_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient_role or self.recipient_key} ({self.status})"

    @property
    def kind_label(self) -> str:
        """What the message is, in staff's words, wherever messages are listed."""
        label = KIND_LABELS.get(self.kind) or self.kind.replace("_", " ").capitalize().replace(
            "Cetr ", "C(E)TR "
        ).replace(" cetr ", " C(E)TR ")
        if self.kind == "referral_outcome" and self.recipient_key.endswith(REASONS_LETTER_SUFFIX):
            label += ": the reasons"
        return label
