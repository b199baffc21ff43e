"""Reminder rows: one per object, kind and stage, inserted by the deadline sweeps.

The unique key is the whole guarantee: a sweep that runs twice, two beats, or two workers at
once can only ever insert a stage once (STYLE point 6). "Overdue" is never stored: it is worked
out from the due date when read.
"""

from django.db import models
from django.utils import timezone


class Reminder(models.Model):
    subject_type = models.CharField(max_length=60)
    subject_id = models.BigIntegerField()
    kind = models.CharField(max_length=40)
    stage = models.CharField(max_length=20)
    due_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "kind", "stage"],
                name="one_reminder_per_subject_kind_stage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.stage} for {self.subject_type} {self.subject_id}"
