"""Celery fault injection with real workers, a throwaway Redis and the PostgreSQL test database
(RELIABILITY.md G-1 to G-5).

The promise under test: PostgreSQL is the source of truth and the broker only a doorbell. An
outbox row is the work; a worker that dies, a broker that forgets, a dropped database connection
or several workers at once must leave every message SENT (or FAILED) and sent once, except
inside the window after the provider accepted a message and before its row was marked sent,
where at most one duplicate is allowed (RELIABILITY (d) 19).
"""

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from functools import partial
from unittest import mock

import pytest
from django.core import mail
from django.db import connection, transaction

from dsr.models import Heartbeat, Notification, Reminder
from dsr.outbox import delivery as notifications
from dsr.outbox.delivery import STALE_CLAIM, claim, deliver
from dsr.roles import Role
from escalation.models import Escalation
from referrals.recipients import outcome_recipients
from referrals.services import referral_assign, referral_decide
from referrals.sweeps import referral_deadline_sweep
from tests.dsr.factories import UserFactory
from tests.figures import record
from tests.referrals.test_services import reviewed, submit
from tests.reliability.conftest import (
    DELIVER,
    HEARTBEAT,
    ROOT,
    OutboxSweeps,
    database_url,
    decided_referral,
    provider_calls,
    task_client,
    wait_for,
)
from tests.reliability.support import read_mail_log

DONE = (Notification.Status.SENT, Notification.Status.FAILED)


def _rows(referral) -> list[Notification]:
    return list(Notification.objects.filter(subject_id=referral.pk).order_by("id"))


def _all_done(rows) -> bool:
    ids = [row.pk for row in rows]
    return Notification.objects.filter(pk__in=ids, status__in=DONE).count() == len(ids)


def _ref(row: Notification) -> str:
    return f"notification-{row.pk}"


def _logged(path, step: str, ref: str) -> bool:
    return (step, ref) in read_mail_log(path)


# --- G-1 Worker SIGKILL mid-delivery ----------------------------------------------------------

# Where the kill lands, and the provider's log line that opens that window.
KILL_POINTS = {
    "before": "enter",  # claimed and rendered, the provider not yet contacted
    "during": "call",  # the provider call in progress, not accepted
    "after": "accepted",  # the provider accepted; the row is not yet marked sent
}
# Seconds the stand-in provider spends in each window. A task delivering two messages takes
# under 5 s, well inside the 10 s visibility timeout, so a live task is never redelivered.
WINDOW = 0.8


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_g1_a_worker_killed_mid_delivery_loses_nothing(
    areas, staff, workers, throwaway_redis, mail_log
):
    kills = int(os.environ.get("DSR_G1_KILLS", "6"))  # nightly: DSR_G1_KILLS=50
    rng = random.Random(int(os.environ.get("DSR_G1_SEED", "20260310")))  # noqa: S311
    redis = throwaway_redis()
    env = workers.env(
        broker_url=redis.url(), mail_log=mail_log, delays=f"{WINDOW},{WINDOW},{WINDOW}"
    )
    worker = workers.start("g1-0", env)
    results = []  # (kill point, provider calls for the interrupted message, for the one after)
    recovery = []
    held = []  # messages left "sending" by each kill
    all_rows: list[Notification] = []
    with task_client(redis.url()) as beat:
        sweeps = OutboxSweeps(beat, every=2)
        for i in range(kills):
            point = list(KILL_POINTS)[i % len(KILL_POINTS)]
            # Two messages: the kill lands on the first; the second is claimed but not reached.
            rows = _rows(decided_referral(areas, staff, f"Killed{i}"))
            assert len(rows) == 2
            all_rows += rows
            beat.send_task(DELIVER)

            target = _ref(rows[0])
            reached = partial(_logged, mail_log, KILL_POINTS[point], target)
            wait_for(
                reached, timeout=60, interval=0.01, what=f"kill point {point}", detail=worker.tail
            )
            time.sleep(rng.uniform(0.02, WINDOW / 2))  # somewhere inside the window
            killed_at = time.monotonic()
            workers.kill(worker)
            status = Notification.objects.get(pk=rows[0].pk).status
            assert status == Notification.Status.SENDING, f"killed too late ({status})"
            # Only the message in the worker's hands is held back by its death.
            held.append(
                Notification.objects.filter(
                    pk__in=[r.pk for r in rows], status=Notification.Status.SENDING
                ).count()
            )
            # Where the kill landed, as the provider saw it (a slow machine may land it later).
            steps = {step for step, ref in read_mail_log(mail_log) if ref == target}
            landed = next(p for p, step in reversed(KILL_POINTS.items()) if step in steps)

            # A fresh worker; beat's outbox sweep (every 30 s in production, every 2 s here)
            # takes the row the dead worker left "sending" at once: no session holds it now.
            worker = workers.start(f"g1-{i + 1}", env)
            wait_for(
                sweeps.until(lambda rows=rows: _all_done(rows)),
                timeout=90,
                what=f"rows of kill {i + 1} ({landed}) to be delivered",
                detail=worker.tail,
            )
            recovery.append(time.monotonic() - killed_at)
            calls = provider_calls(mail_log)
            results.append((landed, calls[target], calls[_ref(rows[1])]))

    lost = Notification.objects.filter(pk__in=[r.pk for r in all_rows]).exclude(status__in=DONE)
    before = sum(a - 1 for p, a, _ in results if p in ("before", "during")) + sum(
        b - 1 for _, _, b in results
    )
    after = [a - 1 for p, a, _ in results if p == "after"]
    landed_at = Counter(p for p, _, _ in results)
    record(
        "G-1 worker kills survived (lost / duplicates before send / duplicates after send)",
        f"{kills} kills ({landed_at['before']} before the provider call, "
        f"{landed_at['during']} during it, {landed_at['after']} after it accepted): "
        f"{lost.count()} / {before} / {sum(after)} "
        f"(at most {max(after, default=0)} per after-accept kill)",
    )
    record(
        "G-1 seconds from kill to delivered (median / max); messages held back by a kill (max)",
        f"{statistics.median(recovery):.1f} / {max(recovery):.1f}; {max(held)}",
    )
    assert max(held) == 1  # the claim is one message, not the batch
    assert max(recovery) < 60
    assert lost.count() == 0
    assert before == 0, results
    assert all(duplicates <= 1 for duplicates in after), results
    assert Notification.objects.filter(status=Notification.Status.FAILED).count() == 0


