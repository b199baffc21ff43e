"""Multi-agency review meetings, agreed actions, C(E)TRs, C(E)TR requests and oversight visits.

Rules the database enforces here (DOMAIN.md section 12): every action has an owner, a due date
and a description (rule 11); a finished or cancelled action says when and by whom, and a cancelled
one why; a person is on a meeting's agenda once; a completed C(E)TR has its held date and its four
findings; a post-admission or inpatient C(E)TR belongs to an admission; only a chair can be a
delegated chair; a declined C(E)TR request has its reason. The rules that span tables (panel
completeness, the consent gate) live in reviews/services.py and reviews/permissions.py.
"""

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dsr.history import audited
from dsr.models import Admission, Consent, LocalAuthority, Person, RiskFactor, TimeStampedModel
from dsr.scoping import ScopedQuerySet, in_area_or_unknown_for_icb

REGISTER_TEAM_PERMISSION = "dsr.view_register"


class Agency(models.TextChoices):
    HEALTH = "health", "Health"
    EDUCATION = "education", "Education"
    SOCIAL_CARE = "social_care", "Social care"
    POLICE = "police", "Police or youth offending"
    PROVIDER = "provider", "Care or support provider"
    VOLUNTARY = "voluntary", "Voluntary sector"
    OTHER = "other", "Other"


# --- Meetings --------------------------------------------------------------------------------


class MeetingQuerySet(ScopedQuerySet):
    """Meetings in the user's areas; a meeting for every area (no local authority) is seen by
    the ICB's register team. Only the register team sees meetings: a meeting page lists many
    people, so senior managers read their people's part on the person page instead."""

    def visible_to(self, user) -> "MeetingQuerySet":
        if not user.has_perm(REGISTER_TEAM_PERMISSION):
            return self.none()
        return self.filter(in_area_or_unknown_for_icb(user))


class Meeting(TimeStampedModel):
    class Kind(models.TextChoices):
        DSR_REVIEW = "dsr_review", "DSR multi-agency review"
        URGENT = "urgent", "Urgent LAEP or Blue Light meeting"
        OVERSIGHT_PANEL = "oversight_panel", "C(E)TR oversight panel"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        HELD = "held", "Held"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    held_at = models.DateTimeField("date and time")
    location = models.CharField(max_length=200, blank=True, help_text="A room, or online.")
    # None: a meeting for every area the ICB covers.
    local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    chair = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    notes = models.TextField("general notes", blank=True)
    held_recorded_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = audited()

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-held_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancelled_reason=""),
                name="cancelled_meeting_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(held_recorded_at__isnull=False),
                name="held_meeting_has_time_recorded",
            ),
        ]
        indexes = [models.Index(fields=["status", "held_at"], name="meeting_status_idx")]

    def __str__(self) -> str:
        local = timezone.localtime(self.held_at)
        return f"{self.get_kind_display()}, {local:%-d %B %Y at %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:meeting-detail", kwargs={"pk": self.pk})

    @property
    def is_planned(self) -> bool:
        return self.status == self.Status.PLANNED


class Attendee(TimeStampedModel):
    class Attendance(models.TextChoices):
        INVITED = "invited", "Invited"
        PRESENT = "present", "Present"
        APOLOGIES = "apologies", "Sent apologies"
        ABSENT = "absent", "Did not attend"

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="attendees")
    name = models.CharField(max_length=150)
    organisation = models.CharField(max_length=150, blank=True)
    agency = models.CharField(max_length=20, choices=Agency.choices)
    attendance = models.CharField(
        max_length=10, choices=Attendance.choices, default=Attendance.INVITED
    )

    history = audited()

    class Meta:
        ordering = ["agency", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_agency_display()})"


class AgendaReason(models.TextChoices):
    """Why someone is on a meeting's agenda (issue: agenda built from the register)."""

    RED = "red", "Rated red"
    AMBER_DUE = "amber_due", "Amber, review due"
    CETR_DUE = "cetr_due", "In hospital, C(E)TR due"
    VISIT_DUE = "visit_due", "In hospital out of area, oversight visit due"
    OVERDUE_ACTIONS = "overdue_actions", "Overdue actions"
    OVERDUE_RECOMMENDATIONS = "overdue_recommendations", "Overdue C(E)TR recommendations"
    BY_HAND = "by_hand", "Added by hand"


