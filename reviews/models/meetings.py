"""Multi-agency review meetings: who attends, and each person's agenda item.

Rules the database enforces here (DOMAIN.md section 12): a cancelled meeting says why; a held
one says when it was recorded; a person is on a meeting's agenda once, and a discussion says who
recorded it and what was said.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dsr.history import audited
from dsr.models import LocalAuthority, Person, RiskFactor, TimeStampedModel
from dsr.security.scoping import ScopedQuerySet, in_area_or_unknown_for_icb

REGISTER_TEAM_PERMISSION = "dsr.view_register"


class Agency(models.TextChoices):
    HEALTH = "health", "Health"
    EDUCATION = "education", "Education"
    SOCIAL_CARE = "social_care", "Social care"
    POLICE = "police", "Police or youth offending"
    PROVIDER = "provider", "Care or support provider"
    VOLUNTARY = "voluntary", "Voluntary sector"
    OTHER = "other", "Other"


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

    # DOMAIN 7: planned, then held (minutes final) or cancelled with a reason; both final.
    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.PLANNED: {Status.HELD, Status.CANCELLED},
        Status.HELD: set(),
        Status.CANCELLED: set(),
    }

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
    CARRIED = "carried", "Not discussed at the last meeting of this area"
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
    # The time the chair set aside for this person, if they planned time slots.
    slot_at = models.DateTimeField("time slot", null=True, blank=True)

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
