"""Demo escalations (registered with dsr.demo; DEBUG only): the rules run over the demo
register, and a few are acknowledged and resolved, so the queue shows every state."""

from django.db import transaction

from dsr.models import User
from escalation.models import Escalation
from escalation.services import escalation_acknowledge, escalation_resolve
from escalation.sweeps import escalation_ladder_sweep, escalation_rules_sweep


@transaction.atomic
def seed_escalations() -> int:
    """Seed once: skipped when any escalation exists. Returns the number raised."""
    if Escalation.objects.exists():
        return 0
    raised = sum(escalation_rules_sweep().values())
    escalation_ladder_sweep()
    manager = User.objects.get(email="health.manager@dsr.example")
    for number, escalation in enumerate(
        Escalation.objects.filter(level=2, person__isnull=False).order_by("id")[:6]
    ):
        escalation_acknowledge(
            escalation=escalation, by=manager, note="Speaking to the team today."
        )
        if number % 2:
            escalation_resolve(
                escalation=escalation, by=manager, outcome="Extra support at home agreed."
            )
    return raised