class AgendaItem(TimeStampedModel):
    """One person's part of a meeting: why they are on the agenda, the risks reviewed, the
    discussion, the rating confirmed or changed (the Rating row links the meeting) and the
    actions agreed (Action.agenda_item). The person's timeline shows only this part."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="items")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="agenda_items")
    reasons = models.JSONField(default=list)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    risk_factors = models.JSONField(default=list, blank=True)
    risk_notes = models.TextField(blank=True)
    discussion = models.TextField(blank=True)
    discussed_at = models.DateTimeField(null=True, blank=True)
    discussed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    history = audited()

    class Meta:
        ordering = ["meeting", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="one_agenda_item_each"),
            models.CheckConstraint(
                condition=Q(discussed_at__isnull=True) | Q(discussed_by__isnull=False),
                name="discussion_says_who",
            ),
            models.CheckConstraint(
                condition=Q(discussed_at__isnull=True) | ~Q(discussion=""),
                name="discussion_has_a_summary",
            ),
        ]

    def __str__(self) -> str:
        return f"Agenda item {self.pk} of meeting {self.meeting_id}"

    def reason_labels(self) -> list[str]:
        return [AgendaReason(r).label for r in self.reasons if r in AgendaReason.values]

    def risk_factor_labels(self) -> list[str]:
        return [RiskFactor(r).label for r in self.risk_factors if r in RiskFactor.values]


# --- Actions ---------------------------------------------------------------------------------


class ActionQuerySet(ScopedQuerySet):
    """Actions about people in the user's areas: the register team sees all of them; a senior
    manager sees those about the Red and Amber people they may see, and the ones they own."""

    scope_path = "person__local_authority"

    def visible_to(self, user) -> "ActionQuerySet":
        if user.has_perm(REGISTER_TEAM_PERMISSION):
            return super().visible_to(user)
        if user.has_perm("dsr.view_escalation_queue"):
            # Their own actions stay theirs when the person's rating drops below Amber.
            return (
                super()
                .visible_to(user)
                .filter(Q(person__in=Person.objects.visible_to(user)) | Q(owner=user))
            )
        return self.none()

    def overdue(self, today: date) -> "ActionQuerySet":
        return self.filter(status=Action.Status.OPEN, due_on__lt=today)


class Action(TimeStampedModel):
    """A cross-system action with an owner and a due date (DOMAIN rule 11). Overdue is never
    stored: an open action is overdue from the day after its due date."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        MEETING = "meeting", "Multi-agency meeting"
        CETR = "cetr", "C(E)TR recommendation"
        OVERSIGHT_VISIT = "oversight_visit", "Oversight visit"

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="actions")
    source = models.CharField(max_length=20, choices=Source.choices)
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.PROTECT, related_name="actions", null=True, blank=True
    )
    cetr = models.ForeignKey(
        "reviews.Cetr",
        on_delete=models.PROTECT,
        related_name="recommendations",
        null=True,
        blank=True,
    )
    visit = models.ForeignKey(
        "reviews.OversightVisit",
        on_delete=models.PROTECT,
        related_name="actions",
        null=True,
        blank=True,
    )
    description = models.TextField()
    # The owner: a user with an account, or a named person and organisation without one.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_actions",
        null=True,
        blank=True,
    )
    owner_name = models.CharField(max_length=150, blank=True)
    owner_organisation = models.CharField(max_length=150, blank=True)
    owner_email = models.EmailField(blank=True)
    agency = models.CharField(max_length=20, choices=Agency.choices)
    due_on = models.DateField("due date")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    completion_note = models.TextField(blank=True)
    closed_on = models.DateField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = audited()

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(description=""), name="action_has_description"),
            models.CheckConstraint(
                condition=Q(owner__isnull=False) | ~Q(owner_name=""), name="action_has_owner"
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_on__isnull=True, closed_by__isnull=True)
                | (~Q(status="open") & Q(closed_on__isnull=False, closed_by__isnull=False)),
                name="closed_action_says_when_and_who",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(completion_note=""),
                name="cancelled_action_says_why",
            ),
            models.CheckConstraint(
                condition=(Q(source="meeting") & Q(agenda_item__isnull=False))
                | (Q(source="cetr") & Q(cetr__isnull=False))
                | (Q(source="oversight_visit") & Q(visit__isnull=False)),
                name="action_source_matches_its_link",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_on"], name="action_status_due_idx"),
            models.Index(fields=["owner", "status", "due_on"], name="action_owner_idx"),
            models.Index(fields=["person", "status"], name="action_person_idx"),
        ]

    def __str__(self) -> str:
        return f"Action {self.pk} due {self.due_on:%d %B %Y}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:action-update", kwargs={"pk": self.pk})

    @property
    def owner_label(self) -> str:
        if self.owner_id:
            name = self.owner.full_name
            org = self.owner.organisation.name if self.owner.organisation_id else ""
        else:
            name, org = self.owner_name, self.owner_organisation
        return f"{name}, {org}" if org else name

    def is_overdue(self, today: date | None = None) -> bool:
        return self.status == self.Status.OPEN and self.due_on < (today or timezone.localdate())


