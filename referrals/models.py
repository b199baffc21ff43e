"""Referrals to the register: what was asked, by whom, and what was decided (DOMAIN.md 3 to 5).

A referral keeps what the referrer told us as they told it. When the decision is to add the
person to the register, the register's own services create or update the Person; the referral
keeps its copy, so nothing the referrer entered is lost.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone

from dsr.history import audited
from dsr.models import RAG, Consent, Diagnosis, DiagnosisStatus, LocalAuthority, Person
from dsr.security.scoping import ScopedQuerySet, in_area_or_unknown_for_icb


class ReferralQuerySet(ScopedQuerySet):
    """Referrals by the person's local authority. A referral whose area the referrer did not
    know is seen by staff of an ICB (who then set it); professional referrers see their own."""

    scope_path = "local_authority"

    def visible_to(self, user) -> "ReferralQuerySet":
        if user.has_perm("dsr.manage_referrals"):
            return self.filter(in_area_or_unknown_for_icb(user))
        if user.has_perm("dsr.view_own_referrals"):
            return self.filter(submitted_by=user)
        return self.none()

    def live(self) -> "ReferralQuerySet":
        return self.filter(status__in=Referral.LIVE)


class Referral(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        UNDER_REVIEW = "under_review", "Under review"
        MORE_INFO = "more_info", "More information requested"
        ADDED = "added", "Added to the register"
        NOT_ELIGIBLE = "not_eligible", "Not eligible"
        WITHDRAWN = "withdrawn", "Withdrawn"

    # Each status and the ones that may follow it. Decisions are final; asking for more
    # information is a step on the way and does not stop the four-week clock (DOMAIN 4).
    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.RECEIVED: {
            Status.UNDER_REVIEW,
            Status.MORE_INFO,
            Status.ADDED,
            Status.NOT_ELIGIBLE,
            Status.WITHDRAWN,
        },
        Status.UNDER_REVIEW: {
            Status.MORE_INFO,
            Status.ADDED,
            Status.NOT_ELIGIBLE,
            Status.WITHDRAWN,
        },
        Status.MORE_INFO: {
            Status.UNDER_REVIEW,
            Status.ADDED,
            Status.NOT_ELIGIBLE,
            Status.WITHDRAWN,
        },
        Status.ADDED: set(),
        Status.NOT_ELIGIBLE: set(),
        Status.WITHDRAWN: set(),
    }
    LIVE = (Status.RECEIVED, Status.UNDER_REVIEW, Status.MORE_INFO)
    DECISIONS = (Status.ADDED, Status.NOT_ELIGIBLE, Status.WITHDRAWN)

    class Source(models.TextChoices):
        ONLINE = "online", "Online form"
        PAPER = "paper", "Paper form"
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone call"

    class ReferrerKind(models.TextChoices):
        PROFESSIONAL = "professional", "A professional"
        SELF = "self", "The person themselves"
        FAMILY = "family", "A parent, carer or family member"

    class YesNoUnsure(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        UNSURE = "unsure", "Not sure"

    class ConsentBasis(models.TextChoices):
        OWN_CONSENT = Consent.Basis.OWN_CONSENT.value, "The person agrees to this referral"
        BEST_INTERESTS = (
            Consent.Basis.BEST_INTERESTS.value,
            "The person cannot decide, and it is in their best interests",
        )
        PARENTAL_RESPONSIBILITY = (
            Consent.Basis.PARENTAL_RESPONSIBILITY.value,
            "A parent or someone with parental responsibility agrees",
        )
        GILLICK = Consent.Basis.GILLICK.value, "A child under 16 who fully understands agrees"

    reference = models.CharField(max_length=20, unique=True)
    submission_token = models.UUIDField(unique=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    referrer_kind = models.CharField(max_length=15, choices=ReferrerKind.choices)
    received_at = models.DateTimeField(default=timezone.now)
    decision_due = models.DateField()
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.RECEIVED)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="submitted_referrals",
        null=True,
        blank=True,
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="duplicates", null=True, blank=True
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="referrals", null=True, blank=True
    )

    # The person referred.
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="referrals", null=True, blank=True
    )
    gp_practice_name = models.CharField("GP practice", max_length=150, blank=True)
    diagnosis = models.CharField(max_length=30, choices=Diagnosis.choices)
    diagnosis_status = models.CharField(max_length=30, choices=DiagnosisStatus.choices)
    co_occurring = models.JSONField(default=list, blank=True)

    # Risks, what has been tried and what would help.
    risk_factors = models.JSONField(default=list, blank=True)
    risks = models.TextField("current risks in the referrer's words")
    tried = models.TextField("what has been tried", blank=True)
    would_help = models.TextField("what would help", blank=True)

    # Education, care and the professionals involved.
    has_ehcp = models.CharField(max_length=6, choices=YesNoUnsure.choices, default="unsure")
    education_setting = models.CharField(max_length=150, blank=True)
    social_care = models.TextField("social care involvement", blank=True)
    other_professionals = models.TextField(blank=True)

    # Communication.
    communication_needs = models.TextField(blank=True)
    accessible_formats = models.JSONField(default=list, blank=True)
    interpreter_language = models.CharField(max_length=60, blank=True)

    # Who referred.
    referrer_name = models.CharField(max_length=150)
    referrer_role = models.CharField("job title or relationship", max_length=150, blank=True)
    referrer_organisation = models.CharField(max_length=150, blank=True)
    referrer_email = models.EmailField(blank=True)
    referrer_phone = models.CharField(max_length=30, blank=True)
    referrer_address = models.TextField(blank=True)

    # Consent (DOMAIN 9): to the referral, to sharing information, and its basis.
    consent_to_referral = models.BooleanField()
    consent_to_share = models.BooleanField()
    consent_basis = models.CharField(max_length=30, choices=ConsentBasis.choices)
    consent_given_by = models.CharField(max_length=150, blank=True)
    outcome_to_referrer = models.BooleanField(
        "the person agrees the referrer is told the outcome", default=False
    )

    # The four-week review with education and social care (DOMAIN 4).
    review_held_on = models.DateField(null=True, blank=True)
    education_participant = models.CharField(max_length=150, blank=True)
    education_absent_reason = models.TextField(blank=True)
    social_care_participant = models.CharField(max_length=150, blank=True)
    social_care_absent_reason = models.TextField(blank=True)
    review_notes = models.TextField(blank=True)
    more_info_request = models.TextField(blank=True)

    # The decision.
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    ineligible_reason = models.TextField(blank=True)
    signposting = models.TextField(blank=True)
    initial_rating = models.CharField(max_length=5, choices=RAG.choices, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    reasons_told_how = models.TextField(
        "how the team told the reasons, when nobody could be sent a letter",
        blank=True,
        db_default="",
    )
    next_steps = models.TextField("what happens next, as told to the recipients", blank=True)

    history = audited()

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["decision_due", "received_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="not_eligible")
                | (~Q(ineligible_reason="") & ~Q(signposting="")),
                name="not_eligible_has_reason_and_signposting",
            ),
            models.CheckConstraint(
                condition=~Q(status="added") | ~Q(initial_rating=""),
                name="added_has_a_rating",
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | ~Q(withdrawn_reason=""),
                name="withdrawn_has_a_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="more_info") | ~Q(more_info_request=""),
                name="more_info_says_what_is_needed",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["received", "under_review", "more_info"])
                | (Q(decided_at__isnull=False) & Q(decided_by__isnull=False)),
                name="decision_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["added", "not_eligible"])
                | Q(review_held_on__isnull=False),
                name="decision_follows_a_review",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "decision_due", "id"], name="referral_queue_idx"),
            # The referral queue: live referrals in the order they are due, read a page at a
            # time and counted from the index (at a million referrals, 509 ms to 1 ms a page).
            models.Index(
                fields=["decision_due", "received_at", "id"],
                include=["local_authority"],
                condition=Q(status__in=["received", "under_review", "more_info"])
                & Q(duplicate_of__isnull=True),
                name="referral_live_queue_idx",
            ),
            models.Index(fields=["nhs_number"], name="referral_nhs_idx"),
            # The same person (dsr.queries.same_person) by name and date of birth: the name is
            # compared without case, so the index holds it in capitals. (On the plain name it
            # was read whole for the date alone: 8-35 ms at 200,000 referrals, on every send.)
            models.Index(Upper("family_name"), "date_of_birth", name="referral_upper_name_dob_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("referrals:detail", kwargs={"pk": self.pk})

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE

    def days_left(self, today=None) -> int:
        return (self.decision_due - (today or timezone.localdate())).days

    def is_overdue(self, today=None) -> bool:
        return self.is_live and self.days_left(today) < 0

    def can_transition(self, to: str) -> bool:
        return to in self.ALLOWED_TRANSITIONS.get(self.status, set())


def _allowed_pairs() -> Q:
    condition = Q()
    # Sorted, so the constraint (and its migration) is the same on every run.
    for source, targets in sorted(Referral.ALLOWED_TRANSITIONS.items()):
        for target in sorted(targets):
            condition |= Q(from_status=source, to_status=target)
    return condition | Q(from_status="", to_status="received")


class ReferralTransition(models.Model):
    """Every move of a referral's status, append-only: who, when and why. The queue's history,
    the four-week compliance figures and the timeline read this table."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=15, blank=True)
    to_status = models.CharField(max_length=15, choices=Referral.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=_allowed_pairs(), name="referral_transition_allowed"),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.from_status or 'new'} to {self.to_status}"


