"""Small-number suppression for every table that leaves the DSR team (DOMAIN section 11;
issue "Reports" point 4).

A count from 1 to 4 is shown as "<5" (primary suppression). Then, so that no hidden value can be
worked out from what is shown, every row and every column of a table, with its total, must hide
either nothing or at least two of its cells: where a row or column hides exactly one, the
smallest other non-zero cell in it is hidden too (secondary suppression), and this repeats until
no row or column hides exactly one. A total of 1 to 4 is itself hidden, and the row (and column)
totals follow the same rule against the grand total. Zeros are shown: a zero says nobody, which
identifies no one.

Pure functions on plain numbers: the report queries count, this module decides what may be
shown, and the page, the CSV and the chart all show the same decision.
"""

from dataclasses import dataclass

LOW, HIGH = 1, 4
HIDDEN = "<5"


@dataclass(frozen=True)
class Cell:
    value: int
    hidden: bool

    def __str__(self) -> str:
        return HIDDEN if self.hidden else str(self.value)

    @property
    def shown(self) -> int | None:
        """The value, or None when hidden (for charts: a hidden bar is not drawn)."""
        return None if self.hidden else self.value


def is_small(value: int) -> bool:
    return LOW <= value <= HIGH


def _hide_one_more(values: list[int], hidden: list[bool], places: list[int]) -> bool:
    """In the line `places` (a row or a column), hide the smallest other non-zero cell if
    exactly one is hidden. Returns True if it hid one."""
    hidden_here = [p for p in places if hidden[p]]
    if len(hidden_here) != 1:
        return False
    candidates = [p for p in places if not hidden[p] and values[p] > 0]
    if not candidates:
        return False
    hidden[min(candidates, key=lambda p: (values[p], p))] = True
    return True


def suppress_table(rows: list[list[int]]) -> tuple[list[list[Cell]], list[Cell], list[Cell], Cell]:
    """Suppress a table of counts (a list of rows, each a list of columns). Returns the cells,
    the row totals, the column totals and the grand total, each a Cell."""
    height = len(rows)
    width = len(rows[0]) if rows else 0
    flat = [value for row in rows for value in row]
    hidden = [is_small(value) for value in flat]
    lines = [[r * width + c for c in range(width)] for r in range(height)] + [
        [r * width + c for r in range(height)] for c in range(width)
    ]
    changed = True
    while changed:
        changed = False
        for line in lines:
            changed |= _hide_one_more(flat, hidden, line)
    cells = [
        [Cell(flat[r * width + c], hidden[r * width + c]) for c in range(width)]
        for r in range(height)
    ]
    row_totals = _totals([sum(row) for row in rows])
    column_totals = _totals([sum(rows[r][c] for r in range(height)) for c in range(width)])
    return cells, row_totals, column_totals, Cell(sum(flat), is_small(sum(flat)))


def _totals(values: list[int]) -> list[Cell]:
    """Row (or column) totals: small ones hidden, and, against the grand total, never exactly
    one hidden."""
    hidden = [is_small(value) for value in values]
    _hide_one_more(values, hidden, list(range(len(values))))
    return [Cell(value, flag) for value, flag in zip(values, hidden, strict=True)]


def suppress_column(values: list[int]) -> tuple[list[Cell], Cell]:
    """A single column of counts with its total."""
    cells, _rows, columns, total = suppress_table([[v] for v in values])
    return [row[0] for row in cells], total
