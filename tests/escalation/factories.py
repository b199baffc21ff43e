"""Factories for escalations, in each state of Escalation.ALLOWED_TRANSITIONS.

Each escalation is written as escalation_raise leaves it: the person's area, the
acknowledgement deadline of escalation.rules for the day raised and the person's rating, and
its "raised" transition row (escalation.services.can_act reads the level it was raised to from
it), plus a row for each move its state implies, and the person's place in the queue
(escalation.queue_order). No message to its owners is written to the
outbox. Use `.build()` plus `bulk_create` for large volumes: the transition rows are then left
out, and `queue_order_rebuild()` brings the queue up to date.
"""

import factory
from django.utils import timezone

from dsr.models import RegisterEntry
from escalation import rules
from escalation.models import Escalation, EscalationNote, EscalationTransition
from escalation.queue_order import queue_order_refresh
from tests.dsr.factories import PersonFactory, UserFactory


def _rating(person) -> str:
    if person is None:
        return ""
    entry = RegisterEntry.objects.filter(person=person, status=RegisterEntry.Status.OPEN)
    return entry.values_list("rating", flat=True).first() or ""


class EscalationFactory(factory.django.DjangoModelFactory):
    """An open escalation about a person, raised by hand now at level 1, each about its own
    event (a fresh trigger id)."""

    class Meta:
        model = Escalation
        skip_postgeneration_save = True

    reason = Escalation.Reason.BY_HAND
    trigger_type = "escalation.by_hand"
    trigger_id = factory.Sequence(lambda n: n + 1)
    person = factory.SubFactory(PersonFactory)
    local_authority = factory.LazyAttribute(
        lambda o: o.person.local_authority if o.person else None
    )
    level = 1
    status = Escalation.Status.OPEN
    raised_at = factory.LazyFunction(timezone.now)
    note = ""
    ack_due_on = factory.LazyAttribute(
        lambda o: rules.ack_due(timezone.localdate(o.raised_at), _rating(o.person))
    )

    @factory.post_generation
    def transitions(self, create, extracted, **kwargs):
        """The "raised" row, then the moves to the escalation's status."""
        if not create:
            return
        rows = [
            EscalationTransition(
                escalation=self,
                from_status="",
                to_status=Escalation.Status.OPEN,
                to_level=self.level,
                by=self.raised_by,
                at=self.raised_at,
                reason=self.note,
            )
        ]
        status = Escalation.Status.OPEN
        moves = [
            (Escalation.Status.ACKNOWLEDGED, self.acknowledged_by, self.acknowledged_at, ""),
            (Escalation.Status.RESOLVED, self.resolved_by, self.resolved_at, self.outcome),
        ]
        for to_status, by, at, reason in moves:
            if at is None:
                continue
            rows.append(
                EscalationTransition(
                    escalation=self,
                    from_status=status,
                    to_status=to_status,
                    from_level=self.level,
                    to_level=self.level,
                    by=by,
                    at=at,
                    reason=reason,
                )
            )
            status = to_status
        EscalationTransition.objects.bulk_create(rows)
        # As the services do: the person's place in the queue follows the escalation.
        queue_order_refresh([self.person_id])


class AcknowledgedEscalationFactory(EscalationFactory):
    """Acknowledged by its owner the moment it was raised: it no longer climbs."""

    status = Escalation.Status.ACKNOWLEDGED
    acknowledged_at = factory.SelfAttribute("raised_at")
    acknowledged_by = factory.SubFactory(UserFactory)


class ResolvedEscalationFactory(EscalationFactory):
    """Resolved by its owner the moment it was raised, with the outcome."""

    status = Escalation.Status.RESOLVED
    resolved_at = factory.SelfAttribute("raised_at")
    resolved_by = factory.SubFactory(UserFactory)
    outcome = "Crisis package agreed."


class EscalationNoteFactory(factory.django.DjangoModelFactory):
    """An action taken, noted by an owner."""

    class Meta:
        model = EscalationNote

    escalation = factory.SubFactory(EscalationFactory)
    by = factory.SubFactory(UserFactory)
    at = factory.LazyFunction(timezone.now)
    text = "Called the family: a crisis visit is booked for tomorrow."
