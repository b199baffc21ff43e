"""Several reads in one round trip to the database.

A page that needs a handful of small, independent reads (the person page reads the person's
entry, consent, admission, newest rating, contacts and so on: one short query each) pays a round
trip per query, and on a busy machine the wait for each round trip costs more than the query.
`read_together` sends them to PostgreSQL as one batch of statements and builds the same model
instances Django would, so the page waits once. On any other database, or with server-side
parameter binding (which allows one statement a call), it runs them one by one.

It builds objects the way Django's own ModelIterable does (fields, select_related, annotations),
so every queryset given to it must be a plain model queryset: no values(), only() is fine,
prefetch_related is not run.
"""

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators


def _batched(connection: Any) -> bool:
    return connection.vendor == "postgresql" and not connection.settings_dict.get(
        "OPTIONS", {}
    ).get("server_side_binding")


def _objects(queryset: QuerySet, compiler: Any, rows: list[tuple]) -> list[Model]:
    """The model instances for `rows`, as ModelIterable builds them."""
    select, klass_info = compiler.select, compiler.klass_info
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    init_list = [f[0].target.attname for f in select[start:end]]
    populators = get_related_populators(klass_info, select, queryset.db)
    found = []
    for row in compiler.results_iter([rows]):
        obj = klass_info["model"].from_db(queryset.db, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        for name, position in compiler.annotation_col_map.items():
            setattr(obj, name, row[position])
        found.append(obj)
    return found


def read_together(*querysets: QuerySet) -> list[list[Model]]:
    """The rows of each queryset, as lists of model instances, read in one round trip."""
    connection = connections[querysets[0].db]
    if not _batched(connection) or any(
        qs._iterable_class is not ModelIterable or qs._prefetch_related_lookups for qs in querysets
    ):
        return [list(qs) for qs in querysets]
    statements: list[tuple[QuerySet, Any, str]] = []
    params: list[Any] = []
    for queryset in querysets:
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, statement_params = compiler.as_sql()
        except EmptyResultSet:
            statements.append((queryset, None, ""))
            continue
        statements.append((queryset, compiler, sql))
        params.extend(statement_params)
    sql = ";\n".join(s for _, compiler, s in statements if compiler is not None)
    if not sql:
        return [[] for _ in querysets]
    results: list[list[Model]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        first = True
        for queryset, compiler, _ in statements:
            if compiler is None:
                results.append([])
                continue
            if not first:
                cursor.nextset()
            first = False
            results.append(_objects(queryset, compiler, cursor.fetchall()))
    return results
