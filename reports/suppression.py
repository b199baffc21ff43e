"""Small-number suppression for every table that leaves the DSR team (DOMAIN section 11;
issue "Reports" point 4).

A count from 1 to 4 is shown as "<5" (primary suppression). Then, so that no hidden value can be
worked out from what is shown, every row and every column of a table, with its total, must hide
either nothing or at least two of its cells: where a row or column hides exactly one, the
smallest other non-zero cell in it is hidden too (secondary suppression), and this repeats until
no row or column hides exactly one; where a line hides one cell and every other is zero, its
total is hidden instead. A total of 1 to 4 is itself hidden, and the row (and column) totals
follow the same rule against the grand total. Zeros are shown: a zero says nobody, which
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


def _hide_one_more(values: list[int], hidden: list[bool], places: list[int]) -> bool | None:
    """In the line `places` (a row or a column), hide the smallest other non-zero cell if
    exactly one is hidden. Returns True if it hid one, None if it could not (every other cell
    is zero: then the line's total would give the hidden cell away, and must be hidden), False
    if nothing was needed."""
    hidden_here = [p for p in places if hidden[p]]
    if len(hidden_here) != 1:
        return False
    candidates = [p for p in places if not hidden[p] and values[p] > 0]
    if not candidates:
        return None
    hidden[min(candidates, key=lambda p: (values[p], p))] = True
    return True


def suppress_table(rows: list[list[int]]) -> tuple[list[list[Cell]], list[Cell], list[Cell], Cell]:
    """Suppress a table of counts (a list of rows, each a list of columns). Returns the cells,
    the row totals, the column totals and the grand total, each a Cell."""
    height = len(rows)
    width = len(rows[0]) if rows else 0
    flat = [value for row in rows for value in row]
    hidden = [is_small(value) for value in flat]
    row_lines = [[r * width + c for c in range(width)] for r in range(height)]
    column_lines = [[r * width + c for r in range(height)] for c in range(width)]
    row_sums = [sum(row) for row in rows]
    column_sums = [sum(rows[r][c] for r in range(height)) for c in range(width)]
    row_hidden = [is_small(v) for v in row_sums]
    column_hidden = [is_small(v) for v in column_sums]
    changed = True
    while changed:
        changed = False
        for lines, totals_hidden in ((row_lines, row_hidden), (column_lines, column_hidden)):
            for index, line in enumerate(lines):
                outcome = _hide_one_more(flat, hidden, line)
                if outcome is True:
                    changed = True
                elif outcome is None and not totals_hidden[index]:
                    totals_hidden[index] = True
    cells = [
        [Cell(flat[r * width + c], hidden[r * width + c]) for c in range(width)]
        for r in range(height)
    ]
    grand = sum(flat)
    grand_hidden = is_small(grand)
    for sums, totals_hidden in ((row_sums, row_hidden), (column_sums, column_hidden)):
        # Against the grand total, the totals follow the same rule as cells in a line.
        if _hide_one_more(sums, totals_hidden, list(range(len(sums)))) is None:
            grand_hidden = True
    row_totals = [Cell(v, h) for v, h in zip(row_sums, row_hidden, strict=True)]
    column_totals = [Cell(v, h) for v, h in zip(column_sums, column_hidden, strict=True)]
    return cells, row_totals, column_totals, Cell(grand, grand_hidden)


def suppress_column(values: list[int]) -> tuple[list[Cell], Cell]:
    """A single column of counts with its total."""
    cells, _rows, columns, total = suppress_table([[v] for v in values])
    return [row[0] for row in cells], columns[0]
