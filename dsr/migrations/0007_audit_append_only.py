"""Audit: history, access-log and transition rows change only through the retention service.

RELIABILITY E-6 (ASVS v5.0.0-16.4.2). On PostgreSQL a row trigger on each protected table refuses
every UPDATE and DELETE, unless the transaction has run

    SELECT set_config('dsr.retention', 'on', true)

which only the retention service does (the setting ends with its transaction). Inserts are
untouched. Protected: every django-simple-history table (`<app>_historical...`), the access
log (`dsr_accessevent`) and the status transition tables (`..._...transition`) of the project's
apps, as they stand after the migrations this one depends on. A later migration that adds such a
table adds its trigger too, with `dsr.migration_ops.append_only(table)`
(tests/security/test_logging_and_audit.py fails while any such table has none.) TRUNCATE is
left to database privileges: the test database is emptied with it between tests.

On SQLite, the embedded development database, the triggers are not made. The access log also
gains the request's correlation id (RELIABILITY E-7).
"""

from django.db import migrations, models

from dsr.migration_ops import DROP_TRIGGER, TRIGGER

FUNCTION = """
CREATE OR REPLACE FUNCTION dsr_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('dsr.retention', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only the retention service may change or remove audit rows.';
END;
$$
"""

PROTECTED = (
    r"^(dsr|referrals|reviews|escalation)_(historical[a-z0-9_]*|[a-z0-9_]*transition|accessevent)$"
)



def _protected_tables(schema_editor) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename ~ %s ORDER BY tablename",
            [PROTECTED],
        )
        return [name for (name,) in cursor.fetchall()]


def protect(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # no placeholders: "%" is PL/pgSQL's own
    for table in _protected_tables(schema_editor):
        schema_editor.execute(TRIGGER.format(table=schema_editor.quote_name(table)))


def unprotect(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in _protected_tables(schema_editor):
        schema_editor.execute(DROP_TRIGGER.format(table=schema_editor.quote_name(table)))
    schema_editor.execute("DROP FUNCTION IF EXISTS dsr_audit_append_only()")


class Migration(migrations.Migration):
    dependencies = [
        ("dsr", "0006_records_retention"),
        ("referrals", "0001_initial"),
        ("reviews", "0001_initial"),
        ("escalation", "0003_resolved_by_the_rules"),
    ]

    operations = [
        migrations.AddField(
            model_name="accessevent",
            name="request_id",
            field=models.CharField(blank=True, max_length=128),
        ),
        migrations.RunPython(protect, unprotect),
    ]
