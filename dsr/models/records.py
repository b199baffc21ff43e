"""Records management: each run of the retention schedule and what it removed (dsr.records)."""

from django.db import models
from django.utils import timezone


class RetentionRun(models.Model):
    """One rule of the retention schedule applied once: when, to records older than what, and
    how many rows it removed (or, for sent messages, anonymised) in each table. Append-only;
    holds table names and counts, never an id or anything about a person."""

    class Kind(models.TextChoices):
        CLOSED_RECORDS = "closed_records", "People off the register past their retention period"
        DECLINED_REFERRALS = "declined_referrals", "Declined and withdrawn referrals"
        ACCESS_LOG = "access_log", "Access-log rows"
        OUTBOX = "outbox", "Recipients' details in sent messages"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    ran_at = models.DateTimeField(default=timezone.now)
    # Records whose period ended before this moment were past their retention period.
    cutoff = models.DateTimeField()
    # {"<table>": rows, ...}, and "stored files" for files deleted with their rows.
    removed = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-ran_at", "-id"]
        indexes = [models.Index(fields=["-ran_at", "-id"], name="retention_run_recent_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.ran_at:%Y-%m-%d %H:%M}: {self.total}"
