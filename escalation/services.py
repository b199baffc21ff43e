"""Writes for escalations: raising (by a rule's sweep or by hand), the acknowledgement clock and
the ladder, acknowledging, notes and resolving. Keyword-only arguments, the actor as `by`, one
transaction each; refusals raise RegisterError with a message for the person using the page.

Rules enforced here (DOMAIN.md section 8; rules 11, 13, 14): each rule of escalation.rules raises
once per triggering event and not at all when turned off; an escalation left unacknowledged past
its deadline (working days, by rating) moves up a level and its new owners are told; status
follows Escalation.ALLOWED_TRANSITIONS and every move is a row; only an owner at the
escalation's level or above acts on it.
"""

import hashlib
import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from dsr.caching import changed
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import LocalAuthority, Person, RegisterEntry, User
from escalation import rules
from escalation.models import Escalation, EscalationNote, EscalationTransition
from escalation.notifications import notify_escalation_owners, notify_inadequate_hospital_admission
from escalation.permissions import can_act
from escalation.queue_order import queue_order_refresh

logger = logging.getLogger(__name__)


def escalation_raise(
    *,
    reason: str,
    trigger_type: str,
    trigger_id: int,
    person: Person | None = None,
    local_authority: LocalAuthority | None = None,
    level: int = 1,
    note: str = "",
    by: User | None = None,
) -> tuple[Escalation, bool]:
    """Raise an escalation for a triggering event, once: the same reason and event never raise
    twice (a unique key backs it, so two callers at once still make one), and a new event
    raises anew. Returns the escalation and whether it was created now. Writes its "raised"
    transition row in the same transaction. The deadline sweeps raise in SQL to the same
    rules; this is the entry point for everything else (a member of staff, a rule in code)."""
    existing = (
        Escalation.objects.filter(reason=reason, trigger_type=trigger_type, trigger_id=trigger_id)
        .order_by("-raise_number")
        .first()
    )
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            escalation = Escalation(
                reason=reason,
                trigger_type=trigger_type,
                trigger_id=trigger_id,
                person=person,
                local_authority=local_authority or (person.local_authority if person else None),
                level=level,
                raised_at=timezone.now(),
                raised_by=by,
                note=note,
            )
            set_change_reason(escalation, "Raised", by=by)
            escalation.save()
            EscalationTransition.objects.create(
                escalation=escalation,
                from_status="",
                to_status="open",
                to_level=level,
                by=by,
                reason=note,
            )
            # Raised by a member of staff: its owners are told at once.
            start_clocks([escalation.pk], at_once=by is not None)
            queue_order_refresh([escalation.person_id])
    except IntegrityError:
        # Raised by another caller between the check and the insert: theirs stands.
        return (
            Escalation.objects.filter(
                reason=reason, trigger_type=trigger_type, trigger_id=trigger_id
            )
            .order_by("-raise_number")
            .first(),
            False,
        )
    logger.info("escalation raised escalation=%s reason=%s", escalation.pk, reason)
    return escalation, True


def ratings_of(person_ids: Iterable[int]) -> dict[int, str]:
    return dict(
        RegisterEntry.objects.filter(
            person_id__in=set(person_ids), status=RegisterEntry.Status.OPEN
        ).values_list("person_id", "rating")
    )


def start_clocks(ids: Iterable[int] | None = None, *, at_once: bool = False) -> int:
    """Set the acknowledgement deadline of newly raised escalations (from the day raised, in
    working days by the person's rating) and tell their owners: `at_once`, or as
    escalation.notifications says (otherwise in their next daily digest). Rows raised in SQL by
    a sweep have no deadline yet; this is where their clock starts."""
    waiting = Escalation.objects.select_for_update(skip_locked=True).filter(
        status=Escalation.Status.OPEN, ack_due_on__isnull=True
    )
    if ids is not None:
        waiting = waiting.filter(pk__in=list(ids))
    waiting = list(waiting)
    ratings = ratings_of(e.person_id for e in waiting if e.person_id)
    for escalation in waiting:
        rating = ratings.get(escalation.person_id, "")
        escalation.ack_due_on = rules.ack_due(timezone.localdate(escalation.raised_at), rating)
    # One UPDATE and one history INSERT per batch, named for the job (RELIABILITY H-4).
    bulk_update_with_history(
        waiting,
        Escalation,
        ["ack_due_on"],
        default_change_reason="Acknowledgement clock started",
    )
    changed("escalation")  # a bulk update sends no signals
    queue_order_refresh(e.person_id for e in waiting)
    notify_escalation_owners(waiting, "escalation_raised", ratings=ratings, at_once=at_once)
    notify_inadequate_hospital_admission(
        [e for e in waiting if e.reason == Escalation.Reason.INADEQUATE_HOSPITAL]
    )
    return len(waiting)


# --- Acting on an escalation -------------------------------------------------------------------