# --- G-2 Broker loss ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("appendonly", [False, True], ids=["appendonly-no", "appendonly-yes"])
def test_g2_a_broker_restart_loses_no_message(
    appendonly, areas, staff, workers, throwaway_redis, mail_log
):
    redis = throwaway_redis(appendonly=appendonly)
    rows = []
    for i in range(3):
        rows += _rows(decided_referral(areas, staff, f"Broker{i}"))
    with task_client(redis.url()) as beat:
        for _ in range(3):
            beat.send_task(DELIVER)
    queued = redis.queued()
    assert queued == 3

    redis.shutdown_nosave()
    redis.start()
    survived = redis.queued()
    assert survived == (3 if appendonly else 0)

    # One sweep interval: beat sends its next delivery task to the restarted broker.
    worker = workers.start("g2", workers.env(broker_url=redis.url(), mail_log=mail_log))
    with task_client(redis.url()) as beat:
        beat.send_task(DELIVER)
    wait_for(lambda: _all_done(rows), timeout=60, what="every row sent", detail=worker.tail)

    calls = provider_calls(mail_log)
    lost = sum(1 for row in rows if calls[_ref(row)] == 0)
    duplicates = sum(max(0, calls[_ref(row)] - 1) for row in rows)
    mode = "appendonly yes" if appendonly else "appendonly no"
    record(
        f"G-2 broker loss, {mode} (tasks queued / left after restart / messages lost / duplicates)",
        f"{queued} / {survived} / {lost} / {duplicates}",
    )
    assert lost == 0 and duplicates == 0
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == len(rows)


def test_g2_production_redis_persists_and_never_evicts():
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    redis_service = compose.split("\n  redis:\n", 1)[1].split("\nvolumes:", 1)[0]
    command = redis_service.split("command:", 1)[1].splitlines()[0]

    assert '"--appendonly", "yes"' in command
    assert '"--maxmemory-policy", "noeviction"' in command
    assert "redis-data:/data" in redis_service  # the append-only file outlives the container


