"""Password reset requests in tests. A request writes its row and queues a job with the row's id
after commit (dsr.accounts.password_reset_request); here the job is collected instead of going
to a broker, then run as the worker would run it, and the outbox delivered."""

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.test import TestCase

from dsr.outbox.delivery import deliver_due
from dsr.tasks import queue_password_reset_task


@contextmanager
def reset_jobs() -> Iterator[list[int]]:
    """The jobs (each the id of a PasswordResetRequest) that the requests inside the block queue
    once their transaction commits; filled in when the block ends."""
    jobs: list[int] = []
    with mock.patch.object(queue_password_reset_task, "delay") as delay:
        with TestCase.captureOnCommitCallbacks(execute=True):
            yield jobs
        for call in delay.call_args_list:
            (request_id,) = call.args  # the id alone: the address never goes to the broker
            assert call.kwargs == {}
            jobs.append(request_id)


def run_reset_jobs(jobs: list[int]) -> None:
    """Run each job, then deliver the outbox, as the worker does."""
    for request_id in jobs:
        queue_password_reset_task(request_id)
    deliver_due()
