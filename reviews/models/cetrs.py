"""Care (Education) and Treatment Reviews and their panels.

Rules the database enforces here (DOMAIN.md section 12): a completed C(E)TR has its held date and
its four findings; a post-admission or inpatient C(E)TR belongs to an admission; only a chair can
be a delegated chair. The rules that span tables (panel completeness, the consent gate) live in
reviews/services/ and reviews/permissions.py.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from dsr.history import audited
from dsr.models import Admission, Consent, Person, TimeStampedModel
from dsr.security.scoping import ScopedQuerySet
from reviews.models.meetings import REGISTER_TEAM_PERMISSION


class CetrQuerySet(ScopedQuerySet):
    scope_path = "person__local_authority"

    def visible_to(self, user) -> "CetrQuerySet":
        if user.has_perm(REGISTER_TEAM_PERMISSION):
            return super().visible_to(user)
        return self.none()


class Cetr(TimeStampedModel):
    """A Care (Education) and Treatment Review (DOMAIN sections 6; rules 6 to 10, 15)."""

    class Kind(models.TextChoices):
        COMMUNITY = "community", "Community"
        POST_ADMISSION = "post_admission", "Post-admission"
        INPATIENT = "inpatient", "Inpatient"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    # DOMAIN 6 and rule 9: planned, then completed or cancelled; both final.
    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.PLANNED: {Status.COMPLETED, Status.CANCELLED},
        Status.COMPLETED: set(),
        Status.CANCELLED: set(),
    }

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cetrs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # CETR (with the education element) or CTR, decided from age and EHCP (rule 15).
    education_element = models.BooleanField()
    admission = models.ForeignKey(
        Admission, on_delete=models.PROTECT, related_name="cetrs", null=True, blank=True
    )
    due_on = models.DateField("due date", null=True, blank=True)
    scheduled_on = models.DateField("date of the review", null=True, blank=True)
    invitations_sent_on = models.DateField(null=True, blank=True)
    pack_sent_at = models.DateTimeField("pre-reads sent at", null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    # Evidence of consent, or of a best-interests decision, for this C(E)TR (separate from the
    # register's consent). Without it the panel does not see the pack (rule 10).
    consent_basis = models.CharField(max_length=30, choices=Consent.Basis.choices, blank=True)
    consent_evidence = models.TextField(blank=True)
    consent_recorded_on = models.DateField(null=True, blank=True)
    # A best-interests decision names its decision maker and when capacity was assessed, as on
    # the register (dsr.services.consent_basis_check).
    consent_decision_maker = models.CharField(max_length=150, blank=True, db_default="")
    consent_capacity_assessed_on = models.DateField(null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # The four key questions (DOMAIN section 1).
    finding_safe = models.TextField("Is the person safe?", blank=True)
    finding_good_care = models.TextField("Are they getting good care now?", blank=True)
    finding_future = models.TextField("Are there plans in place for the future?", blank=True)
    finding_community = models.TextField(
        "Can their care and treatment be provided in the community?", blank=True
    )
    held_on = models.DateField(null=True, blank=True)
    # Why the review was held before the date it was planned for, when it was.
    held_early_reason = models.TextField(blank=True, db_default="")
    report_sent_on = models.DateField(null=True, blank=True)
    next_due_on = models.DateField("next C(E)TR due", null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cancelled_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = audited()

    objects = CetrQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "C(E)TR"
        verbose_name_plural = "C(E)TRs"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="community") | Q(admission__isnull=False),
                name="hospital_cetr_has_admission",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed")
                | (
                    Q(held_on__isnull=False, completed_by__isnull=False)
                    & ~Q(finding_safe="")
                    & ~Q(finding_good_care="")
                    & ~Q(finding_future="")
                    & ~Q(finding_community="")
                ),
                name="completed_cetr_has_findings",
            ),
            models.CheckConstraint(
                condition=Q(consent_recorded_on__isnull=True, consent_basis="")
                | (
                    Q(consent_recorded_on__isnull=False, consent_recorded_by__isnull=False)
                    & ~Q(consent_basis="")
                    & ~Q(consent_evidence="")
                ),
                name="cetr_consent_evidence_is_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancelled_reason=""),
                name="cancelled_cetr_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(consent_basis="best_interests")
                | (~Q(consent_decision_maker="") & Q(consent_capacity_assessed_on__isnull=False)),
                name="cetr_best_interests_names_decision_maker",
            ),
            models.CheckConstraint(
                condition=Q(held_on__isnull=True)
                | Q(scheduled_on__isnull=True)
                | Q(held_on__gte=models.F("scheduled_on"))
                | ~Q(held_early_reason=""),
                name="cetr_held_early_says_why",
            ),
            models.CheckConstraint(
                condition=Q(report_sent_on__isnull=True)
                | Q(held_on__isnull=False, report_sent_on__gte=models.F("held_on")),
                name="cetr_report_sent_after_the_review",
            ),
            # Two planners at once cannot both plan one: cetr_plan's check alone would race.
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=Q(status="planned"),
                name="one_planned_cetr_of_a_kind",
            ),
        ]
        indexes = [models.Index(fields=["person", "status"], name="cetr_person_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:cetr-detail", kwargs={"pk": self.pk})

    @property
    def name(self) -> str:
        return "CETR" if self.education_element else "CTR"

    @property
    def has_consent_evidence(self) -> bool:
        return self.consent_recorded_on is not None

    @property
    def is_planned(self) -> bool:
        return self.status == self.Status.PLANNED


class PanelMember(TimeStampedModel):
    class Role(models.TextChoices):
        CHAIR = "chair", "Chair"
        CLINICAL_EXPERT = "clinical_expert", "Independent clinical expert"
        EXPERT_BY_EXPERIENCE = "expert_by_experience", "Independent expert by experience"
        OTHER = "other", "Other member"

    cetr = models.ForeignKey(Cetr, on_delete=models.PROTECT, related_name="panel")
    role = models.CharField(max_length=30, choices=Role.choices)
    name = models.CharField(max_length=150)
    organisation = models.CharField(max_length=150, blank=True)
    # A panel member with an account reads the pack (ACCESS.md "Panel member").
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="panel_seats",
        null=True,
        blank=True,
    )
    delegated_chair = models.BooleanField(
        default=False, help_text="The chair acts for the responsible commissioner."
    )
    professional_registration = models.CharField(max_length=60, blank=True)
    conflicts_declared = models.BooleanField("conflicts of interest declared", default=False)
    conflicts = models.TextField("conflicts of interest", blank=True)

    history = audited()

    class Meta:
        ordering = ["cetr", "role", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(delegated_chair=False) | Q(role="chair"),
                name="only_a_chair_is_delegated",
            ),
            models.UniqueConstraint(
                fields=["cetr", "user"], condition=Q(user__isnull=False), name="one_seat_each"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"