# --- G-3 Database connection loss ----------------------------------------------------------


def _terminate(database: str, application_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
            " AND application_name = %s AND pid <> pg_backend_pid()",
            [database, application_name],
        )
        return sum(1 for (ok,) in cursor.fetchall() if ok)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_g3_a_dropped_database_connection_does_not_break_the_next_tasks(
    areas, staff, workers, throwaway_redis, mail_log, test_database
):
    redis = throwaway_redis()
    env = workers.env(broker_url=redis.url(), mail_log=mail_log, delays="0,1.5,0")
    env["DATABASE_URL"] = database_url(connection, application_name="dsr-g3-worker")
    worker = workers.start("g3", env)
    rows = _rows(decided_referral(areas, staff, "Dropped"))
    with task_client(redis.url()) as beat:
        beat.send_task(DELIVER)
        wait_for(
            lambda: ("call", _ref(rows[0])) in read_mail_log(mail_log),
            timeout=60,
            what="the provider call",
            detail=worker.tail,
        )
        terminated = _terminate(test_database, "dsr-g3-worker")
        assert terminated >= 1
        # The task in flight loses its connection: it may fail, but only that one.
        wait_for(lambda: sum(worker.outcomes()) >= 1, timeout=30, what="the task in flight")
        in_flight_ok, in_flight_failed = worker.outcomes()

        for i in range(100):
            beat.send_task(HEARTBEAT if i % 2 else DELIVER)
        wait_for(
            lambda: sum(worker.outcomes()) >= 101,
            timeout=120,
            what="the next 100 tasks",
            detail=worker.tail,
        )
        succeeded, failed = worker.outcomes()
        succeeded -= in_flight_ok
        failed -= in_flight_failed

        # The interrupted rows are taken again by the next outbox sweep: the connection that
        # held them has gone.
        wait_for(
            OutboxSweeps(beat, every=2).until(lambda: _all_done(rows)),
            timeout=60,
            what="interrupted rows",
            detail=worker.tail,
        )

    log = worker.text()
    cascades = log.count("connection already closed") + log.count("InterfaceError")
    calls = provider_calls(mail_log)
    record(
        "G-3 DB connection loss (connections terminated / in-flight task failed / next 100 "
        "tasks succeeded / 'connection already closed' cascades / duplicates after accept)",
        f"{terminated} / {in_flight_failed} / {succeeded} of 100 / {cascades} / "
        f"{sum(max(0, calls[_ref(r)] - 1) for r in rows)}",
    )
    assert (succeeded, failed) == (100, 0), worker.tail()
    assert cascades == 0
    assert Heartbeat.objects.filter(name="worker").exists()
    assert all(calls[_ref(r)] in (1, 2) for r in rows)
    assert calls[_ref(rows[1])] == 1  # never reached the provider before the loss


# --- G-4 Publish-vs-commit -----------------------------------------------------------------


class Boom(Exception):
    pass


