"""Oversight visits to people placed in hospital out of area (DOMAIN rule 12)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from dsr.history import audited
from dsr.models import Admission, Person, TimeStampedModel


class OversightVisit(TimeStampedModel):
    """An on-site visit to someone placed in hospital out of area (DOMAIN rule 12)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="oversight_visits")
    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="oversight_visits"
    )
    visited_on = models.DateField()
    visited_by = models.CharField(max_length=150)
    findings = models.TextField()
    concerns = models.BooleanField("concerns about care or safety", default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = audited()

    class Meta:
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(findings=""), name="visit_has_findings"),
        ]

    def __str__(self) -> str:
        return f"Oversight visit on {self.visited_on:%d %B %Y}"
