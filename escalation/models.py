"""Escalations: a breach or a risk that needs a named senior person's attention (DOMAIN 8).

Unique per reason and triggering event (the referral, the rating row, the action), so the same
event never raises twice, however often a sweep runs, and a new event raises anew.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dsr.history import audited
from dsr.models import LocalAuthority, Person


class Escalation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.OPEN: {Status.ACKNOWLEDGED, Status.RESOLVED},
        Status.ACKNOWLEDGED: {Status.RESOLVED},
        Status.RESOLVED: set(),
    }

    class Reason(models.TextChoices):
        REFERRAL_OVERDUE = "referral_overdue", "Referral past its four-week deadline"

    reason = models.CharField(max_length=40, choices=Reason.choices)
    # The event that raised it: "<app>.<model>" and its id.
    trigger_type = models.CharField(max_length=60)
    trigger_id = models.BigIntegerField()
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="escalations", null=True, blank=True
    )
    local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    level = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)
    raised_at = models.DateTimeField(default=timezone.now)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    note = models.TextField(blank=True)

    history = audited()

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reason", "trigger_type", "trigger_id"], name="one_escalation_per_event"
            ),
            models.CheckConstraint(condition=Q(level__gte=1), name="escalation_level_from_1"),
        ]
        indexes = [models.Index(fields=["status", "level"], name="escalation_queue_idx")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} (level {self.level}, {self.get_status_display()})"


class EscalationTransition(models.Model):
    """Every move of an escalation, append-only: who, when, why."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=15, blank=True)
    to_status = models.CharField(max_length=15, choices=Escalation.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # One "raised" row per escalation, so two sweeps at once cannot write it twice.
            models.UniqueConstraint(
                fields=["escalation"], condition=Q(from_status=""), name="one_raised_row"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.escalation_id}: {self.from_status or 'new'} to {self.to_status}"
