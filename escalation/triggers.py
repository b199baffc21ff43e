"""What raises an escalation and what clears it: one entry per rule (DOMAIN.md section 8; rules
11, 13, 14), each holding both.

An entry's `source` says, in SQL, which rows trigger the rule today (the sweep inserts one
escalation per row, set-based); its `holds` says, as a query condition on the escalation, whether
the cause is still there (when it is not, the ladder sweep resolves the escalation as the rules).
Whether a rule is on, its level and its days are settings (`escalation.rules`).

The entries here read the register's and reviews' tables. Another app hands over its own
trigger by defining an entry in its AppConfig.ready() (referrals: a referral past its four-week
deadline), so escalation never imports it; an entry with `swept=False` is raised by its own
app's sweep through `escalation.sweeps.escalation_raise_rule`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q

from dsr.models import Admission, CetrException, Rating, RegisterEntry
from reviews.models import Action, Cetr


@dataclass(frozen=True)
class Trigger:
    # The rule's name: an Escalation.Reason value and a key of the DSR_ESCALATION_RULES setting.
    name: str
    # What the escalation is about ("<app>.<model>") and SQL for that row's id.
    trigger_type: str
    trigger: str
    # (today, the rule's days) -> ("FROM ... WHERE ...", parameters): the rows that raise it
    # today. Every source names the person as `p` where there is one.
    source: Callable[[date, int], tuple[str, list[Any]]]
    # A condition on a live escalation (annotated with `red_since`, the day the person's open
    # entry turned red, and `trigger_entry`, the register entry of a rating trigger) that is
    # true while its cause still holds; and what the rules say when it no longer does.
    holds: Callable[[], Q]
    cleared: str
    # Whether the escalation rules sweep raises it (False: its own app's sweep does), and the
    # note the raised escalation carries.
    swept: bool = True
    note: str = "Raised by the escalation rules."
    # Whether the cause is the person's state rather than the event's (a red spell): then only
    # the person's latest escalation of the rule is raised again when resolved while the cause
    # remains (escalation.sweeps).
    per_person: bool = False
    # For a source without a person (`p`): SQL for the person's id and area.
    person: str = "p.id"
    local_authority: str = "p.local_authority_id"


TRIGGERS: dict[str, Trigger] = {}


def define(trigger: Trigger) -> None:
    """Add (or replace) a rule's entry."""
    TRIGGERS[trigger.name] = trigger


def triggers() -> list[Trigger]:
    return list(TRIGGERS.values())


# --- The register's and reviews' rules -------------------------------------------------------

_OPEN_ENTRY = (
    "FROM dsr_registerentry e JOIN dsr_person p ON p.id = e.person_id WHERE e.status = 'open'"
)
_LATEST_RATING = (
    "(SELECT r.id FROM dsr_rating r WHERE r.entry_id = e.id"
    " ORDER BY r.effective_from DESC, r.set_at DESC, r.id DESC LIMIT 1)"
)
_RED_SPELL_START = (
    "(SELECT r.id FROM dsr_rating r WHERE r.entry_id = e.id AND r.rating = 'RED'"
    " AND r.previous_rating <> 'RED' ORDER BY r.effective_from DESC, r.set_at DESC, r.id DESC"
    " LIMIT 1)"
)
_ADMISSIONS = (
    "FROM dsr_admission a JOIN dsr_person p ON p.id = a.person_id"
    " JOIN dsr_registerentry e ON e.person_id = p.id AND e.status = 'open'"
    " WHERE a.discharged_on IS NULL"
)


def _open_entry() -> Any:
    return RegisterEntry.objects.filter(person=OuterRef("person"), status=RegisterEntry.Status.OPEN)


def _red() -> Q:
    return Q(Exists(_open_entry().filter(rating="RED")))


def _red_without_cetr() -> Q:
    cetr_or_exception = Exists(
        Cetr.objects.filter(person=OuterRef("person"), kind=Cetr.Kind.COMMUNITY).filter(
            Q(status=Cetr.Status.PLANNED)
            | Q(status=Cetr.Status.COMPLETED, held_on__gte=OuterRef("red_since"))
        )
    ) | Exists(
        CetrException.objects.filter(person=OuterRef("person"), held_on__gte=OuterRef("red_since"))
    )
    return _red() & ~cetr_or_exception


def _not_reviewed() -> Q:
    reviewed = Exists(
        Rating.objects.filter(entry_id=OuterRef("trigger_entry"), pk__gt=OuterRef("trigger_id"))
    ) | ~Exists(RegisterEntry.objects.filter(pk=OuterRef("trigger_entry"), status="open"))
    return ~reviewed


