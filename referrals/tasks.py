"""Scheduled referral work. Thin: each task calls one service."""

from celery import shared_task

from referrals.sweeps import referral_deadline_sweep


@shared_task
def sweep_referral_deadlines_task() -> dict[str, int]:
    return referral_deadline_sweep()
