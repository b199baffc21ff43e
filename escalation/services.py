"""Writes for escalations. The queues, ladder and acknowledgement deadlines build on these."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from dsr.history import set_change_reason
from dsr.models import LocalAuthority, Person, User
from escalation.models import Escalation, EscalationTransition

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
    existing = Escalation.objects.filter(
        reason=reason, trigger_type=trigger_type, trigger_id=trigger_id
    ).first()
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
                escalation=escalation, from_status="", to_status="open", by=by, reason=note
            )
    except IntegrityError:
        # Raised by another caller between the check and the insert: theirs stands.
        return (
            Escalation.objects.get(reason=reason, trigger_type=trigger_type, trigger_id=trigger_id),
            False,
        )
    logger.info("escalation raised escalation=%s reason=%s", escalation.pk, reason)
    return escalation, True
