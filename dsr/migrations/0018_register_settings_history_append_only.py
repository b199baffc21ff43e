from django.db import migrations

# The settings' history table is append-only like every other
# (dsr/migrations/0007_audit_append_only).
HISTORY_TABLE = "dsr_historicalregistersettings"
TRIGGER = (
    "CREATE TRIGGER dsr_audit_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION dsr_audit_append_only()"
)
DROP_TRIGGER = "DROP TRIGGER IF EXISTS dsr_audit_append_only ON {table}"


def protect(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TRIGGER.format(table=schema_editor.quote_name(HISTORY_TABLE)))


def unprotect(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP_TRIGGER.format(table=schema_editor.quote_name(HISTORY_TABLE)))


class Migration(migrations.Migration):
    dependencies = [
        ("dsr", "0017_notification_receipts_and_text_messages"),
    ]

    operations = [migrations.RunPython(protect, unprotect)]
