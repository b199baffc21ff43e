"""The disclosure control of every report (reports.disclosure, ADR 0005): every count rounded to
the nearest 5 from its own true count, 0 to 7 shown as "<8", and figures hidden where a count of
1 to 4 could otherwise be worked out from the page, the other pages of its family, or the day
before. Checked here by brute force on small tables, independently of the module's search; the
attack on the whole snapshot is tests/reports/test_disclosure_attack.py."""

import itertools
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import disclosure
from reports.disclosure import (
    HIDDEN,
    SMALL,
    TOTAL,
    Family,
    PageSpec,
    TableSpec,
    bounds,
    publish,
    text_for,
)


def test_counts_are_rounded_to_the_nearest_5_and_0_to_7_are_shown_as_fewer_than_8():
    assert [text_for(v) for v in (0, 1, 4, 7)] == [SMALL] * 4
    assert [text_for(v) for v in (8, 12, 13, 17, 39, 45, 145)] == [
        "10",
        "10",
        "15",
        "15",
        "40",
        "45",
        "145",
    ]
    # What a reader knows of each: "<8" is 0 to 7 (it may be none), "10" is 8 to 12, and a
    # hidden figure could be anything.
    assert bounds(SMALL) == (0, 7)
    assert bounds("10") == (8, 12)
    assert bounds("145") == (143, 147)
    assert bounds(HIDDEN) == (0, None)


def one_table(rows: int, columns: int) -> Family:
    """One page, one table: records are (row, column); a record moves to another row or
    column."""

    def moves(record):
        for r in range(rows):
            if r != record[0]:
                yield (r, record[1])
        for c in range(columns):
            if c != record[1]:
                yield (record[0], c)

    table = TableSpec("t", tuple(range(rows)), tuple(range(columns)), lambda r: [r])
    return Family((PageSpec("page", lambda r: True),), (table,), moves)


def register(grid: list[list[int]]) -> Counter:
    return Counter({(r, c): n for r, row in enumerate(grid) for c, n in enumerate(row) if n})


def test_every_total_is_rounded_from_its_own_count_not_added_up_from_rounded_parts():
    # Red 8, Amber 13, Blue 1: the total 22 is shown as 20, not 10 + 15.
    published = publish(one_table(1, 3), register([[8, 13, 1]]))
    shown = [str(published.get("page", "t", 0, c)) for c in (0, 1, 2, TOTAL)]
    assert shown == ["10", "15", SMALL, "20"]


def fitting(tables: np.ndarray, published) -> np.ndarray:
    """Which of `tables` (n x height x width) agree with everything shown: rows, columns and
    totals together."""
    fits = np.ones(len(tables), dtype=bool)
    for (_page, _slug, row, column), shown in published.figures.items():
        rows = slice(None) if row == TOTAL else slice(row, row + 1)
        columns = slice(None) if column == TOTAL else slice(column, column + 1)
        values = tables[:, rows, columns].sum(axis=(1, 2))
        low, high = bounds(shown.text)
        fits &= (values >= low) & (values <= (np.inf if high is None else high))
    return fits


def small_counts(grid: np.ndarray) -> list[tuple]:
    height, width = grid.shape
    return [
        (row, column)
        for row in [*range(height), TOTAL]
        for column in [*range(width), TOTAL]
        if 1 <= grid[_rows(row), _columns(column)].sum() <= 4
    ]


def _rows(row):
    return slice(None) if row == TOTAL else slice(row, row + 1)


def _columns(column):
    return slice(None) if column == TOTAL else slice(column, column + 1)


def candidates(grid: list[list[int]], span: int) -> np.ndarray:
    """Every table of whole numbers with each entry within `span` of the true one."""
    height, width = len(grid), len(grid[0])
    ranges = [range(max(0, v - span), v + span + 1) for row in grid for v in row]
    return np.array(list(itertools.product(*ranges))).reshape(-1, height, width)


def possible_values(grid: list[list[int]], published, span: int = 6) -> dict:
    """For each count from 1 to 4, the values it takes in the tables that agree with everything
    shown. Brute force, independent of how the module decides."""
    tables = candidates(grid, span)
    agree = tables[fitting(tables, published)]
    return {
        place: set(agree[:, _rows(place[0]), _columns(place[1])].sum(axis=(1, 2)))
        for place in small_counts(np.array(grid))
    }


