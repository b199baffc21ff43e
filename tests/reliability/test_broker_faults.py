"""The broker goes away: with Redis killed mid-delivery, the worker and beat stay up and every
message is delivered (G-2, the worker's side); a request that saved a change while the broker is
down is answered as saved, and the outbox sweep sends its messages (G-4, after commit)."""

import os
import statistics
import time
from contextlib import contextmanager

import pytest
from django.urls import reverse

from dsr.celery import app
from dsr.models import Heartbeat, Notification
from dsr.roles import Role
from escalation.models import Escalation
from tests.conftest import account, signed_in_client
from tests.figures import record
from tests.reliability.conftest import (
    DELIVER,
    decided_referral,
    provider_calls,
    task_client,
    wait_for,
)
from tests.reliability.support import read_mail_log

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DONE = (Notification.Status.SENT, Notification.Status.FAILED)


def _all_done(rows) -> bool:
    ids = [row.pk for row in rows]
    return Notification.objects.filter(pk__in=ids, status__in=DONE).count() == len(ids)


def _ref(row: Notification) -> str:
    return f"notification-{row.pk}"


def test_g2_the_worker_and_beat_survive_redis_killed_mid_delivery(
    areas, staff, workers, throwaway_redis, mail_log
):
    kills = int(os.environ.get("DSR_REDIS_KILLS", "3"))
    redis = throwaway_redis()
    # The provider takes 1.5 s a message, so Redis dies while a delivery task is running; beat
    # sends the outbox sweep every 2 seconds, as it does every 30 in production.
    env = workers.env(
        broker_url=redis.url(), mail_log=mail_log, delays="0,1.5,0", DSR_DELIVERY_SWEEP_SECONDS=2
    )
    worker = workers.start("g2-worker", env, production=True)
    beat = workers.start_beat("g2-beat", env)
    all_rows: list[Notification] = []
    delays = []
    for i in range(kills):
        rows = list(
            Notification.objects.filter(
                subject_id=decided_referral(areas, staff, f"RedisKill{i}").pk
            )
        )
        all_rows += rows
        wait_for(
            lambda rows=rows: any(("call", _ref(r)) in read_mail_log(mail_log) for r in rows),
            timeout=60,
            what=f"a delivery under way before kill {i + 1}",
            detail=lambda: worker.tail() + "\n" + beat.tail(),
        )
        redis.stop()  # SIGKILL
        killed_at = time.monotonic()
        time.sleep(5)
        redis.start()  # the same port, empty: whatever was queued is gone
        wait_for(
            lambda rows=rows: _all_done(rows),
            timeout=120,
            what=f"the messages of kill {i + 1} to be delivered",
            detail=lambda: worker.tail() + "\n" + beat.tail(),
        )
        delays.append(time.monotonic() - killed_at)
        assert worker.proc.poll() is None, worker.tail()
        assert beat.proc.poll() is None, beat.tail()

    calls = provider_calls(mail_log)
    lost = sum(1 for row in all_rows if calls[_ref(row)] == 0)
    duplicates = sum(max(0, calls[_ref(row)] - 1) for row in all_rows)
    alive = int(worker.proc.poll() is None) + int(beat.proc.poll() is None)
    record(
        "G-2 Redis killed mid-delivery (kills / worker and beat alive after / messages lost / "
        "duplicates / seconds from kill to last delivery, median and max)",
        f"{kills} / {alive} of 2 / {lost} / {duplicates} / "
        f"{statistics.median(delays):.1f} and {max(delays):.1f}",
    )
    assert lost == 0
    assert duplicates <= kills  # at most one per kill, only for a message already accepted
    assert "Unrecoverable error" not in worker.text()
    assert Heartbeat.objects.filter(name="scheduler").exists()  # beat stamped as it sent


@contextmanager
def publishing_to(url: str):
    """The web process's Celery app publishes to `url` for the test; put back afterwards."""
    saved = (app.conf.get("broker_write_url"), app._pool, app.amqp._producer_pool)
    app.conf["broker_write_url"] = url
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf["broker_write_url"] = saved[0]
        app._pool, app.amqp._producer_pool = saved[1], saved[2]


def test_g4_a_saved_change_is_answered_as_saved_when_the_broker_is_down(
    make_person, organisations, workers, throwaway_redis, mail_log, caplog
):
    manager = account(organisations["north_council"], Role.SENIOR_MANAGER_LA)
    staff = account(organisations["icb"], Role.REGISTER_STAFF)
    person = make_person("AMBER")
    redis = throwaway_redis()
    redis.stop()  # the broker has gone

    with publishing_to(redis.url()):
        started = time.monotonic()
        response = signed_in_client(staff).post(
            reverse("escalation:raise", kwargs={"pk": person.pk}),
            {"level": 2, "note": "The placement has given notice."},
        )
        seconds = time.monotonic() - started

    escalation = Escalation.objects.get()  # saved once: the user has no reason to try again
    assert response.status_code == 302
    assert response["Location"] == escalation.get_absolute_url()
    rows = list(Notification.objects.filter(kind="escalation_raised"))
    assert [row.email for row in rows] == [manager.email]
    assert any(
        "queue_delivery" in record.getMessage() and record.levelname == "ERROR"
        for record in caplog.records
    ), "the failed enqueue is logged"

    # The broker comes back; the next outbox sweep sends what could not be queued.
    redis.start()
    worker = workers.start("g4-worker", workers.env(broker_url=redis.url(), mail_log=mail_log))
    with task_client(redis.url()) as beat:
        beat.send_task(DELIVER)
        wait_for(lambda: _all_done(rows), timeout=60, what="the sweep", detail=worker.tail)
    assert provider_calls(mail_log) == {_ref(row): 1 for row in rows}
    record(
        "G-4 saved while the broker is down (answer / escalations saved / seconds to answer / "
        "messages sent by the next sweep)",
        f"{response.status_code} / {Escalation.objects.count()} / {seconds:.2f} / {len(rows)}",
    )


def test_a_worker_reports_itself_alive_without_the_scheduler(workers, throwaway_redis, mail_log):
    """A worker writes its own heartbeat on its own timer: with beat stopped, the service status
    page still tells a running worker from a stopped scheduler."""
    redis = throwaway_redis()
    worker = workers.start("alone", workers.env(broker_url=redis.url(), mail_log=mail_log))

    wait_for(
        lambda: Heartbeat.objects.filter(name="worker").exists(),
        timeout=60,
        what="the worker's own heartbeat",
        detail=worker.tail,
    )
    assert not Heartbeat.objects.filter(name="scheduler").exists()
