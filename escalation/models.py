"""Escalations: a breach or a risk that needs a named senior person's attention (DOMAIN 8).

Unique per reason, triggering event (the referral, the rating row, the action) and raise number,
so the same event never raises twice at once, however often a sweep runs, and a new event raises
anew. An escalation resolved while its cause is still there is raised again, once the cooling-off
period has passed, as the next raise number, linked to the one resolved before. An
escalation sits at a level (escalation.rules.LEVELS); left unacknowledged past `ack_due_on` it
moves up a level. Every move is an EscalationTransition row; actions taken are notes.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dsr.history import audited
from dsr.models import LocalAuthority, Person
from dsr.security.scoping import ScopedQuerySet, in_area_or_unknown_for_icb

LIVE = ("open", "acknowledged")


class EscalationQuerySet(ScopedQuerySet):
    """Escalations about people (or referrals) in the user's areas. The register team and
    senior managers see those in scope; the executive lead sees the top level's (ACCESS.md)."""

    def visible_to(self, user) -> "EscalationQuerySet":
        from escalation.rules import top_level

        scoped = self.filter(in_area_or_unknown_for_icb(user))
        if user.has_perm("dsr.view_escalation_queue"):
            return scoped
        if user.has_perm("dsr.view_escalation_summary"):
            return scoped.filter(level=top_level())
        return self.none()

    def live(self) -> "EscalationQuerySet":
        return self.filter(status__in=LIVE)


