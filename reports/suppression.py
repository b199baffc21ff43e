"""Small-number suppression for every table that leaves the DSR team (DOMAIN section 11;
issue "Reports" point 4).

A count from 1 to 4 is hidden and shown as "<5" (primary suppression). Then, so that no hidden
value can be worked out from what is shown, the table is taken together with its totals (a
totals column, a totals row and the grand total, each total being the sum of its line) and every
line of that extended table, a row with its total or a column with its total, must hide either
nothing or at least two of its entries: where a line hides exactly one, its smallest other
non-zero entry (a cell or the line's total) is hidden too (secondary suppression), and this
repeats until no line hides exactly one. So too where the hidden entries of a line are all small
counts whose sum can only be made one way (two 4s making 8). A value hidden only to protect
another is shown as
"[c]", not "<5", so nobody reads 12 as "fewer than 5". Zeros are shown: a zero says nobody,
which identifies no one.

Pure functions on plain numbers: the report queries count, this module decides what may be
shown, and the page, the CSV and the chart all show the same decision.
"""

from dataclasses import dataclass

LOW, HIGH = 1, 4
HIDDEN = "<5"
PROTECTING = "[c]"
FOOTNOTE = (
    "<5: a count from 1 to 4, hidden. [c]: hidden so that a small count cannot be worked out "
    "from the rest."
)


@dataclass(frozen=True)
class Cell:
    value: int
    hidden: bool

    def __str__(self) -> str:
        if not self.hidden:
            return str(self.value)
        return HIDDEN if is_small(self.value) else PROTECTING

    @property
    def shown(self) -> int | None:
        """The value, or None when hidden (for charts: a hidden bar is not drawn)."""
        return None if self.hidden else self.value


def is_small(value: int) -> bool:
    return LOW <= value <= HIGH


def _pinned(values: list[int], hidden_here: list[int]) -> bool:
    """True when the hidden entries of a line, all of them counts from 1 to 4, add up to the
    least or the most such counts can (k or 4k): then each one is known exactly."""
    if not hidden_here or not all(is_small(values[p]) for p in hidden_here):
        return False
    total = sum(values[p] for p in hidden_here)
    return total in (LOW * len(hidden_here), HIGH * len(hidden_here))


def _protect(values: list[int], hidden: list[bool], line: list[int]) -> bool:
    """In `line` (positions in the extended table), hide the smallest other non-zero entry if
    exactly one is hidden, or if the hidden ones are small counts whose sum gives them away.
    Returns True if it hid one."""
    hidden_here = [p for p in line if hidden[p]]
    if len(hidden_here) != 1 and not _pinned(values, hidden_here):
        return False
    candidates = [p for p in line if not hidden[p] and values[p] > 0]
    if not candidates:
        return False
    hidden[min(candidates, key=lambda p: (values[p], p))] = True
    return True


def suppress_table(rows: list[list[int]]) -> tuple[list[list[Cell]], list[Cell], list[Cell], Cell]:
    """Suppress a table of counts (a list of rows, each a list of columns). Returns the cells,
    the row totals, the column totals and the grand total, each a Cell."""
    height = len(rows)
    width = len(rows[0]) if rows else 0
    # The extended table: (height + 1) x (width + 1), the last column the row totals, the last
    # row the column totals, the corner the grand total.
    full_width = width + 1
    extended = [row + [sum(row)] for row in rows]
    extended.append([sum(rows[r][c] for r in range(height)) for c in range(width)])
    extended[-1].append(sum(extended[-1]))
    values = [value for row in extended for value in row]
    hidden = [is_small(value) for value in values]
    lines = [[r * full_width + c for c in range(full_width)] for r in range(height + 1)] + [
        [r * full_width + c for r in range(height + 1)] for c in range(full_width)
    ]
    # The whole table is a line too: its cells add up to the grand total.
    lines.append(
        [r * full_width + c for r in range(height) for c in range(width)]
        + [height * full_width + width]
    )
    changed = True
    while changed:
        changed = False
        for line in lines:
            changed |= _protect(values, hidden, line)

    def cell(r: int, c: int) -> Cell:
        return Cell(values[r * full_width + c], hidden[r * full_width + c])

    cells = [[cell(r, c) for c in range(width)] for r in range(height)]
    row_totals = [cell(r, width) for r in range(height)]
    column_totals = [cell(height, c) for c in range(width)]
    return cells, row_totals, column_totals, cell(height, width)


def suppress_column(values: list[int]) -> tuple[list[Cell], Cell]:
    """A single column of counts with its total."""
    cells, _rows, _columns, total = suppress_table([[v] for v in values])
    return [row[0] for row in cells], total
