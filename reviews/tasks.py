"""Scheduled review work. Thin: each task calls one service."""

from celery import shared_task

from reviews.services import action_reminder_sweep


@shared_task
def sweep_action_reminders_task() -> dict[str, int]:
    return action_reminder_sweep()
