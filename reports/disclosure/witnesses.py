"""The search for witnesses (reports.disclosure): for each count from 1 to 4, the same
registers with one person moved that publish the same figures while the count changes, hiding
the figures of today that would give the move away where there is none."""

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

from reports.disclosure.family import Family
from reports.disclosure.rules import (
    BASE,
    HIGH,
    LOW,
    SEARCH,
    SHOWN_FROM,
    TOTAL,
    FigureKey,
    Record,
    rounded,
)


class _Records:
    """What the family makes of each record (cached): the pages it is on, its cells in each
    table, the figures it is counted in, and what moving it to another record changes."""

    def __init__(self, family: Family) -> None:
        self.family = family
        self.page_index = {page.key: i for i, page in enumerate(family.pages)}
        self.table_index = {table.slug: i for i, table in enumerate(family.tables)}
        self._pages: dict[Record, frozenset[int]] = {}
        self._cells: dict[Record, tuple[tuple[tuple[Hashable, Hashable], ...], ...]] = {}
        self._moves: dict[Record, list[Record]] = {}
        self._of: dict[Record, dict[FigureKey, int]] = {}
        self._delta: dict[tuple[Record, Record], dict[FigureKey, int]] = {}
        # For each page and table, each cell it shows, with the figures a record in that cell
        # is counted in: the cell, its row's and column's totals and the table's. Built once,
        # so every count shares these keys instead of making its own.
        self._shown: list[list[dict[tuple[Hashable, Hashable], tuple[FigureKey, ...]]]] = [
            [
                {
                    (row, column): (
                        (page.key, table.slug, row, column),
                        (page.key, table.slug, row, TOTAL),
                        (page.key, table.slug, TOTAL, column),
                        (page.key, table.slug, TOTAL, TOTAL),
                    )
                    for row in page.rows_of(table)
                    for column in page.columns_of(table)
                }
                for table in family.tables
            ]
            for page in family.pages
        ]

    def pages(self, record: Record) -> frozenset[int]:
        found = self._pages.get(record)
        if found is None:
            found = self._pages[record] = frozenset(
                i for i, page in enumerate(self.family.pages) if page.includes(record)
            )
        return found

    def cells(self, record: Record) -> tuple[tuple[tuple[Hashable, Hashable], ...], ...]:
        found = self._cells.get(record)
        if found is None:
            found = self._cells[record] = tuple(
                tuple(table.cells(record)) for table in self.family.tables
            )
        return found

    def moves(self, record: Record) -> list[Record]:
        found = self._moves.get(record)
        if found is None:
            found = self._moves[record] = list(self.family.moves(record))
        return found

    def _count(
        self, counted: Counter, page: int, record: Record, sign: int, tables: Iterable[int]
    ) -> None:
        shown = self._shown[page]
        cells = self.cells(record)
        for t in tables:
            figures = shown[t]
            for cell in cells[t]:
                keys = figures.get(cell)
                if keys is not None:
                    for key in keys:
                        counted[key] += sign

    def of(self, record: Record) -> dict[FigureKey, int]:
        found = self._of.get(record)
        if found is None:
            counted: Counter[FigureKey] = Counter()
            everything = range(len(self.family.tables))
            for page in sorted(self.pages(record)):
                self._count(counted, page, record, 1, everything)
            found = self._of[record] = dict(counted)
        return found

    def counted_in(self, record: Record, key: FigureKey) -> bool:
        page, slug, row, column = key
        p = self.page_index[page]
        if p not in self.pages(record):
            return False
        t = self.table_index[slug]
        shown = self._shown[p][t]
        return any(
            row in (r, TOTAL) and column in (c, TOTAL) and (r, c) in shown
            for r, c in self.cells(record)[t]
        )

    def delta(self, record: Record | None, other: Record | None) -> dict[FigureKey, int]:
        """The figures that change when one `record` becomes `other` (None: someone leaves, or
        joins), and by how much."""
        found = self._delta.get((record, other))
        if found is None:
            found = self._delta[(record, other)] = self._difference(record, other)
        return found

    def _difference(self, record: Record | None, other: Record | None) -> dict[FigureKey, int]:
        if record is None or other is None:
            sign = 1 if record is None else -1
            return {key: sign * n for key, n in self.of(other or record).items()}
        mine, theirs = self.pages(record), self.pages(other)
        a, b = self.cells(record), self.cells(other)
        everything = range(len(a))
        changed = [t for t in everything if a[t] != b[t]]
        counted: Counter[FigureKey] = Counter()
        for page in sorted(mine | theirs):
            tables = changed if page in mine and page in theirs else everything
            if page in mine:
                self._count(counted, page, record, -1, tables)
            if page in theirs:
                self._count(counted, page, other, 1, tables)
        return {key: n for key, n in counted.items() if n}


