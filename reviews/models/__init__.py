"""Multi-agency review meetings, agreed actions, C(E)TRs, C(E)TR requests and oversight visits,
one module per topic (as reviews/views/ is split)."""

from reviews.models.actions import Action, ActionLink, ActionLinkUse, ActionQuerySet
from reviews.models.cetrs import Cetr, CetrQuerySet, PanelMember
from reviews.models.meetings import (
    REGISTER_TEAM_PERMISSION,
    Agency,
    AgendaItem,
    AgendaReason,
    Attendee,
    Meeting,
    MeetingQuerySet,
)
from reviews.models.requests import CetrRequest, CetrRequestQuerySet
from reviews.models.transitions import (
    ActionTransition,
    CetrRequestTransition,
    CetrTransition,
    MeetingTransition,
)
from reviews.models.visits import OversightVisit

__all__ = [
    "REGISTER_TEAM_PERMISSION",
    "Action",
    "ActionLink",
    "ActionLinkUse",
    "ActionQuerySet",
    "ActionTransition",
    "Agency",
    "AgendaItem",
    "AgendaReason",
    "Attendee",
    "Cetr",
    "CetrQuerySet",
    "CetrRequest",
    "CetrRequestQuerySet",
    "CetrRequestTransition",
    "CetrTransition",
    "Meeting",
    "MeetingQuerySet",
    "MeetingTransition",
    "OversightVisit",
    "PanelMember",
]
