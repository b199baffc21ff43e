"""The backup and restore drill (RELIABILITY H-8): dump, restore into a fresh database, compare
every table, and fail on any difference. Runs against the test database."""

import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from dsr.management.commands import backup_drill
from tests.figures import record

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump needs PostgreSQL"),
]


def _lose_the_last_migration_row(restored) -> None:
    restored.execute(
        "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations)"
    )


def _rename_a_content_type(restored) -> None:
    restored.execute(
        "UPDATE django_content_type SET model = model || 'x'"
        " WHERE id = (SELECT min(id) FROM django_content_type)"
    )


def test_drill_restores_every_table_with_no_difference():
    out = StringIO()

    call_command("backup_drill", stdout=out)

    text = out.getvalue()
    tables = int(re.search(r"Tables compared: (\d+)\.", text).group(1))
    seconds = float(re.search(r"Restore: ([0-9.]+) s\.", text).group(1))
    django_tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
    assert "Differences: 0." in text
    assert tables >= len(django_tables)
    record("H-8 tables compared (differences)", f"{tables} (0)")
    record("H-8 restore time of the test database (s)", seconds)


def test_drill_reports_a_row_lost_in_the_restore():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
        (rows,) = cursor.fetchone()

    result = backup_drill.run_drill(after_restore=_lose_the_last_migration_row)

    assert result.differences == [f"django_migrations: {rows} rows, {rows - 1} after the restore"]


def test_drill_exits_non_zero_when_a_value_differs(monkeypatch):
    spoilt = backup_drill.run_drill

    def drill_with_a_changed_value(alias):
        return spoilt(alias, after_restore=_rename_a_content_type)

    monkeypatch.setattr(backup_drill, "run_drill", drill_with_a_changed_value)
    out = StringIO()

    with pytest.raises(CommandError, match="differs from the original"):
        call_command("backup_drill", stdout=out)

    text = out.getvalue()
    assert "Difference: django_content_type:" in text
    assert "their contents differ after the restore" in text
    assert "Differences: 1." in text
    record("H-8 differences found in a spoilt restore", 1)
