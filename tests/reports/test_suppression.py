"""Small-number suppression: counts of 1 to 4 hidden, and nothing hidden can be worked out from
what is shown (rows, columns and totals, together), by a reader who knows the rules: "<5" is
1 to 4 and "[c]" is 5 or more."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.suppression import HIDDEN, PROTECTING, WITHHELD, suppress_column, suppress_table


def _shown(cells):
    return [[str(cell) for cell in row] for row in cells]


def _known_range(cell, window):
    """What the reader knows of a hidden entry, narrowed to `window` either side of its true
    value (so the search stays small): "<5" is 1 to 4, "[c]" 5 or more, "[x]" anything."""
    low, high = {HIDDEN: (1, 4), PROTECTING: (5, cell.value + window)}.get(
        str(cell), (0, cell.value + window)
    )
    return range(max(low, cell.value - window), min(high, cell.value + window) + 1)


def _agrees(cell, value):
    if not cell.hidden:
        return value == cell.value
    return value in _known_range(cell, abs(value - cell.value))


def _possible_values(rows, window):
    """Suppress `rows`, then find every table of whole numbers that agrees with everything shown
    (each hidden count within `window` of its true value): for each hidden small count, the set
    of values it takes across them. Brute force, row by row, independent of how the module
    decides."""
    cells, row_totals, column_totals, total = suppress_table(rows)
    height, width = len(rows), len(rows[0])
    per_row = []
    for r in range(height):
        hidden = [c for c in range(width) if cells[r][c].hidden]
        options = []
        for guess in itertools.product(*[_known_range(cells[r][c], window) for c in hidden]):
            row = list(rows[r])
            for c, value in zip(hidden, guess, strict=True):
                row[c] = value
            if _agrees(row_totals[r], sum(row)):
                options.append(row)
        per_row.append(options)
    found = {(r, c): set() for r in range(height) for c in range(width) if 1 <= rows[r][c] <= 4}
    for table in itertools.product(*per_row):
        columns = [sum(table[r][c] for r in range(height)) for c in range(width)]
        if not all(_agrees(column_totals[c], columns[c]) for c in range(width)):
            continue
        if not _agrees(total, sum(columns)):
            continue
        for r, c in found:
            found[(r, c)].add(table[r][c])
    return cells, found


def _assert_protected(rows, window):
    cells, found = _possible_values(rows, window)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            assert cells[r][c].hidden or not 1 <= value <= 4, (rows, (r, c))
    for (r, c), values in found.items():
        assert len(values) >= 2, (rows, (r, c), values, _shown(cells))


def test_counts_from_1_to_4_are_hidden_and_zero_and_5_are_shown():
    cells, total = suppress_column([0, 1, 4, 5, 12])
    # 1 and 4 are hidden; that is two hidden cells, so the total (22) reveals only their sum, 5,
    # which could be 1 + 4, 2 + 3, 3 + 2 or 4 + 1.
    assert [str(c) for c in cells] == ["0", HIDDEN, HIDDEN, "5", "12"]
    assert str(total) == "22"


def test_a_single_hidden_cell_takes_the_next_smallest_with_it_marked_as_protecting():
    # 3 alone would be 30 - 7 - 20 = 3 from the total: the smallest other, 7, is hidden too,
    # shown as [c] (it is not a small number). The two make 10: 1 + 9 up to 4 + 6.
    cells, total = suppress_column([3, 7, 20])
    assert [str(c) for c in cells] == [HIDDEN, PROTECTING, "20"]
    assert str(total) == "30"


def test_a_protecting_cell_of_5_does_not_give_the_small_count_away():
    # Hiding the 5 alone: the two make 26 - 20 = 6, and [c] is 5 or more, so <5 could only be
    # 1. The 20 is hidden too: then they make 26, the <5 anything from 1 to 4.
    cells, total = suppress_column([1, 5, 20])
    assert [str(c) for c in cells] == [HIDDEN, PROTECTING, PROTECTING]
    assert str(total) == "26"


def test_a_hidden_cell_among_zeros_hides_its_total_and_the_grand_total_is_protected_too():
    # Red 12 in one area, Amber 3 in another. Hiding 3 alone: its row total (3) is small, its
    # column total (3) too; then the grand total (15) would give 15 - 12 = 3, so it is hidden.
    cells, rows, columns, total = suppress_table([[12, 0], [0, 3]])
    assert _shown(cells) == [["12", "0"], ["0", HIDDEN]]
    assert [str(c) for c in rows] == ["12", HIDDEN]
    assert [str(c) for c in columns] == ["12", HIDDEN]
    assert str(total) == PROTECTING


def test_two_fours_making_eight_are_protected():
    cells, _rows, _columns, total = suppress_table([[4, 4, 9]])
    # Hidden 4 + 4 = 8 could only be 4 and 4: the 9 is hidden too ([c]), and they make 17.
    assert _shown(cells) == [[HIDDEN, HIDDEN, PROTECTING]]
    assert str(total) == "17"


def test_a_two_way_table_hides_every_small_count_even_from_its_equations():
    # [[1, 5], [5, 4]] with its totals 6, 9 / 6, 9 / 15. Hiding the 1, the 4 and one 5 in each
    # row (each line then hides two) is not enough: call the 1 a; the first row gives the first
    # 5 as 6 - a, the first column the second 5 as 6 - a, and then the second row gives the 4 as
    # 9 - (6 - a) = 3 + a, which is at most 4 only when a = 1. More must be hidden.
    rows = [[1, 5], [5, 4]]
    _cells, found = _possible_values(rows, window=30)
    assert len(found[(0, 0)]) >= 2
    assert len(found[(1, 1)]) >= 2


def test_a_table_that_cannot_be_protected_is_withheld_whole():
    # Four 1s: every total is small too (2, 2, 2, 2 and 4), and a grand total of "<5" made of
    # four counts of at least 1 says each is 1. Nothing shown can help, so nothing is shown.
    cells, rows, columns, total = suppress_table([[1, 1], [1, 1]])
    assert {str(c) for c in [*rows, *columns, total, *cells[0], *cells[1]]} == {WITHHELD}
    # Zeros too: a withheld table shows no pattern of who is where.
    cells, _rows, _columns, total = suppress_table([[1, 0], [1, 1], [1, 0]])
    assert str(cells[0][1]) == WITHHELD and str(total) == WITHHELD


def test_the_protection_holds_for_wide_searches_on_small_tables():
    # A wide search (every value the reader could think of, up to 12 either side) on a handful of
    # tables that have been hard to protect.
    for rows in ([[1, 5], [5, 4]], [[1, 0], [0, 1]], [[2, 6, 0], [0, 5, 1]], [[4, 4], [4, 4]]):
        _assert_protected(rows, window=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=6))
def test_no_hidden_small_count_in_a_single_row_or_column_can_be_worked_out(values):
    """The figures and one-way tables: every hidden count of 1 to 4 keeps at least two values."""
    _assert_protected([values], window=3)
    _assert_protected([[v] for v in values], window=3)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=2, max_value=3).flatmap(
        lambda width: st.lists(
            st.lists(st.integers(min_value=0, max_value=9), min_size=width, max_size=width),
            min_size=2,
            max_size=3,
        )
    )
)
def test_no_hidden_small_count_in_a_two_way_table_can_be_worked_out(rows):
    """Two-way tables with every total. A hidden count that can change at all can change by one
    with every other hidden entry moving by at most one (the module's docstring says why), so a
    search one either side of each true value finds a second value wherever there is one."""
    _assert_protected(rows, window=1)