class Escalation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.OPEN: {Status.ACKNOWLEDGED, Status.RESOLVED},
        Status.ACKNOWLEDGED: {Status.RESOLVED},
        Status.RESOLVED: set(),
    }

    class Reason(models.TextChoices):
        RED_RATING = "red_rating", "Rated red"
        AMBER_UNREVIEWED = "amber_unreviewed", "Amber for too long without a review"
        RED_WITHOUT_CETR = "red_without_cetr", "Red without a community C(E)TR or exception"
        OVERDUE_ACTION = "overdue_action", "An overdue action on a red or amber person"
        ADMISSION_WITHOUT_CETR = (
            "admission_without_cetr",
            "Admitted without a community C(E)TR first",
        )
        INADEQUATE_HOSPITAL = (
            "inadequate_hospital",
            "Admitted to a hospital rated inadequate by the CQC",
        )
        REFERRAL_OVERDUE = "referral_overdue", "Referral past its four-week deadline"
        RATING_REVIEW_OVERDUE = "rating_review_overdue", "Rating review overdue"
        BY_HAND = "by_hand", "Raised by hand"

    reason = models.CharField(max_length=40, choices=Reason.choices)
    # The event that raised it: "<app>.<model>" and its id.
    trigger_type = models.CharField(max_length=60)
    trigger_id = models.BigIntegerField()
    # 1 for the first escalation of an event; one more each time the rules raise it again because
    # its cause was still there after it was resolved (escalation.sweeps), with `previous` the one
    # resolved before.
    raise_number = models.PositiveSmallIntegerField(default=1, db_default=1)
    previous = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="raised_again", null=True, blank=True
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="escalations", null=True, blank=True
    )
    local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    level = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)
    raised_at = models.DateTimeField(default=timezone.now)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    note = models.TextField(blank=True)
    # The last day to acknowledge at this level (working days, escalation.rules); set when the
    # escalation starts its clock, and again at each move up.
    ack_due_on = models.DateField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    outcome = models.TextField(blank=True, db_default="")
    # The level at which its owners were last told of it (a digest once it is sent, or a message
    # at once); empty until they are. An open escalation at a level its owners were not told of
    # is new to them.
    told_level = models.PositiveSmallIntegerField(null=True, blank=True)

    # told_level is delivery bookkeeping, set in bulk as digests are sent: the outbox rows are its
    # record, so it is kept out of the escalation's history.
    history = audited(excluded_fields=["told_level"])

    objects = EscalationQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reason", "trigger_type", "trigger_id", "raise_number"],
                name="one_escalation_per_event",
            ),
            models.CheckConstraint(
                condition=Q(raise_number=1, previous__isnull=True)
                | Q(raise_number__gt=1, previous__isnull=False),
                name="raised_again_links_the_one_before",
            ),
            models.CheckConstraint(condition=Q(level__gte=1), name="escalation_level_from_1"),
            models.CheckConstraint(
                condition=~Q(status="acknowledged")
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="acknowledged_says_who_and_when",
            ),
            # Resolved by someone, or by the rules when the cause cleared (resolved_by empty).
            models.CheckConstraint(
                condition=~Q(status="resolved") | (Q(resolved_at__isnull=False) & ~Q(outcome="")),
                name="resolved_says_when_and_outcome",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "level"], name="escalation_queue_idx"),
            models.Index(fields=["person", "status"], name="escalation_person_idx"),
            models.Index(fields=["status", "ack_due_on"], name="escalation_ack_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} (level {self.level}, {self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("escalation:detail", kwargs={"pk": self.pk})

    @property
    def is_live(self) -> bool:
        return self.status != self.Status.RESOLVED

    def is_ack_overdue(self, today) -> bool:
        return bool(self.status == self.Status.OPEN and self.ack_due_on and self.ack_due_on < today)


class EscalationTransition(models.Model):
    """Every move of an escalation, append-only: who, when, why."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=15, blank=True)
    to_status = models.CharField(max_length=15, choices=Escalation.Status.choices)
    # A move up the ladder keeps the status and changes the level.
    from_level = models.PositiveSmallIntegerField(null=True, blank=True)
    to_level = models.PositiveSmallIntegerField(null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # One "raised" row per escalation, so two sweeps at once cannot write it twice.
            models.UniqueConstraint(
                fields=["escalation"], condition=Q(from_status=""), name="one_raised_row"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.escalation_id}: {self.from_status or 'new'} to {self.to_status}"


class EscalationNote(models.Model):
    """An action taken or a note added, append-only."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="notes")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    text = models.TextField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="note_has_text")]

    def __str__(self) -> str:
        return f"Note on escalation {self.escalation_id}"


class QueuePlace(models.Model):
    """A person's place in the escalation queue of one level: the queue's sort keys, kept so a
    page reads its rows in order from an index instead of sorting the whole queue. Derived from
    the escalations, the open register entries and the people (escalation.queue_order keeps it
    in the same transaction as each change, and its sweep rebuilds and checks it); never
    edited by hand, and not a record: it has no history.

    A level's queue holds everyone rated Red or Amber and anyone with a live escalation at that
    level or above (level 1 is the register team's queue: every live escalation). `waiting` and
    `ack_due_on` describe the open escalations at the level or above raised in the person's own
    area; `elsewhere` marks a person with an open one raised in another area (or none), whose
    place the page works out for each user (who sees that escalation depends on their area)."""

    level = models.PositiveSmallIntegerField()
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    # A copy of the person's area, for the user's scope and the area filters.
    local_authority = models.ForeignKey(
        LocalAuthority,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
        blank=True,
    )
    # 0 Red, 1 Amber, 2 Blue, 3 anything else (Green, or not on the register).
    rating_rank = models.PositiveSmallIntegerField()
    # When their oldest live escalation was raised (any level); the far future if none.
    oldest_raised_at = models.DateTimeField()
    waiting = models.BooleanField()
    # The earliest acknowledgement deadline of those waiting: past it when it is before today.
    ack_due_on = models.DateField(null=True, blank=True)
    elsewhere = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "person"], name="one_queue_place_per_level"),
        ]
        indexes = [
            # The queue's order within each group: rating, then the oldest escalation's age.
            models.Index(
                fields=["level", "waiting", "rating_rank", "oldest_raised_at", "person"],
                name="queue_place_order_idx",
            ),
            # The few placed for each user when read (escalation.queries._ordered).
            models.Index(
                fields=["level"], condition=Q(elsewhere=True), name="queue_place_elsewhere_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Person {self.person_id} in the level {self.level} queue"
