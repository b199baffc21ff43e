"""The one way a meeting, action, C(E)TR or C(E)TR request changes status: the model's
ALLOWED_TRANSITIONS table, and a row per move (reviews.models.transitions), as referrals do
(referrals.services.review.referral_transition)."""

from typing import Any

from django.db import models

from dsr.exceptions import RegisterError
from dsr.models import User
from reviews.models import (
    Action,
    ActionLink,
    ActionTransition,
    Cetr,
    CetrRequest,
    CetrRequestTransition,
    CetrTransition,
    Meeting,
    MeetingTransition,
)

# Each machine's row table, and the name of the row's link to what moved.
MOVES: dict[type[models.Model], tuple[type[models.Model], str]] = {
    Meeting: (MeetingTransition, "meeting"),
    Action: (ActionTransition, "action"),
    Cetr: (CetrTransition, "cetr"),
    CetrRequest: (CetrRequestTransition, "request"),
}


class InvalidTransition(RegisterError):
    """The transition table does not allow this move."""


def can_transition(obj: Any, to: str) -> bool:
    return to in type(obj).ALLOWED_TRANSITIONS.get(obj.status, set())


def status_move(
    obj: Any, *, to: str, by: User | None, reason: str = "", link: ActionLink | None = None
) -> Any:
    """Move `obj` (locked by the caller, inside its transaction) to `to` if its table allows,
    and write the move's row: from, to, who (or, for an action, the partner's link) and why.
    Raises InvalidTransition otherwise, having written nothing. The caller sets the move's
    companion fields and saves `obj` (one history row with its reason)."""
    model = type(obj)
    if not can_transition(obj, to):
        raise InvalidTransition(
            f"A {model._meta.verbose_name} that is {obj.get_status_display().lower()} cannot be "
            f"moved to {model.Status(to).label.lower()}."
        )
    row, field = MOVES[model]
    extra = {"by_link": link} if model is Action else {}
    row.objects.create(
        **{field: obj}, from_status=obj.status, to_status=to, by=by, reason=reason, **extra
    )
    obj.status = to
    return obj
