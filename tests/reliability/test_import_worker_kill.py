"""A Celery worker killed mid-import, then the task redelivered to a fresh worker: no row of the
spreadsheet lost or written twice (issue 24, "Must show"; RELIABILITY G-1's method).

The import is started as the DSR lead starts it (the page's `start`, which queues
run_import_task on the broker once it commits). Real `celery -A dsr worker` processes on a
throwaway Redis take it, with acks_late and reject_on_worker_lost, in batches of 5 rows; the test
SIGKILLs the worker's whole process group while a batch's transaction is open, several times,
each time starting a fresh worker. Nothing queues the task again: the broker hands the unacked
task back after the visibility timeout (10 s here, with the restore sweep every second), and the
new worker carries on from the first row not applied. Each batch is one transaction, so a kill
leaves whole batches only.
"""

import re
import time
from contextlib import contextmanager

import pytest
from django.db import connection
from django.urls import reverse

from dsr.models import Consent, ImportRow, Person, Rating, RegisterEntry, RegisterImport
from tests.dsr.imports.conftest import EXAMPLE, icb_areas, lead, lead_client  # noqa: F401
from tests.dsr.imports.flow import upload_and_check
from tests.figures import record
from tests.reliability.conftest import celery_settings, database_url, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BATCH = 5
# Rows applied before each kill (of the example's 120): early, in the middle, near the end.
KILL_AFTER = (15, 50, 85)
APP_NAME = "dsr-import-worker"
RECEIVED = re.compile(r"Task dsr\.tasks\.run_import_task\[([0-9a-f-]+)\] received")


@contextmanager
def publishing_to(broker_url: str):
    """The project's Celery app, in this process, publishing to `broker_url` (as the web
    process does to the production broker); its connection pools are put back afterwards."""
    from dsr.celery import app

    amqp = app.amqp
    saved = (app._pool, amqp._producer_pool)
    app._pool = None
    amqp._producer_pool = None
    try:
        with celery_settings(app, broker_url=broker_url):
            yield
    finally:
        app._pool, amqp._producer_pool = saved


def _applied(import_id: int) -> int:
    return ImportRow.objects.filter(register_import_id=import_id, applied=True).count()


def _open_batch() -> bool:
    """The worker's database session is inside a transaction: a batch is being written."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
            "AND xact_start IS NOT NULL AND state <> 'idle'",
            [APP_NAME],
        )
        return cursor.fetchone()[0] > 0


def _worker_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
        )
        return cursor.fetchone()[0]


def test_a_celery_worker_killed_mid_import_then_redelivered_loses_and_doubles_nothing(
    lead_client,  # noqa: F811
    workers,
    throwaway_redis,
    mail_log,
):
    redis = throwaway_redis()
    env = workers.env(
        broker_url=redis.url(),
        mail_log=mail_log,
        DATABASE_URL=database_url(connection, APP_NAME),
        DSR_IMPORT_BATCH_ROWS=BATCH,
    )
    register_import = upload_and_check(lead_client, EXAMPLE.read_bytes())
    expected = register_import.counts
    total = register_import.rows.count()
    with publishing_to(redis.url()):
        response = lead_client.post(reverse("dsr:import-start", args=[register_import.pk]))
    assert response.status_code == 302
    assert redis.queued() == 1  # one task on the broker, queued by the page
    worker = workers.start("import-0", env)

    kills, task_ids, recovery = [], [], []
    for i, target in enumerate(KILL_AFTER):
        wait_for(
            lambda target=target: _applied(register_import.pk) >= target and _open_batch(),
            timeout=60,
            interval=0.002,
            what=f"a batch in flight after row {target}",
            detail=worker.tail,
        )
        workers.kill(worker)
        killed_at = time.monotonic()
        # PostgreSQL rolls the dead worker's open batch back once its session goes.
        wait_for(lambda: _worker_sessions() == 0, timeout=30, what="the dead worker's session")
        task_ids += RECEIVED.findall(worker.text())
        done = _applied(register_import.pk)
        kills.append(done)
        assert done % BATCH == 0 and 0 < done < total, (done, worker.tail())
        applied = ImportRow.objects.filter(register_import=register_import, applied=True)
        assert (
            Person.objects.count() == applied.filter(outcome__in=["create", "person_only"]).count()
        )
        assert RegisterEntry.objects.count() == applied.filter(outcome="create").count()
        assert RegisterImport.objects.get(pk=register_import.pk).rows_done == done

        # A fresh worker; nothing is queued again: the broker redelivers the unacked task.
        worker = workers.start(f"import-{i + 1}", env)
        wait_for(
            lambda done=done: _applied(register_import.pk) > done,
            timeout=60,
            what=f"the redelivered task to carry on after kill {i + 1}",
            detail=worker.tail,
        )
        recovery.append(time.monotonic() - killed_at)

    wait_for(
        lambda: RegisterImport.objects.get(pk=register_import.pk).status == "done",
        timeout=60,
        what="the import to finish",
        detail=worker.tail,
    )
    task_ids += RECEIVED.findall(worker.text())
    register_import.refresh_from_db()
    assert register_import.rows_done == total == _applied(register_import.pk)
    # Every worker ran the one task the page queued: each kill's was redelivered, not queued anew.
    assert len(task_ids) == len(KILL_AFTER) + 1 and len(set(task_ids)) == 1, task_ids

    # Nothing lost, nothing doubled.
    written = expected["create"] + expected["person_only"]
    assert Person.objects.count() == written
    assert RegisterEntry.objects.count() == expected["create"]
    assert Rating.objects.count() == expected["create"]
    assert Consent.objects.count() == (
        ImportRow.objects.filter(
            register_import=register_import, outcome__in=["create", "person_only"]
        )
        .exclude(plan__consent=None)
        .count()
    )
    numbers = [n for n in Person.objects.values_list("nhs_number", flat=True) if n]
    assert len(numbers) == len(set(numbers))
    assert not ImportRow.objects.filter(
        register_import=register_import, outcome__in=["create", "person_only"], person=None
    ).exists()
    record(
        "import worker kills (rows applied at each kill; lost / doubled)",
        f"{len(kills)} kills at rows {kills} of {total}: 0 / 0",
    )
    record(
        "import seconds from kill to the redelivered task's first batch (max)",
        f"{max(recovery):.1f}",
    )
