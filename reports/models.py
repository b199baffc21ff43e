"""The read feed's tokens and its call log (reports.api).

A token is issued by an administrator for a BI tool (ACCESS.md "API client") and reads the
protected aggregates of one organisation's areas, as that organisation's planning commissioners
do. Only a digest of it is kept: the token itself is shown once, when it is issued. Every call
made with a known token, answered or refused, is one `ApiCall` row (append-only).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from dsr.history import audited
from dsr.models import Organisation


class ApiToken(models.Model):
    name = models.CharField(max_length=100)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    # The first characters of the token, to tell tokens apart; the rest is never stored.
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    history = audited(excluded_fields=["digest"])

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.withdrawn_at is None and self.expires_at > now

    @property
    def status(self) -> str:
        if self.withdrawn_at is not None:
            return "Withdrawn"
        if self.expires_at <= timezone.now():
            return "Expired"
        return "In use"


class ApiCall(models.Model):
    """One call to the read feed with a known token. Holds the path and its query (dates, area
    ids, an age group: nothing about a person) and the answer's status."""

    token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, related_name="calls")
    at = models.DateTimeField(default=timezone.now)
    path = models.CharField(max_length=300)
    query = models.CharField(max_length=500, blank=True)
    status = models.PositiveSmallIntegerField()
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["token", "-at"], name="api_call_token_idx")]

    def __str__(self) -> str:
        return f"{self.path} {self.status} at {self.at:%Y-%m-%d %H:%M}"
