"""Backup and restore drill (RELIABILITY H-8; DSPT B5 "backups tested by restoring them", D1).

`manage.py backup_drill` dumps the configured PostgreSQL database with `pg_dump --format=custom`,
restores the dump with `pg_restore` into a new temporary database on the same server, and
compares every table (row count, and a checksum of its rows) and every sequence's position. It
prints each difference and a summary with the dump size and how long the dump and the restore
took (the restore time is the drill's recovery-time figure), drops the temporary database
whatever happened, and exits non-zero on any difference.

The checksum of a table is md5 over the md5 of each row's text, in the order of those row hashes:
it changes when any value of any row changes, and needs no primary key. Both sides are read with
the same session settings (UTC), so dates and times print the same way.
"""

import os
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from psycopg import sql

TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
SEQUENCES = (
    "SELECT sequencename, last_value FROM pg_sequences"
    " WHERE schemaname = current_schema() ORDER BY sequencename"
)
CHECKSUM = "SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) FROM (SELECT md5(t::text) AS h FROM {} t) rows"  # noqa: E501


@dataclass(frozen=True)
class TableCheck:
    table: str
    source: tuple[int, str] | None  # (rows, checksum); None when the table is missing
    restored: tuple[int, str] | None

    @property
    def difference(self) -> str:
        if self.source == self.restored:
            return ""
        if self.restored is None:
            return f"{self.table}: missing from the restored database"
        if self.source is None:
            return f"{self.table}: only in the restored database"
        if self.source[0] != self.restored[0]:
            return f"{self.table}: {self.source[0]} rows, {self.restored[0]} after the restore"
        return f"{self.table}: {self.source[0]} rows, but their contents differ after the restore"


@dataclass
class DrillResult:
    tables: list[TableCheck] = field(default_factory=list)
    sequence_differences: list[str] = field(default_factory=list)
    sequences: int = 0
    dump_bytes: int = 0
    dump_seconds: float = 0.0
    restore_seconds: float = 0.0

    @property
    def differences(self) -> list[str]:
        found = [check.difference for check in self.tables if check.difference]
        return found + self.sequence_differences


def _connection_kwargs(settings_dict: dict[str, Any], dbname: str) -> dict[str, Any]:
    kwargs = {
        "dbname": dbname,
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": str(settings_dict.get("PORT") or "") or None,
    }
    return {key: value for key, value in kwargs.items() if value is not None}


def _client_environment(settings_dict: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for variable, key in [
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
    ]:
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    return env


def _snapshot(conn: psycopg.Connection) -> tuple[dict[str, tuple[int, str]], dict[str, Any]]:
    with conn.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
        tables = [name for (name,) in cursor.execute(TABLES).fetchall()]
        sums = {}
        for table in tables:
            rows, checksum = cursor.execute(
                sql.SQL(CHECKSUM).format(sql.Identifier(table))
            ).fetchone()
            sums[table] = (rows, checksum)
        sequences = dict(cursor.execute(SEQUENCES).fetchall())
    return sums, sequences


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise CommandError(f"{command[0]} failed: {result.stderr.strip()}")


def run_drill(
    alias: str = "default",
    *,
    after_restore: Callable[[psycopg.Connection], None] | None = None,
) -> DrillResult:
    """Dump the database of connection `alias`, restore it into a temporary database, compare,
    and drop the temporary database. `after_restore`, if given, runs on a connection to the
    restored database before the comparison (the drill's own test uses it to spoil a restore).
    Raises CommandError when the database is not PostgreSQL or a client tool fails.

    The dump and the original's checksums read one snapshot (pg_export_snapshot), so writes to a
    live database while the drill runs are not counted as differences. Sequences are read
    outside snapshots: one restored behind the original's position at the snapshot is a
    difference (new rows would reuse ids); one ahead is not.
    """
    settings_dict = connections[alias].settings_dict
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        raise CommandError("The backup drill needs PostgreSQL.")
    source_name = settings_dict["NAME"]
    drill_name = f"{source_name[:40]}_drill_{secrets.token_hex(4)}"
    env = _client_environment(settings_dict)
    maintenance = _connection_kwargs(settings_dict, "postgres")
    result = DrillResult()
    with tempfile.TemporaryDirectory() as folder:
        dump = Path(folder) / "backup.dump"
        with psycopg.connect(**_connection_kwargs(settings_dict, source_name)) as source:
            source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            (snapshot,) = source.execute("SELECT pg_export_snapshot()").fetchone()
            started = time.monotonic()
            _run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges"]
                + ["--snapshot", snapshot, "--file", str(dump), "--dbname", source_name],
                env,
            )
            result.dump_seconds = time.monotonic() - started
            source_sums, source_sequences = _snapshot(source)
        result.dump_bytes = dump.stat().st_size
        with psycopg.connect(**maintenance, autocommit=True) as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(drill_name))
            )
        try:
            started = time.monotonic()
            _run(
                ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error"]
                + ["--dbname", drill_name, str(dump)],
                env,
            )
            result.restore_seconds = time.monotonic() - started
            with psycopg.connect(**_connection_kwargs(settings_dict, drill_name)) as restored:
                if after_restore is not None:
                    after_restore(restored)
                    restored.commit()
                restored_sums, restored_sequences = _snapshot(restored)
        finally:
            with psycopg.connect(**maintenance, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(drill_name)
                    )
                )
    result.tables = [
        TableCheck(name, source_sums.get(name), restored_sums.get(name))
        for name in sorted(set(source_sums) | set(restored_sums))
    ]
    result.sequences = len(source_sequences)
    result.sequence_differences = [
        f"sequence {name}: at {source_sequences.get(name)}, {restored_sequences.get(name)} "
        "after the restore"
        for name in sorted(set(source_sequences) | set(restored_sequences))
        if name not in restored_sequences
        or (restored_sequences[name] or 0) < (source_sequences.get(name) or 0)
    ]
    return result


class Command(BaseCommand):
    help = (
        "Dump the database, restore it into a temporary database, compare every table's row "
        "count and checksum, and drop the temporary database. Exits 1 on any difference."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--database", default="default", help="The connection to drill.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = run_drill(options["database"])
        for difference in result.differences:
            self.stdout.write(f"Difference: {difference}")
        summary = (
            f"Tables compared: {len(result.tables)}. Sequences compared: {result.sequences}. "
            f"Differences: {len(result.differences)}. Dump: {result.dump_bytes} bytes in "
            f"{result.dump_seconds:.1f} s. Restore: {result.restore_seconds:.1f} s."
        )
        if result.differences:
            self.stdout.write(summary)
            raise CommandError("The restored database differs from the original.")
        self.stdout.write(self.style.SUCCESS(summary))
