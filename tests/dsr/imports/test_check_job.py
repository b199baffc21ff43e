"""The dry run runs in the background, like the import, with the same progress bar on the page,
and the page shows what it found once it has finished (issue 24, point 3): a sheet of 10,000
rows is not checked inside a web request."""

import datetime
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr import imports
from dsr.models import ImportRow, RegisterImport
from tests.dsr.imports.conftest import EXAMPLE
from tests.dsr.imports.flow import match_only, run_check, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_check(lead_client, lead, django_capture_on_commit_callbacks):
    """The example uploaded and matched: the values page has queued its check, not run it."""
    upload(lead_client, EXAMPLE.read_bytes())
    register_import = RegisterImport.objects.get()
    with (
        mock.patch("dsr.tasks.check_import_task.delay") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        match_only(lead_client, register_import)
    # Queued once it committed, for the lead who asked (the check uses their areas).
    queued.assert_called_once_with(register_import.pk, lead.pk)
    register_import.refresh_from_db()
    return register_import, queued


def _checked_rows(register_import) -> int:
    return ImportRow.objects.filter(register_import=register_import).exclude(outcome="").count()


def test_matching_the_words_queues_the_check_and_the_page_shows_its_progress(
    lead_client, lead, queued_check, django_assert_max_num_queries
):
    register_import, queued = queued_check
    # Nothing was checked inside the request: the job is queued for the lead's areas.
    assert register_import.status == RegisterImport.Status.CHECKING
    assert (
        not ImportRow.objects.filter(register_import=register_import).exclude(outcome="").exists()
    )
    url = reverse("dsr:import-check", args=[register_import.pk])
    with django_assert_max_num_queries(12):
        page = lead_client.get(url).content.decode()
    progress_url = reverse("dsr:import-progress", args=[register_import.pk])
    assert f'data-progress-url="{progress_url}"' in page
    assert "Rows checked" in page and "Checking</span>: <span data-done>0</span> of 120" in page
    assert 'id="import-counts"' not in page and "Import 116 rows" not in page
    progress = lead_client.get(progress_url).json()
    assert (progress["status"], progress["done"], progress["total"]) == ("checking", 0, 120)
    # The matching cannot change under a running check.
    response = lead_client.get(reverse("dsr:import-values", args=[register_import.pk]))
    assert response.status_code == 302 and response["Location"] == url
    with pytest.raises(imports.RegisterError):
        imports.import_check(register_import=register_import, by=lead)

    checked = run_check(register_import, queued)
    assert checked.status == RegisterImport.Status.CHECKED
    assert sum(checked.counts.values()) == 120 and checked.counts["refused"] == 4
    page = lead_client.get(url).content.decode()
    assert 'id="import-counts"' in page and "Import 116 rows" in page
    assert 'data-progress-url=""' not in page and "Rows checked" not in page
    assert lead_client.get(progress_url).json()["status"] == "checked"


def test_the_check_moves_the_progress_bar_batch_by_batch(lead, queued_check, monkeypatch):
    register_import, _ = queued_check
    monkeypatch.setattr("dsr.imports.check.CHECK_BATCH_ROWS", 50)
    done = []
    original = imports.dry_run

    def watched(register_import, la_ids, progress=None):
        def tell(count):
            progress(count)
            done.append(RegisterImport.objects.get(pk=register_import.pk).rows_done)

        return original(register_import, la_ids, tell)

    monkeypatch.setattr("dsr.imports.dry_run", watched)
    counts = imports.check_run(register_import.pk, lead.pk)
    assert done == [50, 100, 120]
    assert sum(counts.values()) == 120
    register_import.refresh_from_db()
    assert register_import.status == "checked" and register_import.rows_done == 0


def test_a_stalled_check_offers_to_start_again_and_queues_it(
    lead_client, lead, queued_check, settings
):
    register_import, _ = queued_check
    url = reverse("dsr:import-check", args=[register_import.pk])
    assert "The check has stopped" not in lead_client.get(url).content.decode()
    long_ago = timezone.now() - datetime.timedelta(seconds=settings.DSR_IMPORT_STALL_SECONDS + 1)
    RegisterImport.objects.filter(pk=register_import.pk).update(updated_at=long_ago)
    page = lead_client.get(url).content.decode()
    assert "The check has stopped" in page and "Carry on with the check" in page
    with mock.patch("dsr.tasks.check_import_task.delay") as queued:
        response = lead_client.post(reverse("dsr:import-detail", args=[register_import.pk]))
    assert response["Location"] == url
    queued.assert_called_once_with(register_import.pk, lead.pk)


def test_a_check_no_longer_wanted_writes_nothing(lead, queued_check):
    register_import, _ = queued_check
    RegisterImport.objects.filter(pk=register_import.pk).update(status="uploaded")
    assert imports.check_run(register_import.pk, lead.pk) is None
    assert (
        not ImportRow.objects.filter(register_import=register_import).exclude(outcome="").exists()
    )
