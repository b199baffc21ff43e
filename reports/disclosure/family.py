"""The pages a reader can ask for about one kind of record, and the tables on each
(reports.disclosure)."""

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from reports.disclosure.rules import TOTAL, FigureKey


@dataclass(frozen=True)
class TableSpec:
    """A table of a page: its rows and columns, and the cells a record is counted in (usually
    one; several for a record with several needs). Every table has its totals."""

    slug: str
    rows: tuple[Hashable, ...]
    columns: tuple[Hashable, ...]
    cells: Callable[[Any], Iterable[tuple[Hashable, Hashable]]]


@dataclass(frozen=True)
class PageSpec:
    """A page: the records it counts (a filter), and, where a filter leaves some rows or columns
    of a table empty by construction (the other areas on an area's page), the ones it shows."""

    key: Hashable
    includes: Callable[[Any], bool]
    rows: dict[str, tuple[Hashable, ...]] | None = None
    columns: dict[str, tuple[Hashable, ...]] | None = None

    def rows_of(self, table: TableSpec) -> tuple[Hashable, ...]:
        return (self.rows or {}).get(table.slug, table.rows)

    def columns_of(self, table: TableSpec) -> tuple[Hashable, ...]:
        return (self.columns or {}).get(table.slug, table.columns)


@dataclass(frozen=True)
class Family:
    """Every page a reader can ask for about one kind of record on one day (each area and all
    of them, each age group and all of them), the tables on each, and the records one detail
    away from a record (the moves a witness may make), nearest first."""

    pages: tuple[PageSpec, ...]
    tables: tuple[TableSpec, ...]
    moves: Callable[[Any], Iterable[Any]]

    def figure_keys(self) -> list[FigureKey]:
        keys = []
        for page in self.pages:
            for table in self.tables:
                for row in (*page.rows_of(table), TOTAL):
                    for column in (*page.columns_of(table), TOTAL):
                        keys.append((page.key, table.slug, row, column))
        return keys
