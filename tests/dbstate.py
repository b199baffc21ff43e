"""The whole database's state as one comparable value per table: for tests that prove a request
wrote nothing (a refused write, a GET)."""

from django.db import connection

# Written by any request of a signed-in user (the session's expiry moves with each request).
REQUEST_BOOKKEEPING = {"django_session"}


def table_state(ignore: set[str] = REQUEST_BOOKKEEPING) -> dict[str, str]:
    """{table: fingerprint of its rows}: PostgreSQL hashes every row's text; elsewhere, a count."""
    tables = sorted(set(connection.introspection.table_names()) - ignore)
    if connection.vendor == "postgresql":
        # One query for all tables: the write detectors take a snapshot after every request.
        query = " UNION ALL ".join(
            f"SELECT '{table}', count(*) || ':' || md5(coalesce(string_agg(t::text, '|' "  # noqa: S608
            f"ORDER BY t::text), '')) FROM {connection.ops.quote_name(table)} t"
            for table in tables
        )
        with connection.cursor() as cursor:
            cursor.execute(query)
            return {table: str(value) for table, value in cursor.fetchall()}
    state = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            state[table] = str(cursor.fetchone()[0])
    return state


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(
        table for table in before.keys() | after.keys() if before.get(table) != after.get(table)
    )