class _Day:
    """One day's register as published: every figure's true value, and what is hidden."""

    def __init__(self, records: _Records, counts: Counter) -> None:
        self.records = +counts
        self.values: defaultdict[FigureKey, int] = defaultdict(int)
        self.contributors: defaultdict[FigureKey, list[Record]] = defaultdict(list)
        values, contributors = self.values, self.contributors
        for record in sorted(self.records, key=repr):
            times = self.records[record]
            for key, n in records.of(record).items():
                values[key] += n * times
                contributors[key].append(record)
        self.hidden: set[FigureKey] = set()
        # For each count, a move that witnesses it on this day alone.
        self.witnesses: dict[FigureKey, tuple[Any, Any]] = {}

    def fits(self, key: FigureKey, change: int) -> bool:
        """Whether the figure, changed by `change`, still agrees with what is shown of it."""
        if key in self.hidden:
            return True
        value = self.values[key]
        after = value + change
        if value < SHOWN_FROM:
            return 0 <= after < SHOWN_FROM
        return abs(after - rounded(value)) <= BASE // 2

    def protected(self, band: range) -> list[FigureKey]:
        return sorted((k for k, v in self.values.items() if v in band), key=repr)


Part = tuple[Any, Any, tuple[int, ...]]  # (record or None, record or None, the days it is on)
Move = tuple[Part, ...]


