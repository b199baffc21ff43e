"""Scheduled escalation work. Thin: each task calls one service."""

from celery import shared_task

from escalation.sweeps import (
    escalation_ladder_sweep,
    escalation_queue_reconcile,
    escalation_rules_sweep,
)


@shared_task
def sweep_escalations_task() -> dict[str, dict[str, int]]:
    """Raise what the rules say, then move up what was not acknowledged in time."""
    return {"raised": escalation_rules_sweep(), "ladder": escalation_ladder_sweep()}


@shared_task
def check_escalation_queue_task() -> dict[str, int]:
    """Rebuild the escalation queue's order from the records, repair and report any
    difference."""
    return escalation_queue_reconcile()
