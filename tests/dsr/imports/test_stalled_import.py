"""An import whose worker has gone (issue 24, point 6): once nothing has moved for
DSR_IMPORT_STALL_SECONDS the page offers to carry on, and carrying on queues the job again.
A worker killed mid-import, with the broker redelivering its task to a fresh worker, is
tests/reliability/test_import_worker_kill.py."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.models import RegisterImport
from tests.dsr.imports.conftest import EXAMPLE
from tests.dsr.imports.flow import upload_and_check


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