class _Witnesses:
    """The search for witnesses over one day, or two (the previous day, then today).

    A record on both days moves on both: the same person, moved the same way, so what changed
    between the days stays the same. A record on one day only (someone who changed, joined or
    left) may move on that day alone, to anything but what would undo the change: the days
    still differ by one person, whom the reader does not know. Where a move would take a figure
    of the day before outside what it showed, the person who changed may make up for it there
    (a witness in two parts). Only `hideable` (today) may hide figures; the previous day's are
    already out.

    On its own, a day witnesses every count from 1 to 5 (`band`): a count that is 5 today may
    be 4 tomorrow, and its witness then holds on both days."""

    def __init__(
        self,
        records: _Records,
        days: list[_Day],
        hideable: _Day,
        band: range = range(LOW, HIGH + 1),
    ) -> None:
        self.records = records
        self.days = days
        self.hideable = hideable
        self.band = band
        self.common = days[0].records.copy()
        for day in days[1:]:
            self.common &= day.records
        self.everyone = tuple(range(len(days)))
        self.changed = [
            sorted((r for r in day.records if day.records[r] > self.common[r]), key=repr)
            for day in days
        ]

    def _sides(self, record: Any, index: int, other: Any) -> tuple[int, ...] | None:
        if record is None:  # someone joins: on every day
            return self.everyone
        if self.common[record]:
            return self.everyone
        if not self.days[index].records[record]:
            return None
        # Someone who changed, changed otherwise; not undone, nor gone.
        if other is None or any(
            d.records[other] > self.common[other] for i, d in enumerate(self.days) if i != index
        ):
            return None
        return (index,)

    def _candidates(self, index: int, key: FigureKey) -> Iterable[tuple[Any, Any]]:
        """Moves that may change the count, likeliest first: the witnesses each day found for
        it alone; someone in it moves out, or someone one detail away moves in; someone in it
        leaves, or someone like them joins."""
        day = self.days[index]
        for d in self.days:
            if key in d.witnesses:
                yield d.witnesses[key]
        for record in day.contributors[key]:
            for other in self.records.moves(record):
                yield record, other
        yield from self._moves_in(index, key)
        for record in day.contributors[key]:
            yield record, None
            yield None, record

    def _anyone(self, index: int) -> Iterable[tuple[Any, Any]]:
        """Every move of anyone, when none of the likelier ones will do."""
        for record in sorted(self.days[index].records, key=repr):
            for other in self.records.moves(record):
                yield record, other

    def _moves_in(self, index: int, key: FigureKey) -> Iterable[tuple[Any, Any]]:
        """From the same row or column of the table; from anywhere for a page's total."""
        day = self.days[index]
        page, slug, row, column = key
        if row == TOTAL and column == TOTAL:
            near = sorted(day.records, key=repr)
        elif row == TOTAL or column == TOTAL:
            near = day.contributors[(page, slug, TOTAL, TOTAL)]
        else:
            near = day.contributors[(page, slug, row, TOTAL)]
            near = near + day.contributors[(page, slug, TOTAL, column)]
        for record in near:
            if not self.records.counted_in(record, key):
                for other in self.records.moves(record):
                    if self.records.counted_in(other, key):
                        yield record, other

    def changes(self, move: Move) -> list[dict[FigureKey, int]]:
        """What the move changes on each day."""
        if len(move) == 1:
            record, other, sides = move[0]
            change = self.records.delta(record, other)
            return [change if i in sides else {} for i in self.everyone]
        per_day: list[Counter[FigureKey]] = [Counter() for _ in self.days]
        for record, other, sides in move:
            for key, n in self.records.delta(record, other).items():
                for i in sides:
                    per_day[i][key] += n
        return [{key: n for key, n in day.items() if n} for day in per_day]

    def _blockers(self, changes: list[dict[FigureKey, int]], limit: int) -> list | None:
        """The figures the move takes outside what is shown of them; None past `limit` of
        them, or if one is on a day that can hide no more."""
        found: list[FigureKey] = []
        for day, change in zip(self.days, changes, strict=True):
            for key, n in change.items():
                if not day.fits(key, n):
                    if day is not self.hideable or len(found) >= limit:
                        return None
                    found.append(key)
        return found

    def _made_up(self, part: Part, index: int, key: FigureKey) -> Move | None:
        """The move, with someone who changed making up on a day already out for what it
        takes outside what that day showed."""
        for i, day in enumerate(self.days):
            if day is self.hideable or len(self.changed[i]) > 2:
                continue
            for record in self.changed[i]:
                for other in [*self.records.moves(record), None]:
                    sides = self._sides(record, i, other)
                    if sides is None:
                        continue
                    move = (part, (record, other, sides))
                    changes = self.changes(move)
                    out = changes[i]
                    if changes[index].get(key) and all(day.fits(k, n) for k, n in out.items()):
                        return move
        return None

    def _best(
        self, index: int, key: FigureKey, candidates: Iterable[tuple[Any, Any]]
    ) -> tuple[Move, list[FigureKey]] | None:
        best: tuple[Move, list[FigureKey]] | None = None
        limit = 10**9
        tried = set()
        # Once a witness that hides something is found, a few more tries for one that hides
        # less, not every move there is.
        budget = SEARCH
        for record, other in candidates:
            if best is not None:
                budget -= 1
                if not budget:
                    break
            if (record, other) in tried:
                continue
            tried.add((record, other))
            sides = self._sides(record, index, other)
            if sides is None or index not in sides:
                continue
            if not self.records.delta(record, other).get(key):
                continue
            move: Move | None = ((record, other, sides),)
            found = self._blockers(self.changes(move), limit)
            if found is None and len(sides) > 1:
                move = self._made_up(move[0], index, key)
                found = None if move is None else self._blockers(self.changes(move), limit)
            if found is None:
                continue
            best, limit = (move, found), len(found) - 1
            if not found:
                break
        return best

    def _witness(self, index: int, key: FigureKey) -> Move | None:
        """A move that witnesses the count, hiding the fewest figures of today it needs."""
        best = self._best(index, key, self._candidates(index, key))
        if best is None:
            best = self._best(index, key, self._anyone(index))
        if best is None:
            return None
        move, hide = best
        self.hideable.hidden.update(hide)
        return move

    def run(self) -> bool:
        """Hide figures of today until every count in the band on every day has a witness.
        False if one cannot have one without hiding a figure already out."""
        witnessed: set[tuple[int, FigureKey]] = set()
        for index, day in enumerate(self.days):
            for key in day.protected(self.band):
                if (index, key) in witnessed:
                    continue
                move = self._witness(index, key)
                if move is None:
                    return False
                for i, change in enumerate(self.changes(move)):
                    values = self.days[i].values
                    for k in change:
                        if values[k] in self.band:
                            witnessed.add((i, k))
                            self.days[i].witnesses.setdefault(k, move[0][:2])
        return True
