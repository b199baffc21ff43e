"""Scheduled escalation work. Thin: each task calls one service."""

from celery import shared_task

from escalation.sweeps import escalation_ladder_sweep, escalation_rules_sweep


@shared_task
def sweep_escalations_task() -> dict[str, dict[str, int]]:
    """Raise what the rules say, then move up what was not acknowledged in time."""
    return {"raised": escalation_rules_sweep(), "ladder": escalation_ladder_sweep()}
