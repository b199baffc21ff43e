"""Small-number suppression for every table that leaves the DSR team (DOMAIN section 11;
issue "Reports" point 4).

A count from 1 to 4 is hidden and shown as "<5" (primary suppression). Then more is hidden
(secondary suppression, shown as "[c]") until no hidden small count can be worked out from what
is shown, by anyone who knows these rules:

- the table is taken with its totals (a totals column, a totals row and the grand total), each
  total the sum of its line, so a hidden total is no safer than a hidden cell;
- the reader knows that "<5" is 1, 2, 3 or 4, and that "[c]" is 5 or more (zeros are never
  hidden, and every small count is "<5");
- a hidden small count is safe when the tables of whole numbers that agree with everything shown
  give it at least two values.

The check is exact. A table with its totals is a flow network: one node per row and per column
(totals included), one arc per hidden entry, each carrying its count (negated for the totals
that sit on one margin only, so that every row and column adds up to zero). Two tables that agree
with what is shown differ by a circulation on the hidden arcs, and a circulation splits into
simple cycles that each move in its own direction; so a hidden count can take another value if
and only if one unit can be pushed round a cycle through it without taking any hidden entry
outside what the reader knows of it. That is a path search in the residual network, for each
hidden small count.

Where a small count is pinned, the smallest shown non-zero entry whose hiding frees it is
hidden too (or, if no single entry does, the smallest in one of its lines), and the check runs
again: each round hides one more entry, so it ends. If a small count is still pinned when
every non-zero entry is hidden (four 1s whose grand total is "<5" can only be 1s), the table is
withheld whole: every entry, zeros too, is shown as "[x]". A value hidden only to protect another is
shown as "[c]", not "<5", so nobody reads 12 as "fewer than 5". Zeros are shown: a zero says
nobody, which identifies no one.

Pure functions on plain numbers: the report queries count, this module decides what may be
shown, and the page, the CSV and the chart all show the same decision.
"""

from collections.abc import Iterable
from dataclasses import dataclass

LOW, HIGH = 1, 4
HIDDEN = "<5"
PROTECTING = "[c]"
WITHHELD = "[x]"
FOOTNOTE = (
    "<5: a count from 1 to 4, hidden. [c]: a count of 5 or more, hidden so that a small count "
    "cannot be worked out from the rest. [x]: the table has too few people to show any of it."
)
WITHHELD_TEXT = (
    "Not shown: too few people to show any of this table without a risk of identifying someone."
)
UNBOUNDED = None


@dataclass(frozen=True)
class Cell:
    value: int
    hidden: bool
    withheld: bool = False

    def __str__(self) -> str:
        if self.withheld:
            return WITHHELD
        if not self.hidden:
            return str(self.value)
        return HIDDEN if is_small(self.value) else PROTECTING

    @property
    def shown(self) -> int | None:
        """The value, or None when hidden (for charts: a hidden bar is not drawn)."""
        return None if self.hidden else self.value


def is_small(value: int) -> bool:
    return LOW <= value <= HIGH


