"""A worker killed mid-import, then resumed: no row lost or doubled (issue 24, "Must show").

The import runs in a separate process (`manage.py run_import`, the loop the Celery task runs)
on the test database, in batches of 5; the test kills it with SIGKILL while a batch is in
flight, several times, then lets a fresh run carry on. Each batch is one transaction, so a
kill leaves whole batches only, and the next run starts from the first row not applied.
No Redis is needed: the kill is of the process doing the work, as tests/reliability does to
Celery workers.
"""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from dsr.imports.run import run
from dsr.models import Consent, ImportRow, Person, Rating, RegisterEntry, RegisterImport
from tests.dsr.imports.conftest import EXAMPLE
from tests.dsr.imports.flow import upload_and_check

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
BATCH = 5


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _start_worker(import_id: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "dsr.settings_test",
        "DSR_IMPORT_BATCH_ROWS": str(BATCH),
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(  # noqa: S603  (our own interpreter and manage.py)
        [sys.executable, str(ROOT / "manage.py"), "run_import", str(import_id)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _done(import_id: int) -> int:
    return ImportRow.objects.filter(register_import_id=import_id, applied=True).count()


def test_a_worker_killed_mid_import_then_resumed_loses_and_doubles_nothing(
    lead_client, lead, monkeypatch
):
    # The processes this test starts are the workers: nothing is put on a shared broker.
    monkeypatch.setattr("dsr.tasks.run_import_task.delay", lambda import_id: None)
    register_import = upload_and_check(lead_client, EXAMPLE.read_bytes())
    expected = register_import.counts
    lead_client.post(reverse("dsr:import-start", args=[register_import.pk]))
    total = register_import.rows.count()
    kills = []
    for target in (2 * BATCH, 10 * BATCH, 18 * BATCH):
        worker = _start_worker(register_import.pk)
        deadline = time.monotonic() + 120
        while _done(register_import.pk) < target:
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the import made no progress"
            time.sleep(0.005)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        done = _done(register_import.pk)
        kills.append(done)
        # Whole batches only: a killed batch left nothing behind.
        assert done % BATCH == 0 and 0 < done < total
        applied = ImportRow.objects.filter(register_import=register_import, applied=True)
        made = applied.filter(outcome__in=["create", "person_only"])
        assert Person.objects.count() == made.count()
        assert RegisterEntry.objects.count() == applied.filter(outcome="create").count()

    # The page offers to carry on once nothing has moved for a while; carrying on runs the
    # same loop from the first row not applied.
    register_import.refresh_from_db()
    assert register_import.status == RegisterImport.Status.RUNNING
    run(register_import.pk)
    register_import.refresh_from_db()
    assert register_import.status == "done" and register_import.rows_done == total

    # Nothing lost, nothing doubled.
    written = expected["create"] + expected["person_only"]
    assert Person.objects.count() == written
    assert RegisterEntry.objects.count() == expected["create"]
    assert Rating.objects.count() == expected["create"]
    assert (
        Consent.objects.count()
        == ImportRow.objects.filter(
            register_import=register_import, outcome__in=["create", "person_only"]
        )
        .exclude(plan__consent=None)
        .count()
    )
    numbers = list(Person.objects.values_list("nhs_number", flat=True))
    assert len(numbers) == len(set(numbers))
    assert not ImportRow.objects.filter(
        register_import=register_import, outcome__in=["create", "person_only"], person=None
    ).exists()
    print(f"\nimport kills at rows {kills} of {total}: 0 lost, 0 doubled")


@pytest.mark.django_db
def test_a_stalled_import_offers_to_carry_on_and_queues_the_job_again(
    lead_client, monkeypatch, settings
):
    queued = []
    monkeypatch.setattr("dsr.tasks.run_import_task.delay", queued.append)
    register_import = upload_and_check(lead_client, EXAMPLE.read_bytes())
    lead_client.post(reverse("dsr:import-start", args=[register_import.pk]))
    url = reverse("dsr:import-detail", args=[register_import.pk])
    assert "The import has stopped" not in lead_client.get(url).content.decode()
    lead_client.post(url)
    assert queued == []  # not stalled: nothing queued again
    long_ago = timezone.now() - datetime.timedelta(seconds=settings.DSR_IMPORT_STALL_SECONDS + 1)
    RegisterImport.objects.filter(pk=register_import.pk).update(updated_at=long_ago)
    page = lead_client.get(url).content.decode()
    assert "The import has stopped" in page and "Carry on with the import" in page
    lead_client.post(url)
    assert queued == [register_import.pk]
