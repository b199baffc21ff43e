"""People on the register and what is held about them: contacts, consent and unmet needs.

Rules the database enforces here (DOMAIN.md section 12): one active consent per person; a
best-interests decision names its decision maker and capacity assessment date; one open need of
a kind per person. Who may see a person is PersonQuerySet.visible_to (ACCESS.md).
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dsr.deadlines import AgeGroup, age_group_on, age_on
from dsr.history import audited
from dsr.models.choices import Diagnosis, DiagnosisStatus, Ethnicity, Need, PlacementType, Sex
from dsr.models.core import LocalAuthority, Organisation, TimeStampedModel
from dsr.nhsuk.validators import format_nhs_number
from dsr.security.scoping import ScopedQuerySet

# Who else may see a person, contributed by other apps (the Escalation app: senior managers see
# anyone with an open escalation; the executive lead, the people behind top-level ones). Each
# returns a condition on Person for the user, or None. Registered in AppConfig.ready().
VisibilityRule = Callable[[Any], Q | None]
_VISIBILITY_RULES: list[VisibilityRule] = []


def register_visibility_rule(rule: VisibilityRule) -> None:
    if rule not in _VISIBILITY_RULES:
        _VISIBILITY_RULES.append(rule)


class PersonQuerySet(ScopedQuerySet):
    """People, scoped by local authority and by role (ACCESS.md).

    Register staff and the DSR lead see everyone in their area. Everyone else sees, in their
    area, only whom the apps' rules add (dsr.contributions; escalation: senior managers see
    people rated Red or Amber and anyone escalated to their level, the executive lead the people
    behind top-level escalations).
    """

    scope_path = "local_authority"

    def visible_to(self, user) -> "PersonQuerySet":
        if user.has_perm("dsr.view_register"):
            return super().visible_to(user)
        conditions = [q for q in (rule(user) for rule in _VISIBILITY_RULES) if q is not None]
        if not conditions:
            return self.none()
        allowed = conditions[0]
        for condition in conditions[1:]:
            allowed |= condition
        return super().visible_to(user).filter(allowed)


class Person(TimeStampedModel):
    """Someone referred to, or on, the register."""

    nhs_number = models.CharField("NHS number", max_length=10, null=True, blank=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=2, choices=Sex.choices, default=Sex.NOT_KNOWN)
    ethnicity = models.CharField(max_length=2, choices=Ethnicity.choices, default="99")
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    gp_practice_code = models.CharField("GP practice ODS code", max_length=6, blank=True)
    gp_practice_name = models.CharField("GP practice", max_length=150, blank=True)
    local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="people"
    )
    responsible_icb = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="responsible_for",
        limit_choices_to={"kind": Organisation.Kind.ICB},
        verbose_name="responsible ICB",
    )
    diagnosis = models.CharField(max_length=30, choices=Diagnosis.choices)
    diagnosis_status = models.CharField(max_length=30, choices=DiagnosisStatus.choices)
    co_occurring = models.JSONField("co-occurring conditions", default=list, blank=True)
    communication_needs = models.TextField(blank=True)
    accessible_formats = models.JSONField(default=list, blank=True)
    interpreter_language = models.CharField(max_length=60, blank=True)
    has_ehcp = models.BooleanField("has an education, health and care plan", default=False)
    ehcp_local_authority = models.ForeignKey(
        LocalAuthority,
        on_delete=models.PROTECT,
        related_name="ehcp_people",
        null=True,
        blank=True,
        verbose_name="EHCP local authority",
    )
    education_setting = models.CharField(max_length=150, blank=True)
    placement_type = models.CharField(
        max_length=30, choices=PlacementType.choices, default=PlacementType.FAMILY_HOME
    )
    out_of_area = models.BooleanField("placed out of area", default=False)
    at_objection = models.BooleanField(
        "objects to national data collection (Assuring Transformation)", default=False
    )
    keyworker_referred_on = models.DateField("key worker referral made on", null=True, blank=True)

    history = audited()

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                fields=["nhs_number"],
                condition=Q(nhs_number__isnull=False),
                name="person_nhs_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(nhs_number__isnull=True) | Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="person_nhs_number_ten_digits",
            ),
        ]
        indexes = [
            models.Index(fields=["family_name", "given_name", "id"], name="person_name_idx"),
            models.Index(fields=["local_authority", "date_of_birth"], name="person_la_dob_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("dsr:person-detail", kwargs={"pk": self.pk})

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age(self, on: date | None = None) -> int:
        return age_on(self.date_of_birth, on or timezone.localdate())

    def age_group(self, on: date | None = None) -> AgeGroup:
        return age_group_on(self.date_of_birth, on or timezone.localdate())

    @property
    def formatted_nhs_number(self) -> str:
        return format_nhs_number(self.nhs_number)


class PersonContact(TimeStampedModel):
    """The people around someone: professionals and family."""

    class Role(models.TextChoices):
        KEY_WORKER = "key_worker", "Key worker"
        CARE_COORDINATOR = "care_coordinator", "Care coordinator"
        SOCIAL_WORKER = "social_worker", "Social worker"
        LEAD_PROFESSIONAL = "lead_professional", "Lead professional"
        PARENT_CARER = "parent_carer", "Parent or carer"
        REPRESENTATIVE = "representative", "Named representative (best-interests decision)"
        OTHER = "other", "Someone else the person named"
        REFERRER = "referrer", "Professional who referred them"

    # The people around someone who are not there for their work: shown as family and carers.
    FAMILY_ROLES = (Role.PARENT_CARER, Role.REPRESENTATIVE, Role.OTHER)

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contacts")
    role = models.CharField(max_length=30, choices=Role.choices)
    name = models.CharField(max_length=150)
    organisation = models.CharField(max_length=150, blank=True)
    relationship = models.CharField(
        "relationship or job title",
        max_length=150,
        blank=True,
        help_text="For example, mother or foster carer; for a professional, their job title.",
    )
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    has_parental_responsibility = models.BooleanField(default=False)

    history = audited()

    class Meta:
        ordering = ["role", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(has_parental_responsibility=False) | Q(role="parent_carer"),
                name="contact_parental_responsibility_only_for_parents",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class Consent(TimeStampedModel):
    """The basis on which someone is on the register (DOMAIN.md section 9; rule 1).

    One consent is active per person; renewing records a new one and ends the old as renewed;
    withdrawing ends it and closes the register entry (dsr.services.consent_withdraw).
    """

    class Basis(models.TextChoices):
        OWN_CONSENT = "own_consent", "The person's own consent"
        BEST_INTERESTS = "best_interests", "Best-interests decision (Mental Capacity Act)"
        PARENTAL_RESPONSIBILITY = (
            "parental_responsibility",
            "Consent from someone with parental responsibility",
        )
        GILLICK = "gillick", "Consent from a Gillick-competent child"

    class EndReason(models.TextChoices):
        RENEWED = "renewed", "Renewed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    basis = models.CharField(max_length=30, choices=Basis.choices)
    given_on = models.DateField()
    given_by = models.CharField(
        max_length=150, blank=True, help_text="Who consented, if not the person themselves."
    )
    decision_maker = models.CharField(max_length=150, blank=True)
    capacity_assessed_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    review_due = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    history = audited()

    class Meta:
        ordering = ["-given_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(ended_on__isnull=True), name="one_active_consent"
            ),
            models.CheckConstraint(
                condition=~Q(basis="best_interests")
                | (~Q(decision_maker="") & Q(capacity_assessed_on__isnull=False)),
                name="best_interests_names_decision_maker_and_assessment",
            ),
            models.CheckConstraint(
                condition=(
                    Q(ended_on__isnull=True, end_reason="", ended_by__isnull=True)
                    | (Q(ended_on__isnull=False, ended_by__isnull=False) & ~Q(end_reason=""))
                ),
                name="consent_end_is_complete",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("given_on")),
                name="consent_ends_after_it_was_given",
            ),
        ]
        indexes = [
            # The dashboard's "consent reviews due soon": active consents in review order.
            models.Index(
                fields=["review_due", "id"],
                condition=Q(ended_on__isnull=True),
                name="consent_active_review_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_basis_display()} from {self.given_on:%d %B %Y}"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class PersonNeed(TimeStampedModel):
    """An unmet need or barrier noted for a person: open until it is met (met_on)."""

    class Source(models.TextChoices):
        REGISTER = "register", "Noted on the register"
        MEETING = "meeting", "Noted at a multi-agency meeting"

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="needs")
    need = models.CharField(max_length=30, choices=Need.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    noted_on = models.DateField()
    noted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    met_on = models.DateField(null=True, blank=True)
    met_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    history = audited()

    class Meta:
        ordering = ["need", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "need"],
                condition=Q(met_on__isnull=True),
                name="one_open_need_of_a_kind",
            ),
            models.CheckConstraint(
                condition=Q(met_on__isnull=True, met_by__isnull=True)
                | Q(met_on__isnull=False, met_by__isnull=False),
                name="met_need_says_when_and_who",
            ),
        ]
        indexes = [models.Index(fields=["need", "met_on"], name="person_need_idx")]

    def __str__(self) -> str:
        return f"{self.get_need_display()} for person {self.person_id}"