def _in_hospital() -> Q:
    return Q(
        Exists(Admission.objects.filter(pk=OuterRef("trigger_id"), discharged_on__isnull=True))
    )


def _open_action_on_red_or_amber() -> Q:
    # As the rule raises it: an open action on a person on the register as red or amber.
    return Exists(
        Action.objects.filter(pk=OuterRef("trigger_id"), status=Action.Status.OPEN)
    ) & Exists(_open_entry().filter(rating__in=["RED", "AMBER"]))


_REVIEWED = "the rating has been reviewed"
_DISCHARGED = "the person has been discharged"

for _trigger in (
    # A person rated Red: straight to the senior managers (DOMAIN 8).
    Trigger(
        name="red_rating",
        trigger_type="dsr.rating",
        trigger=_RED_SPELL_START,
        source=lambda today, days: (f"{_OPEN_ENTRY} AND e.rating = 'RED'", []),
        holds=_red,
        cleared="the person is no longer rated red",
        per_person=True,
    ),
    # Amber for longer than `days` since the last review of the rating.
    Trigger(
        name="amber_unreviewed",
        trigger_type="dsr.rating",
        trigger=_LATEST_RATING,
        source=lambda today, days: (
            f"{_OPEN_ENTRY} AND e.rating = 'AMBER' AND e.rating_reviewed_on < %s",
            [today - timedelta(days=days)],
        ),
        holds=_not_reviewed,
        cleared=_REVIEWED,
    ),
    # Red for `days` without a community C(E)TR planned or held, or an exception recorded.
    Trigger(
        name="red_without_cetr",
        trigger_type="dsr.rating",
        trigger=_RED_SPELL_START,
        source=lambda today, days: (
            f"{_OPEN_ENTRY} AND e.rating = 'RED' AND e.rating_since <= %s"  # noqa: S608  (constants)
            " AND NOT EXISTS (SELECT 1 FROM reviews_cetr c WHERE c.person_id = p.id"  # nosec B608
            " AND c.kind = 'community'"
            " AND (c.status = 'planned'"
            " OR (c.status = 'completed' AND c.held_on >= e.rating_since)))"
            " AND NOT EXISTS (SELECT 1 FROM dsr_cetrexception x WHERE x.person_id = p.id"
            " AND x.held_on >= e.rating_since)",
            [today - timedelta(days=days)],
        ),
        holds=_red_without_cetr,
        per_person=True,
        cleared="a community C(E)TR is planned or held, an exception is recorded, or the person "
        "is no longer rated red",
    ),
    # An action on a Red or Amber person past its due date (rule 11).
    Trigger(
        name="overdue_action",
        trigger_type="reviews.action",
        trigger="a.id",
        source=lambda today, days: (
            "FROM reviews_action a JOIN dsr_person p ON p.id = a.person_id"
            " JOIN dsr_registerentry e ON e.person_id = p.id AND e.status = 'open'"
            " WHERE a.status = 'open' AND a.due_on < %s AND e.rating IN ('RED', 'AMBER')",
            [today],
        ),
        holds=_open_action_on_red_or_amber,
        cleared="the action is done or cancelled, or the person is no longer on the register as "
        "red or amber",
    ),
    # An admission with no community C(E)TR before it (rule 7).
    Trigger(
        name="admission_without_cetr",
        trigger_type="dsr.admission",
        trigger="a.id",
        source=lambda today, days: (
            f"{_ADMISSIONS} AND a.community_cetr_before_admission = %s",
            [False],
        ),
        holds=_in_hospital,
        cleared=_DISCHARGED,
    ),
    # An admission to a hospital the CQC rates inadequate: the executive lead (rule 13).
    Trigger(
        name="inadequate_hospital",
        trigger_type="dsr.admission",
        trigger="a.id",
        source=lambda today, days: (f"{_ADMISSIONS} AND a.cqc_rating = 'inadequate'", []),
        holds=_in_hospital,
        cleared=_DISCHARGED,
    ),
    # A rating review more than `days` past its due date. (Amber has its own rule,
    # amber_unreviewed, on the same rating row.)
    Trigger(
        name="rating_review_overdue",
        trigger_type="dsr.rating",
        trigger=_LATEST_RATING,
        source=lambda today, days: (
            f"{_OPEN_ENTRY} AND e.rating <> 'AMBER' AND e.rating_review_due < %s",
            [today - timedelta(days=days)],
        ),
        holds=_not_reviewed,
        cleared=_REVIEWED,
    ),
):
    define(_trigger)
