"""Migration operations the project's apps share.

`append_only(*tables)` puts the audit trigger on new history or transition tables, so every
table a migration adds is append-only like those `dsr/migrations/0007_audit_append_only`
protected (RELIABILITY E-6). The trigger function itself is created by that migration; the
operation is a no-op on SQLite, which has neither.
"""

from django.db import migrations

TRIGGER = (
    "CREATE TRIGGER dsr_audit_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION dsr_audit_append_only()"
)
DROP_TRIGGER = "DROP TRIGGER IF EXISTS dsr_audit_append_only ON {table}"


def append_only(*tables: str) -> migrations.RunPython:
    """An operation protecting `tables` (reversed by dropping the trigger)."""

    def run(statement: str, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in tables:
            schema_editor.execute(statement.format(table=schema_editor.quote_name(table)))

    return migrations.RunPython(
        lambda apps, schema_editor: run(TRIGGER, schema_editor),
        lambda apps, schema_editor: run(DROP_TRIGGER, schema_editor),
    )