class ReferralContact(models.Model):
    """Someone who may be told the outcome: the person, a parent or carer, another contact."""

    class Role(models.TextChoices):
        PERSON = "person", "The person referred"
        PARENT_CARER = "parent_carer", "Parent or carer"
        REPRESENTATIVE = "representative", "Named representative (best-interests decision)"
        OTHER = "other", "Someone else the person wants told"

    class Format(models.TextChoices):
        STANDARD = "standard", "Standard"
        EASY_READ = "easy_read", "Easy read"
        LARGE_PRINT = "large_print", "Large print"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="contacts")
    role = models.CharField(max_length=20, choices=Role.choices)
    name = models.CharField(max_length=150)
    relationship = models.CharField(max_length=60, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    address = models.TextField(blank=True)
    has_parental_responsibility = models.BooleanField(default=False)
    named_by_person = models.BooleanField(
        "the person (or a best-interests decision) wants them told", default=False
    )
    preferred_format = models.CharField(
        max_length=20, choices=Format.choices, default=Format.STANDARD
    )
    prefers_letter = models.BooleanField(default=False)
    # They asked for a text message to their mobile (`phone`) each time we write to them: a short
    # note that an email or letter has been sent, never what it says.
    wants_texts = models.BooleanField("asked for text messages", default=False, db_default=False)
    # Staff may add someone to, or take someone off, the rule's list, always with a reason.
    override = models.CharField(
        max_length=10, choices=[("include", "Tell"), ("exclude", "Do not tell")], blank=True
    )
    override_reason = models.TextField(blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    history = audited()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(override="") | ~Q(override_reason=""),
                name="contact_override_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(email="") | ~Q(address="") | ~Q(phone=""),
                name="contact_has_a_way_to_reach_them",
            ),
            models.CheckConstraint(
                condition=Q(wants_texts=False) | ~Q(phone=""), name="texts_need_a_phone_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


def _attachment_path(instance: "ReferralAttachment", filename: str) -> str:
    # Never the uploaded name: a generated one, under a folder no URL serves.
    return f"referrals/{instance.referral_id}/{instance.stored_name}"


class ReferralAttachment(models.Model):
    """A letter, plan or report sent with a referral. Stored outside any public path and
    served only to staff who may see the referral."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path)
    stored_name = models.CharField(max_length=64)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name
