"""Bringing an ICB's existing register across from its spreadsheet (issue 24).

An import is one uploaded file, checked (the dry run) and then applied in batches by a
background job. Each sheet row is an ImportRow: what the dry run found (its plan and the
problems per cell), and, once applied, what it wrote, so an import made by mistake can be undone.
A mapping (columns and values) is saved by name for the next file of the same shape.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from dsr.history import audited
from dsr.models.core import TimeStampedModel


class ImportMapping(TimeStampedModel):
    """Which sheet column holds which register field, and what the ICB's own words mean."""

    name = models.CharField(max_length=100, unique=True)
    # {field: header text}
    columns = models.JSONField(default=dict)
    # {field: {sheet word (case-folded): register code}}
    values = models.JSONField(default=dict)
    # Choices the lead made for the whole file (a field the sheet has no column for).
    constants = models.JSONField(default=dict)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = audited()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RegisterImport(TimeStampedModel):
    """One file brought in, from upload to import (or undo)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Columns not yet matched"
        CHECKING = "checking", "Checking"
        CHECKED = "checked", "Checked, not yet imported"
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        UNDONE = "undone", "Undone"

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The name as uploaded, cleaned for display; the file itself is kept under a random name
    # outside the web root (settings.DSR_IMPORT_DIR) and deleted when no longer needed.
    file_name = models.CharField(max_length=100)
    stored_name = models.CharField(max_length=64, blank=True)
    file_deleted_at = models.DateTimeField(null=True, blank=True)
    checksum = models.CharField("SHA-256 checksum", max_length=64)
    file_kind = models.CharField(max_length=4)  # xlsx or csv
    sheet_name = models.CharField(max_length=100, blank=True)
    header_row = models.PositiveIntegerField(default=1)
    headers = models.JSONField(default=list)
    sheets = models.JSONField(default=list)  # [{name, header_row, rows}] found in the file
    mapping = models.ForeignKey(
        ImportMapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    columns = models.JSONField(default=dict)
    values = models.JSONField(default=dict)
    constants = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    counts = models.JSONField(default=dict)  # outcome -> rows, from the dry run
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    history = audited()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.file_name})"

    @property
    def reason(self) -> str:
        """The history entry every row it writes carries: the import and the file's checksum."""
        return f"Imported from spreadsheet (import {self.pk}, SHA-256 {self.checksum[:16]})"

    @property
    def percent(self) -> int:
        return 100 if not self.rows_total else round(100 * self.rows_done / self.rows_total)


class ImportRow(models.Model):
    """One data row of the sheet: the dry run's plan for it and, once imported, what it wrote."""

    class Outcome(models.TextChoices):
        CREATE = "create", "Will be added"
        PERSON_ONLY = "person_only", "Person only, awaiting consent or rating"
        UPDATE = "update", "Will be updated"
        SAME = "same", "Already identical: skipped"
        LIKELY_MATCH = "likely_match", "Possible match: the lead decides"
        REFUSED = "refused", "Refused"

    register_import = models.ForeignKey(
        RegisterImport, on_delete=models.CASCADE, related_name="rows"
    )
    row_number = models.PositiveIntegerField()  # as the spreadsheet numbers it
    raw = models.JSONField(default=list)  # the row's cells as text, in sheet column order
    outcome = models.CharField(max_length=15, choices=Outcome.choices, blank=True)
    # [{"column": header, "field": field, "message": text}]
    problems = models.JSONField(default=list)
    notes = models.JSONField(default=list)  # required next steps and what was not brought across
    plan = models.JSONField(default=dict)  # the cleaned values the import writes
    person = models.ForeignKey(
        "dsr.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # For a likely match: the person it may be, and the lead's decision ("same" or "different").
    candidate = models.ForeignKey(
        "dsr.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(max_length=10, blank=True)
    applied = models.BooleanField(default=False)
    # What the import wrote: {"created": {model: [ids]}, "updated": {field: old value},
    # "stamps": {model:id: updated_at}} for undo.
    written = models.JSONField(default=dict)

    class Meta:
        ordering = ["row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["register_import", "row_number"], name="import_row_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["register_import", "row_number"],
                condition=Q(applied=False),
                name="import_row_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Row {self.row_number} of import {self.register_import_id}"
