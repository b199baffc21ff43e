"""The register: people, their register entry, consent, ratings and admissions.

Rules the database enforces here (DOMAIN.md section 12): one open entry per person; an open
entry always has a consent basis and a rating; a rating always has a rationale; one active
consent and one open admission per person; a best-interests decision names its decision maker
and capacity assessment date. The rules that span tables live in dsr/services.py.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from dsr.deadlines import AgeGroup, age_group_on, age_on
from dsr.history import audited
from dsr.models.core import LocalAuthority, Organisation, TimeStampedModel
from dsr.scoping import ScopedQuerySet
from dsr.validators import format_nhs_number

# Sorts after every real date: an open entry with no review date sorts last.
FAR_FUTURE = date(9999, 12, 31)


class Diagnosis(models.TextChoices):
    LEARNING_DISABILITY = "learning_disability", "Learning disability"
    AUTISM = "autism", "Autism"
    BOTH = "both", "Learning disability and autism"


class DiagnosisStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    CLINICALLY_UNDERSTOOD = "clinically_understood", "Clinically understood"
    AWAITING_ASSESSMENT = "awaiting_assessment", "Awaiting assessment"


class Sex(models.TextChoices):
    """NHS Data Dictionary: Person Stated Gender Code."""

    MALE = "1", "Male"
    FEMALE = "2", "Female"
    INDETERMINATE = "9", "Indeterminate (unable to be classified as male or female)"
    NOT_KNOWN = "X", "Not known"


class Ethnicity(models.TextChoices):
    """NHS Data Dictionary: Ethnic Category (2001 census classification)."""

    WHITE_BRITISH = "A", "White: British"
    WHITE_IRISH = "B", "White: Irish"
    WHITE_OTHER = "C", "White: any other White background"
    MIXED_WHITE_BLACK_CARIBBEAN = "D", "Mixed: White and Black Caribbean"
    MIXED_WHITE_BLACK_AFRICAN = "E", "Mixed: White and Black African"
    MIXED_WHITE_ASIAN = "F", "Mixed: White and Asian"
    MIXED_OTHER = "G", "Mixed: any other mixed background"
    ASIAN_INDIAN = "H", "Asian or Asian British: Indian"
    ASIAN_PAKISTANI = "J", "Asian or Asian British: Pakistani"
    ASIAN_BANGLADESHI = "K", "Asian or Asian British: Bangladeshi"
    ASIAN_OTHER = "L", "Asian or Asian British: any other Asian background"
    BLACK_CARIBBEAN = "M", "Black or Black British: Caribbean"
    BLACK_AFRICAN = "N", "Black or Black British: African"
    BLACK_OTHER = "P", "Black or Black British: any other Black background"
    CHINESE = "R", "Other ethnic groups: Chinese"
    OTHER = "S", "Other ethnic groups: any other ethnic group"
    NOT_STATED = "Z", "Not stated"
    NOT_KNOWN = "99", "Not known"


class CoOccurring(models.TextChoices):
    MENTAL_HEALTH = "mental_health", "Mental health condition"
    ADHD = "adhd", "ADHD"
    EPILEPSY = "epilepsy", "Epilepsy"
    PERSONALITY_DISORDER = "personality_disorder", "Personality disorder"
    PSYCHOSIS = "psychosis", "Psychosis"
    PHYSICAL_HEALTH = "physical_health", "Long-term physical health condition"
    SUBSTANCE_USE = "substance_use", "Drug or alcohol use"


class AccessibleFormat(models.TextChoices):
    EASY_READ = "easy_read", "Easy read"
    LARGE_PRINT = "large_print", "Large print"
    BSL = "bsl", "British Sign Language"
    INTERPRETER = "interpreter", "Interpreter"


class PlacementType(models.TextChoices):
    FAMILY_HOME = "family_home", "Family home"
    SUPPORTED_LIVING = "supported_living", "Supported living"
    RESIDENTIAL_CARE = "residential_care", "Residential care"
    RESIDENTIAL_SCHOOL_38 = "residential_school_38", "38-week residential school"
    RESIDENTIAL_SCHOOL_52 = "residential_school_52", "52-week residential school"
    FOSTER_CARE = "foster_care", "Foster care"
    HOSPITAL = "hospital", "Hospital"
    CUSTODY = "custody", "Custody"
    OTHER = "other", "Other"


class RiskFactor(models.TextChoices):
    """The risk factors of DOMAIN.md section 2 (national criteria and local tools)."""

    CRISIS = "crisis", "Person or family in crisis"
    NOT_MANAGED = "not_managed", "Risk is not being, or cannot be, managed in the community"
    MENTAL_HEALTH = "mental_health", "Unstable or untreated mental health condition"
    BEHAVIOUR = "behaviour", "Significant behaviour that challenges"
    ENVIRONMENT = "environment", "Unstable environment or changing staff"
    CRISIS_LAST_MONTH = "crisis_last_month", "A&E or crisis team contact in the last month"
    UNPLANNED_LAST_YEAR = (
        "unplanned_last_year",
        "A&E, crisis team use or unplanned admission in the last year",
    )
    BREAKDOWN = "breakdown", "Risk of family or placement breakdown"
    CRIMINAL_JUSTICE = "criminal_justice", "Contact with the criminal justice system"
    TRANSITION = "transition", "A transition: school, service, home or age"
    SERVICES_EXHAUSTED = "services_exhausted", "Local services exhausted"
    RECENT_DISCHARGE = "recent_discharge", "Recently discharged from hospital"


class Need(models.TextChoices):
    """Unmet needs and barriers, for commissioning (issue "Reports" point 3; DOMAIN 11)."""

    HOUSING = "housing", "Housing"
    RESPITE = "respite", "Short breaks or respite"
    CRISIS = "crisis", "Crisis support"
    WORKFORCE = "workforce", "Staff with the right skills"
    SPECIALIST_PLACEMENT = "specialist_placement", "Specialist placement"
    EDUCATION = "education", "Education placement"
    COMMUNITY_TEAM = "community_team", "Community learning disability or autism team"
    THERAPY = "therapy", "Therapy or positive behaviour support"
    KEY_WORKER = "key_worker", "Key worker capacity"
    OTHER = "other", "Something else"


class RAG(models.TextChoices):
    """RAG-B ratings, in the plain words of the Norfolk and Waveney page (DOMAIN.md section 2)."""

    RED = "RED", "Red"
    AMBER = "AMBER", "Amber"
    GREEN = "GREEN", "Green"
    BLUE = "BLUE", "Blue"


RAG_MEANINGS = {
    RAG.RED: "High risk of going into hospital straight away",
    RAG.AMBER: "High risk if they do not get the right care and treatment soon",
    RAG.GREEN: "Risks managed well at home",
    RAG.BLUE: "Already in hospital",
}


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

    Register staff and the DSR lead see everyone in their area. Senior managers see people
    whose open entry is rated Red or Amber in their area, and whoever other apps' rules add
    (anyone with an open escalation). Everyone else sees only what those rules add.
    """

    scope_path = "local_authority"

    def visible_to(self, user) -> "PersonQuerySet":
        if user.has_perm("dsr.view_register"):
            return super().visible_to(user)
        conditions = [q for q in (rule(user) for rule in _VISIBILITY_RULES) if q is not None]
        if user.has_perm("dsr.view_escalation_queue"):
            red_or_amber = RegisterEntry.objects.filter(
                person=OuterRef("pk"),
                status=RegisterEntry.Status.OPEN,
                rating__in=[RAG.RED, RAG.AMBER],
            )
            conditions.append(Q(Exists(red_or_amber)))
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

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contacts")
    role = models.CharField(max_length=30, choices=Role.choices)
    name = models.CharField(max_length=150)
    organisation = models.CharField(max_length=150, blank=True)
    relationship = models.CharField(
        max_length=60, blank=True, help_text="For a parent or carer: mother, foster carer..."
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

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="register_entries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_on = models.DateField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, related_name="entries", null=True, blank=True
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

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="admissions")
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

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cetr_exceptions")
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

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="access_events", null=True, blank=True
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
