"""Scheduled housekeeping. Each task is thin: it calls one service."""

import logging

from celery import shared_task

from dsr.services import heartbeat_record, sessions_purge_expired

logger = logging.getLogger(__name__)


@shared_task
def record_heartbeat_task() -> str:
    """A worker is alive: it ran this. (The scheduler stamps its own heartbeat when it sends,
    dsr.celery.StampingScheduler.)"""
    beat = heartbeat_record(name="worker")
    logger.info("worker heartbeat recorded at %s", beat.last_seen_at.isoformat())
    return beat.last_seen_at.isoformat()


@shared_task
def purge_expired_sessions_task() -> int:
    return sessions_purge_expired()


@shared_task
def deliver_notifications_task() -> dict[str, int]:
    """Deliver one batch of due outbox messages. Safe to run twice or in parallel: rows are
    claimed with SKIP LOCKED."""
    from dsr.outbox.delivery import deliver_due

    return deliver_due()


@shared_task
def check_letter_statuses_task() -> dict[str, int]:
    """Ask GOV.UK Notify how each letter sent in the last week is getting on (it calls back only
    for emails and text messages), and record the final ones."""
    from dsr.outbox.receipts import letter_statuses_check

    return letter_statuses_check()


@shared_task
def sweep_register_reviews_task() -> dict[str, int]:
    from dsr.sweeps import register_review_sweep

    return register_review_sweep()


@shared_task
def disable_dormant_accounts_task() -> int:
    """Switch off accounts not signed in to for DSR_ACCOUNT_DORMANT_DAYS. Safe to run twice:
    a second run finds them already off."""
    from dsr.accounts import accounts_disable_dormant

    return len(accounts_disable_dormant())


@shared_task
def apply_retention_schedule_task() -> dict[str, int]:
    """Remove records past their retention period, rule by rule, recording each run. Safe to run
    twice: a second run finds nothing more to remove."""
    from dsr.records import retention_run

    return {run.kind: run.total for run in retention_run()}


@shared_task
def queue_password_reset_task(request_id: int) -> int | None:
    """Handle one password reset request: queue the email for the active account its address
    names, if there is one and it has not had its hourly share. Sent the request's id, never the
    address (RELIABILITY E-4). Safe to run twice: a handled request is skipped."""
    from dsr.accounts import password_reset_process

    return password_reset_process(request_id=request_id)


@shared_task
def sweep_password_resets_task() -> dict[str, int]:
    """Handle the password reset requests whose job was never queued (the broker was down),
    and delete those handled a day ago. Safe to run twice or beside the jobs."""
    from dsr.accounts import password_reset_sweep

    return password_reset_sweep()


@shared_task
def run_import_task(import_id: int) -> int:
    """Apply a checked register import, batch by batch. Safe to run twice or after a killed
    worker: each batch is one transaction, and a run starts from the first row not applied."""
    from dsr.imports.run import run

    return run(import_id)


@shared_task
def check_import_task(import_id: int, by_id: int) -> dict[str, int] | None:
    """The dry run of a register import, for the lead who asked for it. Safe to run twice or
    after a killed worker: it checks every row again and writes only the rows' findings."""
    from dsr.imports import check_run

    return check_run(import_id, by_id)


@shared_task
def discard_import_files_task() -> int:
    """Delete uploaded register spreadsheets kept longer than DSR_IMPORT_KEEP_HOURS."""
    from dsr.imports.files import discard_expired

    return discard_expired()
