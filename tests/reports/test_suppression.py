"""Small-number suppression: counts of 1 to 4 hidden, and nothing hidden can be worked out from
what is shown (rows, columns and totals, together)."""

import itertools

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reports.suppression import HIDDEN, PROTECTING, suppress_column, suppress_table


def _shown(cells):
    return [[str(cell) for cell in row] for row in cells]


def test_counts_from_1_to_4_are_hidden_and_zero_and_5_are_shown():
    cells, total = suppress_column([0, 1, 4, 5, 12])
    # 1 and 4 are hidden; that is two hidden cells, so the total (22) reveals only their sum.
    assert [str(c) for c in cells] == ["0", HIDDEN, HIDDEN, "5", "12"]
    assert str(total) == "22"


def test_a_single_hidden_cell_takes_the_next_smallest_with_it_marked_as_protecting():
    # 3 alone would be 30 - 7 - 20 = 3 from the total: the smallest other, 7, is hidden too,
    # shown as [c] (it is not a small number).
    cells, total = suppress_column([3, 7, 20])
    assert [str(c) for c in cells] == [HIDDEN, PROTECTING, "20"]
    assert str(total) == "30"


def test_a_hidden_cell_among_zeros_hides_its_total_and_the_grand_total_is_protected_too():
    # Red 12 in one area, Amber 3 in another. Hiding 3 alone: its row total (3) is small, its
    # column total (3) too; then the grand total (15) would give 15 - 12 = 3, so the line of
    # totals hides another entry as well.
    cells, rows, columns, total = suppress_table([[12, 0], [0, 3]])
    shown = {str(c) for c in [*rows, *columns, total]} | {str(c) for row in cells for c in row}
    assert str(cells[1][1]) == HIDDEN
    assert "15" not in shown or "12" not in shown


def _candidates(rows, cells, row_totals, column_totals, total, limit):
    """Every table of non-negative counts (hidden ones from 0 to `limit`) consistent with what
    is shown: the hidden values, in order, of each."""
    height, width = len(rows), len(rows[0])
    slots = [(r, c) for r in range(height) for c in range(width) if cells[r][c].hidden]
    ranges = [range(1, 5) if 1 <= rows[r][c] <= 4 else range(0, limit + 1) for r, c in slots]
    for guess in itertools.product(*ranges):
        table = [row[:] for row in rows]
        for (r, c), value in zip(slots, guess, strict=True):
            table[r][c] = value
        if any(
            not row_totals[r].hidden and sum(table[r]) != row_totals[r].value for r in range(height)
        ):
            continue
        if any(
            not column_totals[c].hidden
            and sum(table[r][c] for r in range(height)) != column_totals[c].value
            for c in range(width)
        ):
            continue
        if not total.hidden and sum(map(sum, table)) != total.value:
            continue
        if not all(
            (rows[r][c] == table[r][c]) or cells[r][c].hidden
            for r in range(height)
            for c in range(width)
        ):
            continue
        yield guess


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=6).map(
            lambda values: [values]
        ),
        st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=6).map(
            lambda values: [[v] for v in values]
        ),
    )
)
def test_no_hidden_small_count_in_a_single_row_or_column_can_be_worked_out(rows):
    """Solve for the hidden cells from everything shown (every list of counts that agrees with
    it): every hidden count of 1 to 4 must keep at least two possible values. (Single rows and
    columns: the figures and one-way tables. Two-way tables: see the known gap below.)"""
    cells, row_totals, column_totals, total = suppress_table(rows)
    assume(sum(cell.hidden for row in cells for cell in row) <= 4)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            assert cells[r][c].hidden or not 1 <= value <= 4
    solutions = list(_candidates(rows, cells, row_totals, column_totals, total, limit=25))
    slots = [(r, c) for r in range(len(rows)) for c in range(len(rows[0])) if cells[r][c].hidden]
    for index, (r, c) in enumerate(slots):
        if 1 <= rows[r][c] <= 4:
            assert len({solution[index] for solution in solutions}) >= 2, (rows, (r, c))


def test_two_fours_making_eight_are_protected():
    cells, rows, _columns, total = suppress_table([[4, 4, 9]])
    # Hidden 4 + 4 = 8 could only be 4 and 4: the 9 is hidden too ([c]).
    assert _shown(cells) == [[HIDDEN, HIDDEN, PROTECTING]]


@pytest.mark.xfail(
    strict=True,
    reason="Known gap: line-by-line suppression can leave a two-way table whose equations and "
    "bounds together pin a hidden count (here the 1). Needs an audit step (interval or linear "
    "programming check) before reports go to planning commissioners.",
)
def test_a_two_way_table_hides_every_small_count_even_from_its_equations():
    rows = [[1, 5], [5, 4]]
    cells, row_totals, column_totals, total = suppress_table(rows)
    solutions = list(_candidates(rows, cells, row_totals, column_totals, total, limit=25))
    assert len({solution[0] for solution in solutions}) >= 2