def _move(escalation: Escalation, to_status: str, *, by: User, reason: str) -> Escalation:
    if to_status not in Escalation.ALLOWED_TRANSITIONS[escalation.status]:
        raise RegisterError(
            f"This escalation is {escalation.get_status_display().lower()}: it cannot be "
            f"{Escalation.Status(to_status).label.lower()} now."
        )
    if not can_act(by, escalation):
        raise RegisterError(
            f"This escalation is at level {escalation.level} "
            f"({rules.level_name(escalation.level)}): only its owners can act on it."
        )
    EscalationTransition.objects.create(
        escalation=escalation,
        from_status=escalation.status,
        to_status=to_status,
        from_level=escalation.level,
        to_level=escalation.level,
        by=by,
        reason=reason,
    )
    escalation.status = to_status
    return escalation


def _acknowledge(escalation: Escalation, *, by: User, note: str) -> Escalation:
    """Acknowledge a locked, open escalation: its own transition row and history row, and the
    note on it."""
    _move(escalation, Escalation.Status.ACKNOWLEDGED, by=by, reason="")
    escalation.acknowledged_at = timezone.now()
    escalation.acknowledged_by = by
    set_change_reason(escalation, "Acknowledged", by=by)
    escalation.save()
    if note.strip():
        EscalationNote.objects.create(escalation=escalation, by=by, text=note)
    return escalation


@transaction.atomic
def escalation_acknowledge(*, escalation: Escalation, by: User, note: str = "") -> Escalation:
    """Take ownership: the escalation stops climbing the ladder. Acknowledging what another
    owner acknowledged a moment before changes nothing (the note is still kept)."""
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.status == Escalation.Status.ACKNOWLEDGED and can_act(by, escalation):
        if note.strip():
            EscalationNote.objects.create(escalation=escalation, by=by, text=note)
        return escalation
    _acknowledge(escalation, by=by, note=note)
    queue_order_refresh([escalation.person_id])
    return escalation


@transaction.atomic
def escalation_acknowledge_all(
    *, person: Person, by: User, note: str = "", shown: Iterable[int]
) -> list[Escalation]:
    """Acknowledge, with one note, every escalation about the person that is waiting and that
    the user may act on (their level and area: can_act), each with its own transition and
    history row, in one transaction. `shown` is the escalations the user was shown: one
    raised (or climbed to them) since refuses the lot, so nobody acknowledges what they have
    not seen; one another owner acknowledged meanwhile is left as it is. Refused when nothing
    is left to acknowledge; a refusal writes nothing."""
    shown = set(shown)
    waiting = list(
        Escalation.objects.select_for_update()
        .filter(person=person, status=Escalation.Status.OPEN)
        .order_by("id")
    )
    mine = [e for e in waiting if can_act(by, e)]
    unseen = [e for e in mine if e.pk not in shown]
    if unseen:
        raise RegisterError(
            "Another escalation about this person has been raised since this page was shown. "
            "Check the list and acknowledge again."
        )
    if not mine:
        raise RegisterError(
            "There is nothing about this person waiting for you to acknowledge: it has been "
            "acknowledged or resolved, or it is not at your level."
        )
    acknowledged = [_acknowledge(escalation, by=by, note=note) for escalation in mine]
    queue_order_refresh([person.pk])
    logger.info(
        "escalations acknowledged person=%s count=%s by=%s", person.pk, len(acknowledged), by.pk
    )
    return acknowledged


@transaction.atomic
def escalation_resolve(*, escalation: Escalation, by: User, outcome: str) -> Escalation:
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if not outcome.strip():
        raise RegisterError("Say why the escalation can be resolved.")
    _move(escalation, Escalation.Status.RESOLVED, by=by, reason=outcome)
    escalation.resolved_at = timezone.now()
    escalation.resolved_by = by
    escalation.outcome = outcome
    set_change_reason(escalation, "Resolved", by=by)
    escalation.save()
    queue_order_refresh([escalation.person_id])
    return escalation


@transaction.atomic
def escalation_note_add(*, escalation: Escalation, by: User, text: str) -> EscalationNote:
    """Record an action taken. Owners, and the register team, may add notes."""
    if not text.strip():
        raise RegisterError("Write the note.")
    if escalation.status == Escalation.Status.RESOLVED:
        raise RegisterError("This escalation is resolved: raise a new one if it is needed.")
    if not (can_act(by, escalation) or by.has_perm("dsr.change_register")):
        raise RegisterError("Only the escalation's owners and the DSR team can add notes.")
    return EscalationNote.objects.create(escalation=escalation, by=by, text=text)


def escalation_raise_by_hand(*, person: Person, level: int, note: str, by: User) -> Escalation:
    """A member of staff raises an escalation about a person: each one is its own event."""
    if not note.strip():
        raise RegisterError("Say why you are raising it.")
    if not 1 <= level <= rules.top_level():
        raise RegisterError("Choose a level.")
    escalation, _ = escalation_raise(
        reason=Escalation.Reason.BY_HAND,
        trigger_type="escalation.by_hand",
        # A hand-raised escalation is its own triggering event, keyed on who raised it, about
        # whom, why and on which day: a double submit raises one, a new concern raises anew.
        trigger_id=int(
            hashlib.sha256(
                f"{person.pk}|{by.pk}|{note.strip()}|{timezone.localdate()}".encode()
            ).hexdigest()[:15],
            16,
        ),
        person=person,
        level=level,
        note=note,
        by=by,
    )
    return escalation
