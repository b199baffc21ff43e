"""Password reset requests in tests. A request queues a job after commit
(dsr.accounts.password_reset_request); here the job is collected instead of going to a broker,
then run as the worker would run it, and the outbox delivered."""

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.test import TestCase

from dsr.notifications import deliver_due
from dsr.tasks import queue_password_reset_task

Job = tuple[str, str]


@contextmanager
def reset_jobs() -> Iterator[list[Job]]:
    """The jobs (address, request key) that the requests inside the block queue once their
    transaction commits; filled in when the block ends."""
    jobs: list[Job] = []
    with mock.patch.object(queue_password_reset_task, "delay") as delay:
        with TestCase.captureOnCommitCallbacks(execute=True):
            yield jobs
        jobs.extend(tuple(call.args) for call in delay.call_args_list)


def run_reset_jobs(jobs: list[Job]) -> None:
    """Run each job, then deliver the outbox, as the worker does."""
    for email, request_key in jobs:
        queue_password_reset_task(email, request_key)
    deliver_due()
