"""A real worker killed after GOV.UK Notify accepted a message (RELIABILITY.md G-1, issue 20).

The same harness as the G-1 test of the email backend (tests/reliability/conftest.py): real
`celery worker` processes on a throwaway Redis and the PostgreSQL test database, each killed with
SIGKILL (the whole process group). The service sends through the small Notify of the tests
(tests/notify/server.py), served on the loopback by this process: it accepts each message, then
holds its answer back, and the worker is killed in that hold, so Notify has the message and the
service never heard so. The next worker must find the message in Notify by its reference and
record it as sent, never send it a second time.
"""

import json
import os
import random
import time

import pytest

from dsr.models import Notification
from tests.figures import record
from tests.notify.conftest import load_templates
from tests.notify.server import NotifyServer
from tests.reliability.conftest import (
    DELIVER,
    OutboxSweeps,
    decided_referral,
    task_client,
    wait_for,
)

DONE = (Notification.Status.SENT, Notification.Status.FAILED)
# Seconds the small Notify holds each answer after accepting: the kill lands inside it.
HOLD = 1.5


def _ref(row: Notification) -> str:
    return f"notification-{row.pk}"


def _all_done(rows) -> bool:
    ids = [row.pk for row in rows]
    return Notification.objects.filter(pk__in=ids, status__in=DONE).count() == len(ids)


@pytest.fixture
def notify_server():
    server = NotifyServer()
    yield server
    server.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_g1_a_worker_killed_after_notify_accepted_is_reconciled_and_sends_nothing_twice(
    areas, staff, workers, throwaway_redis, mail_log, notify_server
):
    kills = int(os.environ.get("DSR_G1_NOTIFY_KILLS", "6"))
    rng = random.Random(int(os.environ.get("DSR_G1_SEED", "20260310")))  # noqa: S311
    notify = notify_server.notify
    notify.answer_delay = HOLD
    redis = throwaway_redis()
    env = workers.env(
        broker_url=redis.url(),
        mail_log=mail_log,
        DSR_MESSAGES="notify",
        NOTIFY_API_KEY=notify.api_key,
        NOTIFY_BASE_URL=notify_server.base_url,
        NOTIFY_TEMPLATES=json.dumps(load_templates(notify)),
    )
    worker = workers.start("g1-notify-0", env)
    targets: list[Notification] = []
    all_rows: list[Notification] = []
    with task_client(redis.url()) as beat:
        sweeps = OutboxSweeps(beat, every=2)
        for i in range(kills):
            # Two outcome emails: the kill lands on the first, the second is not yet claimed.
            rows = list(
                Notification.objects.filter(
                    subject_id=decided_referral(areas, staff, f"Notified{i}").pk
                ).order_by("id")
            )
            assert len(rows) == 2
            all_rows += rows
            targets.append(rows[0])
            beat.send_task(DELIVER)

            target = _ref(rows[0])
            wait_for(
                lambda target=target: notify.accepted(target),
                timeout=60,
                interval=0.01,
                what=f"Notify to accept the message of kill {i + 1}",
                detail=worker.tail,
            )
            time.sleep(rng.uniform(0.05, HOLD / 2))  # inside the hold: no answer yet
            workers.kill(worker)
            status = Notification.objects.get(pk=rows[0].pk).status
            assert status == Notification.Status.SENDING, f"killed too late ({status})"

            worker = workers.start(f"g1-notify-{i + 1}", env)
            wait_for(
                sweeps.until(lambda rows=rows: _all_done(rows)),
                timeout=90,
                what=f"rows of kill {i + 1} to be delivered",
                detail=worker.tail,
            )

    accepted = {_ref(row): len(notify.accepted(_ref(row))) for row in all_rows}
    twice = sum(count - 1 for count in accepted.values() if count > 1)
    lost = sum(1 for count in accepted.values() if count == 0)
    looked_up = {
        r.query["reference"][0]
        for r in notify.received
        if r.method == "GET" and "reference" in r.query
    }
    reconciled = 0
    for row in targets:
        row.refresh_from_db()
        held = [n["id"] for n in notify.accepted(_ref(row))]
        if _ref(row) in looked_up and held == [row.provider_reference]:
            reconciled += 1
    record(
        "G-1 Notify: worker SIGKILLs after Notify accepted (reconciled by reference / sent twice "
        "/ lost)",
        f"{kills} kills: {reconciled} of {kills} / {twice} / {lost} "
        f"({len(all_rows)} messages, {sum(accepted.values())} accepted by Notify)",
    )
    assert twice == 0, accepted
    assert lost == 0, accepted
    assert reconciled == kills
    assert Notification.objects.filter(
        pk__in=[r.pk for r in all_rows], status=Notification.Status.SENT
    ).count() == len(all_rows)
