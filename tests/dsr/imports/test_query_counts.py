"""The import's queries grow with its rows only through what each row writes (issue 24,
"Speed"): the check, the batches' own bookkeeping and undo's check of what changed since cost
the same whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.imports import nhs_numbers
from dsr import imports
from dsr.imports.run import _changed_since, run
from tests.dsr.imports.conftest import row, xlsx
from tests.dsr.imports.flow import upload_and_check

pytestmark = pytest.mark.django_db

# What the services write for one row of the sheet (a person, their consent, their register
# entry and first rating, a key worker, each with its history row, under the row locks and rule
# checks the forms share): 29 measured. The batch's own bookkeeping adds nothing per row.
PER_ROW = 30
# One batch's own queries: its savepoint here, the import's row lock, its rows, the register's
# people they may be (4), the rows stored and the progress bar moved: 11 measured; then the
# escalation queue's places of the batch's people brought up to date once, whatever the number
# of rows (their locks and places: 18 measured). The run's context (the import's columns, the
# lead's areas and their ICBs) is built once per run.
PER_BATCH = 30


@pytest.fixture
def numbers():
    """Valid NHS numbers, each used once in a test."""
    return iter(nhs_numbers(200, seed=2024))


def _checked(client, count: int, numbers):
    sheet = xlsx([row(**{"NHS Number": next(numbers)}) for _ in range(count)])
    register_import = upload_and_check(client, sheet)
    assert register_import.counts["create"] == count, register_import.counts
    return register_import


def _queries(action) -> int:
    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


def test_the_check_costs_the_same_queries_for_20_rows_as_for_60(lead_client, lead, numbers):
    small, large = _checked(lead_client, 20, numbers), _checked(lead_client, 60, numbers)
    counts = []
    for register_import in (small, large):
        imports.RegisterImport.objects.filter(pk=register_import.pk).update(status="checking")
        counts.append(_queries(lambda ri=register_import: imports.check_run(ri.pk, lead.pk)))
    assert counts[0] == counts[1], counts


def test_each_row_imported_costs_what_it_writes_and_each_batch_a_few_queries(
    lead_client, settings, numbers
):
    settings.DSR_IMPORT_BATCH_ROWS = 100
    counts = {}
    for size in (20, 60):
        register_import = _checked(lead_client, size, numbers)
        lead_client.post(reverse("dsr:import-start", args=[register_import.pk]))
        counts[size] = _queries(lambda ri=register_import: run(ri.pk))
    per_row = (counts[60] - counts[20]) / 40
    fixed = counts[20] - 20 * per_row
    # The same 60 rows in three batches of 20: two more batches, each a few queries.
    settings.DSR_IMPORT_BATCH_ROWS = 20
    register_import = _checked(lead_client, 60, numbers)
    lead_client.post(reverse("dsr:import-start", args=[register_import.pk]))
    batched = _queries(lambda: run(register_import.pk))
    print(
        f"\nimport queries: {counts}, {per_row:.2f} a row, {fixed:.0f} a run; "
        f"in batches of 20: {batched}"
    )
    assert counts[60] / 60 <= counts[20] / 20
    assert per_row <= PER_ROW
    assert batched - counts[60] <= 2 * PER_BATCH


def test_undos_check_of_what_changed_costs_the_same_queries_for_20_rows_as_for_60(
    lead_client, numbers
):
    counts = []
    for size in (20, 60):
        register_import = _checked(lead_client, size, numbers)
        lead_client.post(reverse("dsr:import-start", args=[register_import.pk]))
        run(register_import.pk)
        register_import.refresh_from_db()
        rows = list(register_import.rows.filter(applied=True).exclude(written={}))
        assert len(rows) == size
        with CaptureQueriesContext(connection) as queries:
            changed = _changed_since(rows, register_import.finished_at)
        counts.append(len(queries))
        assert changed == []
    assert counts[0] == counts[1], counts