class _Network:
    """The extended table (height + 1 rows by width + 1 columns, totals last) as a network."""

    def __init__(self, values: list[list[int]]) -> None:
        self.values = values
        self.last_row = len(values) - 1
        self.last_column = len(values[0]) - 1
        self.hidden: set[tuple[int, int]] = {
            (r, c) for r, row in enumerate(values) for c, value in enumerate(row) if is_small(value)
        }

    def _sign(self, r: int, c: int) -> int:
        # Row totals and column totals are subtracted from their lines; the grand total is
        # subtracted twice over (from the totals row and the totals column), so stays positive.
        return -1 if (r == self.last_row) != (c == self.last_column) else 1

    def _moves(self, r: int, c: int) -> tuple[bool, bool]:
        """Whether the arc's flow can go up by one, and down by one, and stay within what the
        reader knows of the entry (1 to 4 for "<5", 5 or more for "[c]")."""
        value = self.values[r][c]
        low, high = (LOW, HIGH) if is_small(value) else (HIGH + 1, UNBOUNDED)
        value_up = high is UNBOUNDED or value + 1 <= high
        value_down = value - 1 >= low
        return (value_up, value_down) if self._sign(r, c) > 0 else (value_down, value_up)

    def _reaches(self, start: str, goal: str, without: tuple[int, int]) -> bool:
        """A path from `start` to `goal` ("r3", "c0") in the residual network, not using the
        arc `without`. Each hidden entry (r, c) is an arc from column c to row r."""
        steps: dict[str, list[str]] = {}
        for r, c in self.hidden:
            if (r, c) != without:
                up, down = self._moves(r, c)
                if up:
                    steps.setdefault(f"c{c}", []).append(f"r{r}")
                if down:
                    steps.setdefault(f"r{r}", []).append(f"c{c}")
        seen = {start}
        todo = [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            for there in steps.get(node, ()):
                if there not in seen:
                    seen.add(there)
                    todo.append(there)
        return False

    def uncertain(self, r: int, c: int) -> bool:
        """Whether the hidden entry (r, c) can take another value, everything shown kept."""
        up, down = self._moves(r, c)
        return (up and self._reaches(f"r{r}", f"c{c}", (r, c))) or (
            down and self._reaches(f"c{c}", f"r{r}", (r, c))
        )

    def pinned(self) -> list[tuple[int, int]]:
        return sorted(
            (r, c)
            for r, c in self.hidden
            if is_small(self.values[r][c]) and not self.uncertain(r, c)
        )

    def _shown(self, positions: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        return sorted(
            (p for p in positions if p not in self.hidden and self.values[p[0]][p[1]] > 0),
            key=lambda p: (self.values[p[0]][p[1]], p),
        )

    def free(self, r: int, c: int) -> None:
        """Hide one more entry to free the pinned small count at (r, c)."""
        everything = [(i, j) for i in range(self.last_row + 1) for j in range(self.last_column + 1)]
        for candidate in self._shown(everything):
            self.hidden.add(candidate)
            if self.uncertain(r, c):
                return
            self.hidden.discard(candidate)
        lines = [(r, j) for j in range(self.last_column + 1)]
        lines += [(i, c) for i in range(self.last_row + 1)]
        nearby = self._shown(lines) or self._shown(everything)
        if nearby:
            self.hidden.add(nearby[0])


def suppress_table(rows: list[list[int]]) -> tuple[list[list[Cell]], list[Cell], list[Cell], Cell]:
    """Suppress a table of counts (a list of rows, each a list of columns). Returns the cells,
    the row totals, the column totals and the grand total, each a Cell."""
    height = len(rows)
    width = len(rows[0]) if rows else 0
    extended = [list(row) + [sum(row)] for row in rows]
    extended.append([sum(rows[r][c] for r in range(height)) for c in range(width)])
    extended[-1].append(sum(extended[-1]))
    network = _Network(extended)
    withheld = False
    while pinned := network.pinned():
        before = len(network.hidden)
        network.free(*pinned[0])
        if len(network.hidden) == before:
            withheld = True  # everything non-zero is hidden and a small count is still known
            break

    def cell(r: int, c: int) -> Cell:
        return Cell(extended[r][c], withheld or (r, c) in network.hidden, withheld)

    cells = [[cell(r, c) for c in range(width)] for r in range(height)]
    row_totals = [cell(r, width) for r in range(height)]
    column_totals = [cell(height, c) for c in range(width)]
    return cells, row_totals, column_totals, cell(height, width)


def suppress_column(values: list[int]) -> tuple[list[Cell], Cell]:
    """A single column of counts with its total."""
    cells, _rows, _columns, total = suppress_table([[v] for v in values])
    return [row[0] for row in cells], total
