"""Status moves of meetings, actions, C(E)TRs and C(E)TR requests, one append-only row per move
(the referrals' pattern, STYLE points 4 and 5): from, to, who and when. Each model's
ALLOWED_TRANSITIONS is the table; reviews.services.transitions.status_move is the one way to
move, and the database refuses a row for a move the table does not allow."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from reviews.models.actions import Action, ActionLink
from reviews.models.cetrs import Cetr
from reviews.models.meetings import Meeting
from reviews.models.requests import CetrRequest


def allowed_pairs(model: type[models.Model]) -> Q:
    condition = Q()
    # Sorted, so the constraint (and its migration) is the same on every run.
    for source, targets in sorted(model.ALLOWED_TRANSITIONS.items()):  # type: ignore[attr-defined]
        for target in sorted(targets):
            condition |= Q(from_status=source, to_status=target)
    return condition


class StatusMove(models.Model):
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    # Nobody only for a move a partner made through their link (ActionTransition.by_link).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} to {self.to_status}"


class MeetingTransition(StatusMove):
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="transitions")

    class Meta(StatusMove.Meta):
        constraints = [
            models.CheckConstraint(
                condition=allowed_pairs(Meeting) & Q(by__isnull=False),
                name="meeting_transition_allowed",
            )
        ]


class ActionTransition(StatusMove):
    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="transitions")
    by_link = models.ForeignKey(
        ActionLink, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta(StatusMove.Meta):
        constraints = [
            models.CheckConstraint(
                condition=allowed_pairs(Action)
                & (
                    Q(by__isnull=False, by_link__isnull=True)
                    | Q(by__isnull=True, by_link__isnull=False)
                ),
                name="action_transition_allowed",
            )
        ]


class CetrTransition(StatusMove):
    cetr = models.ForeignKey(Cetr, on_delete=models.PROTECT, related_name="transitions")

    class Meta(StatusMove.Meta):
        constraints = [
            models.CheckConstraint(
                condition=allowed_pairs(Cetr) & Q(by__isnull=False),
                name="cetr_transition_allowed",
            )
        ]


class CetrRequestTransition(StatusMove):
    request = models.ForeignKey(CetrRequest, on_delete=models.PROTECT, related_name="transitions")

    class Meta(StatusMove.Meta):
        constraints = [
            models.CheckConstraint(
                condition=allowed_pairs(CetrRequest) & Q(by__isnull=False),
                name="cetr_request_transition_allowed",
            )
        ]
