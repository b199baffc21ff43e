"""Agreed actions: from a meeting, a C(E)TR's recommendations or an oversight visit.

Rules the database enforces here (DOMAIN.md section 12): every action has an owner, a due date
and a description (rule 11); a finished or cancelled action says when and by whom, and a cancelled
one why; an action links to the meeting, C(E)TR or visit it came from.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dsr.history import audited
from dsr.models import Person, TimeStampedModel
from dsr.security.scoping import ScopedQuerySet
from reviews.models.meetings import REGISTER_TEAM_PERMISSION, Agency, AgendaItem


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


THROUGH_THEIR_LINK = "through their link"


def through_their_link(partner: str) -> str:
    """Who did something on an action without an account: the partner ("name, organisation"),
    through the link sent to them (ACCESS.md "Action owner by link")."""
    return f"{partner}, {THROUGH_THEIR_LINK}"


class Action(TimeStampedModel):
    """A cross-system action with an owner and a due date (DOMAIN rule 11). Overdue is never
    stored: an open action is overdue from the day after its due date."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    # DOMAIN rule 11: done or cancelled (with why), and either may be reopened.
    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.OPEN: {Status.DONE, Status.CANCELLED},
        Status.DONE: {Status.OPEN},
        Status.CANCELLED: {Status.OPEN},
    }

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
    # A partner without an account who closed it through the link sent to them (ACCESS.md
    # "Action owner by link"), as "name, organisation": the record names them, never the member
    # of staff who sent the link. (Which link: the move's row, ActionTransition.by_link.)
    closed_by_partner = models.CharField(max_length=310, blank=True, db_default="")
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
                condition=Q(
                    status="open",
                    closed_on__isnull=True,
                    closed_by__isnull=True,
                    closed_by_partner="",
                )
                | (
                    ~Q(status="open")
                    & Q(closed_on__isnull=False)
                    & (
                        Q(closed_by__isnull=False, closed_by_partner="")
                        | (Q(closed_by__isnull=True) & ~Q(closed_by_partner=""))
                    )
                ),
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

    @property
    def closed_by_label(self) -> str:
        """Who closed it: a user, or the partner who owns it, through their link."""
        if self.closed_by_id:
            return self.closed_by.full_name
        if self.closed_by_partner:
            return through_their_link(self.closed_by_partner)
        return ""


class ActionLink(TimeStampedModel):
    """A link emailed to an action's owner who has no account (ACCESS.md "Action owner by
    link"): it opens one page for that action only, showing the short external summary the
    chair wrote for them (checked for the person's identifiers), the due date and the team's
    contact details. It works until `expires_at` or until withdrawn; each use is an
    ActionLinkUse row. Only a hash of its token is kept; the token is made again from the
    secret key when the email is sent."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Working"
        WITHDRAWN = "withdrawn", "Withdrawn"

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="links")
    summary = models.TextField("external summary")
    sent_to_name = models.CharField(max_length=150)
    sent_to_organisation = models.CharField(max_length=150, blank=True)
    email = models.EmailField("email address")
    # A random key the token is made from (with the secret key); the token itself is not kept.
    key = models.UUIDField(unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    withdrawn_reason = models.CharField(max_length=200, blank=True)

    history = audited(excluded_fields=["token_hash", "key"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(summary=""), name="action_link_has_summary"),
            models.CheckConstraint(
                condition=Q(status="active", withdrawn_at__isnull=True)
                | Q(status="withdrawn", withdrawn_at__isnull=False),
                name="withdrawn_action_link_says_when",
            ),
            # Sending a new link withdraws the old one: one working link per action.
            models.UniqueConstraint(
                fields=["action"], condition=Q(status="active"), name="one_working_link_each"
            ),
        ]

    def __str__(self) -> str:
        return f"Link {self.pk} for action {self.action_id}"

    @property
    def sent_to_label(self) -> str:
        org = self.sent_to_organisation
        return f"{self.sent_to_name}, {org}" if org else self.sent_to_name

    @property
    def used_by_label(self) -> str:
        """Who did something through the link: the partner it was sent to, through their link."""
        return through_their_link(self.sent_to_label)

    def state(self, now) -> str:
        """ "active", "withdrawn" or "expired"."""
        if self.status == self.Status.WITHDRAWN:
            return self.Status.WITHDRAWN
        return "expired" if now >= self.expires_at else self.Status.ACTIVE

    def state_now(self) -> str:
        return self.state(timezone.now())


class ActionLinkUse(models.Model):
    """Each use of a partner's link, append-only: the page opened, the action marked done,
    something in the way reported, or a refusal (withdrawn or expired). Ids only: the request's
    correlation id, never its address."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened the page"
        DONE = "done", "Marked the action done"
        BLOCKED = "blocked", "Said what is in the way"
        REFUSED = "refused", "Used after it stopped working"

    link = models.ForeignKey(ActionLink, on_delete=models.PROTECT, related_name="uses")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["link", "at"], name="action_link_use_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (link {self.link_id})"
