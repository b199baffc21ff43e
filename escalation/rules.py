"""The escalation ladder and the rules that raise escalations, as settings (DOMAIN.md section 8;
rules 11, 13, 14). Everything here is read at call time: first what the DSR lead saved on the
settings page (dsr.register_settings, read once a process every few seconds), then the Django
setting, then the defaults below; so the next sweep uses a change, and a deployment or a test
can still set them. The levels' names and their number are Django settings only.

- `DSR_ESCALATION_LEVELS`: the levels' names, lowest first; their number is the ladder's height.
- `DSR_ESCALATION_LEVEL_ROLES`: which roles own each level (role values of dsr.roles.Role).
- `DSR_ESCALATION_RULES`: for each rule, whether it is on, the level it raises at, and its
  number of days where it has one.
- `DSR_ESCALATION_ACK_WORKING_DAYS`: working days to acknowledge, by the person's rating.
- `DSR_ESCALATION_DIGEST` (on): owners get one digest a working day, not a message per
  escalation (escalation.notifications), from `DSR_ESCALATION_DIGEST_HOUR` (7, London time);
  `DSR_ESCALATION_RED_AT_ONCE` (off): those about a person rated Red are also told at once.
- `DSR_ESCALATION_RERAISE_DAYS` (28): days after an escalation is resolved before the rules
  raise it again if its cause is still there.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from django.conf import settings

from dsr.deadlines import add_working_days
from dsr.register_settings import setting
from dsr.roles import Role

DEFAULT_LEVELS = (
    "DSR lead",
    "Senior managers in health and the local authority",
    "Executive lead for learning disability and autism",
)
DEFAULT_LEVEL_ROLES: Mapping[int, tuple[str, ...]] = MappingProxyType(
    {
        1: (Role.DSR_LEAD,),
        2: (Role.SENIOR_MANAGER_HEALTH, Role.SENIOR_MANAGER_LA),
        3: (Role.EXECUTIVE_LEAD,),
    }
)
DEFAULT_RULES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        # A person rated Red: straight to the senior managers (DOMAIN 8).
        "red_rating": {"on": True, "level": 2},
        # Amber for longer than `days` since the last review of the rating.
        "amber_unreviewed": {"on": True, "level": 1, "days": 28},
        # Red for `days` without a community C(E)TR planned or held, or an exception recorded.
        "red_without_cetr": {"on": True, "level": 2, "days": 14},
        # An action on a Red or Amber person past its due date (rule 11).
        "overdue_action": {"on": True, "level": 1},
        # An admission with no community C(E)TR before it (rule 7).
        "admission_without_cetr": {"on": True, "level": 2},
        # An admission to a hospital the CQC rates inadequate: the executive lead (rule 13).
        "inadequate_hospital": {"on": True, "level": 3},
        # A referral past its four-week deadline (rule 2), raised by the referral sweep.
        "referral_overdue": {"on": True, "level": 1},
        # A rating review more than `days` past its due date.
        "rating_review_overdue": {"on": True, "level": 1, "days": 0},
    }
)
DEFAULT_ACK_WORKING_DAYS: Mapping[str, int] = MappingProxyType({"RED": 1, "AMBER": 3, "OTHER": 3})


def levels() -> tuple[str, ...]:
    return tuple(getattr(settings, "DSR_ESCALATION_LEVELS", DEFAULT_LEVELS))


def top_level() -> int:
    return len(levels())


def level_name(level: int) -> str:
    names = levels()
    return names[level - 1] if 1 <= level <= len(names) else f"Level {level}"


def level_roles(level: int) -> tuple[str, ...]:
    table = setting("DSR_ESCALATION_LEVEL_ROLES", DEFAULT_LEVEL_ROLES)
    # Stored as JSON, whose keys are strings.
    return tuple(table.get(level, table.get(str(level), ())))


@dataclass(frozen=True)
class Rule:
    name: str
    on: bool
    level: int
    days: int


def rule(name: str) -> Rule:
    """The rule `name` as the DSR lead saved it, or else as the deployment's setting sets it:
    the default, with those keys over it. A rule missing from both keeps its default."""
    merged = {**DEFAULT_RULES[name], **setting("DSR_ESCALATION_RULES", {}).get(name, {})}
    level = min(max(int(merged.get("level", 1)), 1), top_level())
    return Rule(name, bool(merged.get("on", True)), level, int(merged.get("days", 0)))


def ack_working_days() -> Mapping[str, int]:
    """Working days to acknowledge, by the person's rating (RED, AMBER, OTHER)."""
    return {
        **DEFAULT_ACK_WORKING_DAYS,
        **setting("DSR_ESCALATION_ACK_WORKING_DAYS", DEFAULT_ACK_WORKING_DAYS),
    }


def ack_due(start: date, rating: str) -> date:
    """The last day to acknowledge an escalation that reached its level on `start`, for a person
    rated `rating`: Red 1 working day, Amber 3 (and 3 for anyone else), counted by
    dsr.deadlines.add_working_days (weekends and England and Wales bank holidays skipped)."""
    table = ack_working_days()
    days = table.get(rating or "OTHER", table["OTHER"])
    return add_working_days(start, int(days))


def level_for(user: Any) -> int:
    """The highest level the user owns through their roles (0 for none)."""
    held = {str(role) for role in getattr(user, "roles", [])}
    owned = [lvl for lvl in range(1, top_level() + 1) if held & set(map(str, level_roles(lvl)))]
    return max(owned, default=0)


def digest_on() -> bool:
    return bool(getattr(settings, "DSR_ESCALATION_DIGEST", True))


def red_at_once() -> bool:
    return bool(getattr(settings, "DSR_ESCALATION_RED_AT_ONCE", False))


def reraise_days() -> int:
    return int(getattr(settings, "DSR_ESCALATION_RERAISE_DAYS", 28))


def digest_hour() -> int:
    return int(getattr(settings, "DSR_ESCALATION_DIGEST_HOUR", 7))
