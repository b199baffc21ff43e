"""The register: a person's entries on it, their ratings, admissions and C(E)TR exceptions.

Rules the database enforces here (DOMAIN.md section 12): one open entry per person; an open
entry always has a consent basis and a rating; a rating always has a rationale; one open
admission per person. The rules that span tables live in dsr/services/.

Person and Consent are named by label ("dsr.Person"): dsr.models.people imports this module
(the people queryset scopes by the open entry's rating), so this one does not import it back.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from dsr.history import audited
from dsr.models.choices import FAR_FUTURE, RAG, Funder, PlacementType
from dsr.models.core import TimeStampedModel


class RegisterEntry(TimeStampedModel):
    """A person's time on the register: opened with consent and a rating, closed with a reason.

    The current rating is kept on the entry (`rating`, `rating_since`, `rating_review_due`) by
    the rating service, in the same transaction as the append-only Rating row it copies.
    """

    class Status(models.TextChoices):
        OPEN = "open", "On the register"
        CLOSED = "closed", "Closed"

    class ClosureReason(models.TextChoices):
        RISK_REDUCED = "risk_reduced", "Risk reduced"
        CONSENT_WITHDRAWN = "consent_withdrawn", "Consent withdrawn"
        MOVED_AREA = "moved_area", "Moved out of the area"
        AGED_OUT = "aged_out", "Aged out or transferred"
        DIED = "died", "Died"

    person = models.ForeignKey(
        "dsr.Person", on_delete=models.PROTECT, related_name="register_entries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_on = models.DateField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    consent = models.ForeignKey(
        "dsr.Consent", on_delete=models.PROTECT, related_name="entries", null=True, blank=True
    )
    rating = models.CharField(max_length=5, choices=RAG.choices, blank=True)
    rating_since = models.DateField(null=True, blank=True)
    rating_reviewed_on = models.DateField(null=True, blank=True)
    rating_review_due = models.DateField(null=True, blank=True)
    # After a discharge the rating stays Red until this date unless stepped down early with a
    # reason (DOMAIN rule 5, local default 14 days).
    red_until = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    closure_reason = models.CharField(max_length=30, choices=ClosureReason.choices, blank=True)
    closure_note = models.TextField(blank=True)

    history = audited()

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name_plural = "register entries"
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="open"), name="one_open_entry_per_person"
            ),
            models.CheckConstraint(
                condition=Q(status="closed")
                | (Q(consent__isnull=False, rating_since__isnull=False) & ~Q(rating="")),
                name="open_entry_has_consent_and_rating",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="entry_closes_after_it_opens",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_on__isnull=True, closure_reason="")
                | (
                    Q(status="closed", closed_on__isnull=False, closed_by__isnull=False)
                    & ~Q(closure_reason="")
                ),
                name="entry_closure_is_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "rating"], name="entry_status_rating_idx"),
            models.Index(fields=["status", "rating_review_due"], name="entry_review_due_idx"),
            # The register list sorted by review date (dsr.queries.SORTS["review"]), one keyset
            # page at a time: the sort key exactly as the list orders by it.
            models.Index(
                Coalesce("rating_review_due", Value(FAR_FUTURE)),
                "id",
                condition=Q(status="open"),
                name="entry_open_review_key_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Register entry {self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def is_review_overdue(self, today: date | None = None) -> bool:
        due = self.rating_review_due
        return bool(self.is_open and due and due < (today or timezone.localdate()))


class Rating(models.Model):
    """One rating decision, append-only: never updated, never deleted (DOMAIN rule 4).

    A row whose rating equals the one before it records a review that confirmed the rating.
    """

    entry = models.ForeignKey(RegisterEntry, on_delete=models.PROTECT, related_name="ratings")
    rating = models.CharField(max_length=5, choices=RAG.choices)
    previous_rating = models.CharField(max_length=5, choices=RAG.choices, blank=True)
    effective_from = models.DateField()
    rationale = models.TextField()
    risk_factors = models.JSONField(default=list, blank=True)
    risk_notes = models.TextField(blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)
    # The multi-agency meeting that confirmed or changed the rating, if one did.
    meeting = models.ForeignKey(
        "reviews.Meeting", on_delete=models.PROTECT, related_name="ratings", null=True, blank=True
    )

    class Meta:
        ordering = ["-effective_from", "-set_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(rationale=""), name="rating_has_rationale"),
        ]
        indexes = [
            # The rating an entry had on a day (reports, the register's history): the whole
            # order of the lookup, and the rating itself, so it is read from the index alone.
            models.Index(
                fields=["entry", "-effective_from", "-set_at", "-id"],
                include=["rating"],
                name="rating_entry_on_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_rating_display()} from {self.effective_from:%d %B %Y}"

    @property
    def is_confirmation(self) -> bool:
        return self.rating == self.previous_rating


class Admission(TimeStampedModel):
    """A stay in a mental health or learning disability hospital: Blue while it lasts (rule 5)."""

    class CqcRating(models.TextChoices):
        OUTSTANDING = "outstanding", "Outstanding"
        GOOD = "good", "Good"
        REQUIRES_IMPROVEMENT = "requires_improvement", "Requires improvement"
        INADEQUATE = "inadequate", "Inadequate"
        NOT_RATED = "not_rated", "Not yet rated"

    class WardSecurity(models.TextChoices):
        """NHS Data Dictionary: ward security level."""

        GENERAL = "general", "General"
        LOW = "low", "Low secure"
        MEDIUM = "medium", "Medium secure"
        HIGH = "high", "High secure"

    person = models.ForeignKey("dsr.Person", on_delete=models.PROTECT, related_name="admissions")
    hospital_name = models.CharField(max_length=150)
    hospital_ods_code = models.CharField("hospital ODS code", max_length=10)
    cqc_rating = models.CharField("CQC rating", max_length=30, choices=CqcRating.choices)
    admitted_on = models.DateField()
    ward_security = models.CharField(max_length=10, choices=WardSecurity.choices)
    mha_status = models.CharField("Mental Health Act status", max_length=60, blank=True)
    community_cetr_before_admission = models.BooleanField(
        "a community C(E)TR happened before admission"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # A child or young person admitted without a community C(E)TR needs a root-cause analysis
    # (DOMAIN rule 7).
    rca_completed_on = models.DateField("root-cause analysis completed on", null=True, blank=True)
    discharged_on = models.DateField(null=True, blank=True)
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Optional, where the ICB records them: for planning (reports.planning) and the Assuring
    # Transformation extract (reports.assuring).
    planned_discharge_on = models.DateField("planned discharge date", null=True, blank=True)
    weekly_cost = models.DecimalField(
        "weekly cost (£)", max_digits=9, decimal_places=2, null=True, blank=True
    )
    funder = models.CharField(max_length=20, choices=Funder.choices, blank=True, db_default="")

    history = audited()

    class Meta:
        ordering = ["-admitted_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(discharged_on__isnull=True),
                name="one_open_admission_per_person",
            ),
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True, discharged_by__isnull=True)
                | Q(discharged_on__gte=models.F("admitted_on"), discharged_by__isnull=False),
                name="discharge_after_admission",
            ),
            models.CheckConstraint(
                condition=Q(rca_completed_on__isnull=True)
                | Q(rca_completed_on__gte=models.F("admitted_on")),
                name="root_cause_analysis_after_admission",
            ),
            models.CheckConstraint(
                condition=Q(weekly_cost__isnull=True) | Q(weekly_cost__gte=0),
                name="admission_weekly_cost_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hospital_name} from {self.admitted_on:%d %B %Y}"

    @property
    def is_open(self) -> bool:
        return self.discharged_on is None

    @property
    def is_secure(self) -> bool:
        return self.ward_security != self.WardSecurity.GENERAL


class CetrException(TimeStampedModel):
    """Why a Red person has no community C(E)TR: an urgent LAEP or Blue Light meeting was held
    instead (DOMAIN.md rule 6)."""

    class MeetingKind(models.TextChoices):
        LAEP = "laep", "Local area emergency protocol (LAEP) meeting"
        BLUE_LIGHT = "blue_light", "Blue Light meeting"

    person = models.ForeignKey(
        "dsr.Person", on_delete=models.PROTECT, related_name="cetr_exceptions"
    )
    meeting_kind = models.CharField(max_length=20, choices=MeetingKind.choices)
    held_on = models.DateField()
    reason = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = audited()

    class Meta:
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="cetr_exception_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_meeting_kind_display()} on {self.held_on:%d %B %Y}"


class Placement(TimeStampedModel):
    """Where a person lives or is placed outside hospital, over a span of dates, with the
    weekly cost of the placement or care package and who pays it where the ICB records them
    (optional). Costs feed the planning figures as magnitude tables (reports.planning)."""

    person = models.ForeignKey("dsr.Person", on_delete=models.PROTECT, related_name="placements")
    placement_type = models.CharField(max_length=30, choices=PlacementType.choices)
    out_of_area = models.BooleanField("placed out of area", default=False)
    provider_name = models.CharField(max_length=150, blank=True)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    weekly_cost = models.DecimalField(
        "weekly cost (£)", max_digits=9, decimal_places=2, null=True, blank=True
    )
    funder = models.CharField(max_length=20, choices=Funder.choices, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = audited()

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="placement_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=Q(weekly_cost__isnull=True) | Q(weekly_cost__gte=0),
                name="placement_weekly_cost_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_placement_type_display()} from {self.started_on:%d %B %Y}"