def assert_protected(grid: list[list[int]]) -> None:
    published = publish(one_table(len(grid), len(grid[0])), register(grid))
    for place, values in possible_values(grid, published).items():
        assert len(values) >= 2, (grid, place, values)


def test_rounding_alone_would_give_a_count_away_and_a_figure_is_hidden_to_stop_it():
    # Blue 1 beside Red 12 in one area: their 13 is shown as 15 (13 to 17) and the 12 as 10
    # (8 to 12), so Blue is at least 1. Blue in two other areas is 8 and 8, and the Blue total
    # 17 is shown as 15 (13 to 17): Blue is at most 17 - 8 - 8 = 1. Every rounding sits at its
    # edge, and rounded alone the 1 is given away.
    grid = [[1, 12], [8, 0], [8, 0]]
    family = one_table(3, 2)
    rounded_only = disclosure.Publication(
        {
            key: disclosure.Shown(shown.value, text_for(shown.value))
            for key, shown in publish(family, register(grid)).figures.items()
        }
    )
    assert possible_values(grid, rounded_only, span=3)[(0, 0)] == {1}
    published = publish(family, register(grid))
    assert published.hidden >= 1
    assert len(possible_values(grid, published, span=3)[(0, 0)]) >= 2


def test_a_count_going_from_none_to_one_shows_nothing():
    # Nobody Blue one day, one person Blue the next: "<8" both days, as zero is inside "<8";
    # a "0" then a "<8" would say who was admitted.
    family = one_table(2, 2)
    before = register([[9, 0], [9, 0]])
    after = register([[8, 1], [9, 0]])
    first, second = publish(family, before), publish(family, after, before)
    assert str(first.get("page", "t", 0, 1)) == str(second.get("page", "t", 0, 1)) == SMALL


def test_the_same_register_always_publishes_the_same_figures():
    grid = [[12, 17, 12, 2], [3, 9, 14, 12]]
    family = one_table(2, 4)
    assert publish(family, register(grid)) == publish(family, register(grid))


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.lists(st.lists(st.integers(0, 14), min_size=2, max_size=2), min_size=2, max_size=2))
def test_no_count_from_1_to_4_in_a_two_way_table_can_be_worked_out(grid):
    assert_protected(grid)


def one_change(table: np.ndarray) -> list[np.ndarray]:
    """The tables one person away: moved to another cell, joined or left."""
    found = []
    cells = list(np.ndindex(table.shape))
    for source in cells:
        if table[source]:
            left = table.copy()
            left[source] -= 1
            found.append(left)
            for target in cells:
                if target != source:
                    moved = left.copy()
                    moved[target] += 1
                    found.append(moved)
    for target in cells:
        joined = table.copy()
        joined[target] += 1
        found.append(joined)
    return found


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.integers(0, 12), min_size=3, max_size=3),
    st.integers(0, 2),
    st.integers(0, 3),
)
def test_no_count_from_1_to_4_can_be_worked_out_with_the_day_before(row, source, target):
    # The day before, one person was somewhere else (another column, or not on the register).
    before = np.array([row])
    after = before.copy()
    if after[0, source]:
        after[0, source] -= 1
    if target < 3:
        after[0, target] += 1
    family = one_table(1, 3)
    published = [
        publish(family, register(before.tolist())),
        publish(family, register(after.tolist()), register(before.tolist())),
    ]
    # Every pair of tables, the second one person from the first, that agrees with both days.
    firsts = candidates(before.tolist(), 5)
    firsts = firsts[fitting(firsts, published[0])]
    pairs = []
    for first in firsts:
        seconds = np.array(one_change(first))
        pairs += [(first, second) for second in seconds[fitting(seconds, published[1])]]
    for day, grid in enumerate([before, after]):
        for place in small_counts(grid):
            values = {pair[day][_rows(place[0]), _columns(place[1])].sum() for pair in pairs}
            assert len(values) >= 2, (before, after, day, place, values)
