"""The access log: who read which person's record, or downloaded which export (ACCESS.md)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from dsr.models.people import Person


class AccessEvent(models.Model):
    """Who read which person's record, or downloaded which export, and when (ACCESS.md).

    Append-only. Holds ids and filter names, never names, NHS numbers or search terms.
    """

    class Action(models.TextChoices):
        VIEW_PERSON = "view_person", "Viewed a person's record"
        EXPORT_REGISTER = "export_register", "Downloaded a register export"
        SEARCH_REGISTER = "search_register", "Found in a register search"
        LIST_REGISTER = "list_register", "Listed on a page of the register"
        VIEW_REFERRAL = "view_referral", "Viewed a referral"
        DOWNLOAD_ATTACHMENT = "download_attachment", "Downloaded a referral attachment"
        VIEW_LETTER = "view_letter", "Downloaded a letter to print"
        EXPORT_PERSON = "export_person", "Downloaded everything held about a person"
        EXPORT_AT = "export_at", "In a downloaded Assuring Transformation extract"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The log outlives what it names: an import undone removes the people it added, while the
    # reads of their records stay logged (by id, never by name). So no database constraint
    # holds the person, and removing one leaves the rows; the retention service removes them
    # with the person's record when the period ends (dsr.records).
    person = models.ForeignKey(
        Person,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="access_events",
        null=True,
        blank=True,
    )
    action = models.CharField(max_length=30, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)
    path = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    # The request's correlation id (X-Request-ID), as on its log records; blank outside a request.
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "-at"], name="access_person_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by user {self.user_id} at {self.at:%Y-%m-%d %H:%M}"
