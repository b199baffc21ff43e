"""Small-number suppression: counts of 1 to 4 hidden, and nothing hidden can be worked out from
what is shown (rows, columns and totals)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.suppression import HIDDEN, suppress_column, suppress_table


def _shown(cells):
    return [[str(cell) for cell in row] for row in cells]


def test_counts_from_1_to_4_are_hidden_and_zero_and_5_are_shown():
    cells, total = suppress_column([0, 1, 4, 5, 12])
    # 1 and 4 are hidden; that is two hidden cells, so the total (22) reveals only their sum.
    assert [str(c) for c in cells] == ["0", HIDDEN, HIDDEN, "5", "12"]
    assert str(total) == "22"


def test_a_single_hidden_cell_takes_the_next_smallest_with_it():
    # 3 alone would be 30 - 7 - 20 = 3 from the total: the smallest other, 7, is hidden too.
    cells, total = suppress_column([3, 7, 20])
    assert [str(c) for c in cells] == [HIDDEN, HIDDEN, "20"]
    assert str(total) == "30"


def test_a_table_hides_a_second_cell_in_every_row_and_column_that_hides_one():
    # Red/Amber counts in two areas. The 2 alone in row 1 and column 1 would be recovered from
    # either total; hiding 9 (smallest other in its row) leaves column 2 with one hidden, so 11
    # (smallest other in column 2) goes too, and then row 2 hides 11 alone, so 30 goes.
    cells, rows, columns, total = suppress_table([[2, 9], [30, 11]])
    assert _shown(cells) == [[HIDDEN, HIDDEN], [HIDDEN, HIDDEN]]
    assert [str(c) for c in rows] == ["11", "41"]
    assert [str(c) for c in columns] == ["32", "20"]
    assert str(total) == "52"


def test_a_small_total_is_hidden_and_so_is_another_total_beside_it():
    cells, rows, columns, total = suppress_table([[1, 2], [10, 20]])
    assert [str(c) for c in rows] == [HIDDEN, HIDDEN]  # 3 is small; 30 then goes with it
    assert str(total) == "33"


def _recoverable(values, hidden, total_shown):
    """A hidden value can be worked out from a line when it is the only hidden one there and
    the line's total is shown."""
    return sum(hidden) == 1 and total_shown


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=5),
        min_size=1,
        max_size=6,
    ).filter(lambda rows: len({len(r) for r in rows}) == 1)
)
def test_no_hidden_cell_can_be_worked_out_from_a_row_a_column_or_the_totals(rows):
    cells, row_totals, column_totals, total = suppress_table(rows)
    height, width = len(rows), len(rows[0])
    for r in range(height):
        hidden = [cells[r][c].hidden for c in range(width)]
        assert not _recoverable(rows[r], hidden, not row_totals[r].hidden)
        for c in range(width):
            assert cells[r][c].hidden or not 1 <= rows[r][c] <= 4
    for c in range(width):
        hidden = [cells[r][c].hidden for r in range(height)]
        assert not _recoverable(
            [rows[r][c] for r in range(height)], hidden, not column_totals[c].hidden
        )
    for totals in (row_totals, column_totals):
        assert not _recoverable(None, [t.hidden for t in totals], not total.hidden)
        assert all(t.hidden or not 1 <= t.value <= 4 for t in totals)