# --- C(E)TRs ---------------------------------------------------------------------------------


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


# --- Oversight visits ------------------------------------------------------------------------


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


# --- C(E)TR requests -------------------------------------------------------------------------


class CetrRequestQuerySet(ScopedQuerySet):
    def visible_to(self, user) -> "CetrRequestQuerySet":
        if not user.has_perm("dsr.manage_referrals"):
            return self.none()
        return self.filter(in_area_or_unknown_for_icb(user))


class CetrRequest(TimeStampedModel):
    """A request for a C(E)TR from the person, their family, carer, advocate or the team
    supporting them (DOMAIN section 2). The ICB triages it: arranged, or declined with the
    reason told to the requester."""

    class Relationship(models.TextChoices):
        SELF = "self", "I am the person"
        FAMILY = "family", "Family member"
        CARER = "carer", "Carer"
        ADVOCATE = "advocate", "Advocate"
        PROFESSIONAL = "professional", "A professional in the team supporting them"

    class ContactBy(models.TextChoices):
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"

    class InHospital(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        NOT_KNOWN = "not_known", "I do not know"

    class Status(models.TextChoices):
        RECEIVED = "received", "Waiting to be triaged"
        ARRANGED = "arranged", "C(E)TR arranged"
        DECLINED = "declined", "Declined"

    class Channel(models.TextChoices):
        ONLINE = "online", "Online"
        STAFF = "staff", "Entered by staff"

    reference = models.CharField(max_length=20, unique=True)
    submission_token = models.UUIDField(default=uuid.uuid4, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(default=timezone.now)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    requester_name = models.CharField(max_length=150)
    requester_organisation = models.CharField(max_length=150, blank=True)
    requester_email = models.EmailField(blank=True)
    requester_phone = models.CharField(max_length=30, blank=True)
    requester_address = models.TextField(blank=True)
    contact_by = models.CharField(max_length=10, choices=ContactBy.choices)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    in_hospital = models.CharField(max_length=10, choices=InHospital.choices)
    hospital_name = models.CharField(max_length=150, blank=True)
    reason = models.TextField()
    person_knows = models.BooleanField("the person knows about this request")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="cetr_requests", null=True, blank=True
    )
    cetr = models.OneToOneField(
        Cetr, on_delete=models.PROTECT, related_name="request", null=True, blank=True
    )
    decline_reason = models.TextField(blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    history = audited()

    objects = CetrRequestQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name = "C(E)TR request"
        constraints = [
            models.CheckConstraint(
                condition=~Q(contact_by="email") | ~Q(requester_email=""),
                name="request_by_email_has_email",
            ),
            models.CheckConstraint(
                condition=~Q(contact_by="letter") | ~Q(requester_address=""),
                name="request_by_letter_has_address",
            ),
            models.CheckConstraint(
                condition=Q(status="received", triaged_at__isnull=True)
                | (
                    Q(status="arranged", triaged_at__isnull=False, cetr__isnull=False)
                    & Q(person__isnull=False)
                )
                | (Q(status="declined", triaged_at__isnull=False) & ~Q(decline_reason="")),
                name="request_triage_is_complete",
            ),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="cetr_request_status_idx")]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("reviews:request-detail", kwargs={"pk": self.pk})

    @property
    def person_name(self) -> str:
        return f"{self.given_name} {self.family_name}"