@pytest.mark.django_db
def test_g4_outbox_rows_and_tasks_exist_only_if_the_transaction_commits(
    areas, staff, frozen_now, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    decided = reviewed(submit(areas, nhs_number="", given_name="Rolled"), staff)
    overdue = submit(areas, nhs_number="", given_name="Overdue")
    reviewer = UserFactory(roles=[Role.REGISTER_STAFF])
    referral_assign(overdue, to=reviewer, by=reviewer)
    today = overdue.decision_due + timedelta(days=12)

    with (
        mock.patch("celery.app.base.Celery.send_task") as publish,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        referral_decide(decided, decision="withdrawn", reason="Asked to stop.", by=staff)
        assert Notification.objects.filter(subject_id=decided.pk).exists()
        referral_deadline_sweep(today=today)
        assert Notification.objects.filter(subject_id=overdue.pk).exists()
        raise Boom
    # (The acknowledgements written when the two referrals arrived are not part of this.)
    received = Notification.objects.filter(kind="referral_received")
    rolled_back = (
        Notification.objects.count() - received.count(),
        publish.call_count,
        len(callbacks),
    )
    assert rolled_back == (0, 0, 0)
    assert Reminder.objects.count() == 0 and Escalation.objects.count() == 0
    decided.refresh_from_db()
    assert decided.is_live

    with (
        mock.patch("celery.app.base.Celery.send_task") as publish,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        referral_decide(decided, decision="withdrawn", reason="Asked to stop.", by=staff)
        referral_deadline_sweep(today=today)
    recipients = outcome_recipients(decided)
    per_recipient = Notification.objects.filter(
        subject_id=decided.pk, kind="referral_outcome"
    ).values_list("recipient_key", flat=True)
    assert sorted(per_recipient) == sorted(r.key for r in recipients)
    reminders = (
        Notification.objects.filter(subject_id=overdue.pk)
        .exclude(kind="referral_received")
        .values_list("recipient_key", flat=True)
    )
    assert sorted(reminders) == ["reviewer", "team"]
    # After commit, one delivery task for the decision's outcomes and one for the sweep's batch.
    assert publish.call_count == 2
    assert [call.args[0] for call in publish.call_args_list] == [DELIVER, DELIVER]
    record(
        "G-4 publish-vs-commit (rolled back: outbox rows / tasks; committed: rows per "
        "recipient / tasks)",
        f"{rolled_back[0]} / {rolled_back[1]}; "
        f"{len(per_recipient) // len(recipients)} / {publish.call_count}",
    )


# --- G-5 Duplicate delivery -----------------------------------------------------------------

G5: dict[int, str] = {}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("processes", [2, 4, 8])
def test_g5_several_processes_send_each_message_once(
    processes, areas, staff, workers, mail_log, tmp_path
):
    rows = []
    for i in range(10):
        rows += _rows(decided_referral(areas, staff, f"Race{i}"))
    env = workers.env(broker_url="redis://127.0.0.1:1/0", mail_log=mail_log, delays="0,0.02,0")
    ready, go = tmp_path / "ready", tmp_path / "go"
    ready.mkdir()
    command = [sys.executable, "-m", "tests.reliability.support", "deliver", str(ready), str(go)]
    procs = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        for _ in range(processes)
    ]
    try:
        wait_for(
            lambda: len(list(ready.iterdir())) == processes or any(p.poll() for p in procs),
            timeout=90,
            what=f"{processes} processes ready",
        )
        go.touch()
        outputs = [p.communicate(timeout=90)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
    assert all(p.returncode == 0 for p in procs), outputs

    calls = provider_calls(mail_log)
    sent = Notification.objects.filter(status=Notification.Status.SENT).count()
    delivered = [json.loads(out.rsplit("delivered ", 1)[1]) for out in outputs]
    busy = sum(1 for counts in delivered if counts.get("sent"))
    G5[processes] = (
        f"P={processes}: {sum(calls.values())} calls / {sent} SENT for {len(rows)} messages "
        f"({busy} processes sent some)"
    )
    record(
        "G-5 duplicate delivery (provider calls / SENT rows for M messages)",
        "; ".join(G5[p] for p in sorted(G5)),
    )
    assert sorted(calls) == sorted(_ref(r) for r in rows)
    assert set(calls.values()) == {1}
    assert sent == len(rows)


@pytest.mark.django_db
def test_g5_a_slow_send_is_not_sent_twice_however_long_it_takes(areas, staff, frozen_now):
    """A worker whose sends run longer than STALE_CLAIM keeps its messages: the next sweep,
    claiming while a message is with the provider, does not take the ones its session holds,
    and each is sent once."""
    rows = _rows(decided_referral(areas, staff, "Slow"))
    ids, claimed_at = notifications.claim_batch()
    deliver(ids[0], claimed_at)
    frozen_now.shift(STALE_CLAIM * 1.5)  # its batch has now taken longer than STALE_CLAIM
    send = notifications._send_email
    reclaimed: list[int] = []

    def slow_provider(notification, rendered):
        # While a message is with the provider, the next beat tick claims whatever is stale.
        if not reclaimed:
            reclaimed.extend(claim())
            for notification_id in reclaimed:
                deliver(notification_id)
        send(notification, rendered)

    with mock.patch("dsr.outbox.delivery._send_email", side_effect=slow_provider):
        deliver(ids[1], claimed_at)  # the first worker's claim has gone stale: it stands back
        notifications.deliver_due()  # the next tick sends it, once

    sent_to = sorted(message.to[0] for message in mail.outbox)
    assert len(sent_to) == len(rows) == len(set(sent_to))
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == len(rows)
