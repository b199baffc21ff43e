"""The attack on committed spend (reports.disclosure.magnitude; ADR 0005 extended to magnitude
tables): packages built by Hypothesis over two areas and several months, every total published
for every area set and month, and a reader who knows who has a package, where and for which
days (everything but the costs), and may hold a package themselves and know its cost. With
linear programming (scipy) over every shown total, allowing for its rounding, the reader tries
to bound each other person's weekly cost from above to within P_PERCENT per cent of the truth.
No cost may be so bounded; with the protection switched off (every total shown), the same
reader does bound some: the test can fail.

CI runs a bounded, fixed set of examples and the known hard ones; DSR_FUZZ_EXPLORE=1 draws more.
"""

import datetime
import os
from collections import Counter
from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from reports.disclosure.magnitude import P_PERCENT, ROUND_TO, publish_amounts, round_amount
from reports.planning import magnitude_cells
from tests.figures import record

EXPLORE = bool(os.environ.get("DSR_FUZZ_EXPLORE"))
TODAY = datetime.date(2026, 5, 10)  # January to April 2026 have ended
SETS = [frozenset({1}), frozenset({2}), frozenset({1, 2})]
TRIED: Counter = Counter()
MONTH_STARTS = [datetime.date(2026, m, 1) for m in (1, 2, 3, 4)]

ATTACK = settings(
    max_examples=30 if EXPLORE else 5,
    deadline=None,
    derandomize=not EXPLORE,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _spans(packages):
    """(person, area, start, end, weekly cost) -> the spans magnitude_cells takes."""
    return [
        (person, area, start, end, Fraction(weekly) / 7)
        for person, area, start, end, weekly in packages
    ]


def _pinned(packages, shown_keys, cells) -> list[tuple[int, int | None]]:
    """Each (target, attacker) for which the attacker bounds the target's weekly cost from above
    to within P_PERCENT per cent of the truth, from the shown totals (each known to within the
    rounding) and the attacker's own cost."""
    people = sorted({p[0] for p in packages})
    index = {person: i for i, person in enumerate(people)}
    truth = {person: Fraction(0) for person in people}
    for person, _area, _start, _end, weekly in packages:
        truth[person] += Fraction(weekly)
    # Coefficients: a cell is sum over people of (days in the cell / 7) x weekly cost, which the
    # reader knows from who has a package and when.
    rows_ub, bounds_ub = [], []
    for key in shown_keys:
        cell = cells[key]
        coefficients = np.zeros(len(people))
        for person, amount in cell.contributions.items():
            coefficients[index[person]] = float(amount / truth[person]) if truth[person] else 0
        total = float(round_amount(cell.total))  # what is shown
        half = ROUND_TO / 2
        rows_ub += [coefficients, -coefficients]
        bounds_ub += [total + half, -(total - half)]
    a_ub = np.array(rows_ub) if rows_ub else None
    b_ub = np.array(bounds_ub) if bounds_ub else None
    found = []
    for target in (person for person in people if truth[person]):
        for attacker in [None, *people]:
            if attacker == target:
                continue
            bounds = [(0, None)] * len(people)
            if attacker is not None:
                own = float(truth[attacker])
                bounds[index[attacker]] = (own, own)
            objective = np.zeros(len(people))
            objective[index[target]] = -1  # maximise the target's cost
            result = linprog(objective, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
            # Unbounded above (status 3): nothing learnt.
            if (
                result.status == 0
                and -result.fun <= float(truth[target]) * (1 + P_PERCENT / 100) - 1e-6
            ):
                found.append((target, attacker))
    return found


def _attack(packages):
    cells, parts = magnitude_cells(_spans(packages), SETS, TODAY)
    published = publish_amounts(cells, parts=parts)
    shown = [key for key, figure in published.items() if not figure.hidden]
    TRIED["shown"] += len(shown)
    TRIED["hidden"] += len(published) - len(shown)
    TRIED["targets"] += len({p[0] for p in packages})
    record(
        "M-1 cost totals shown / hidden, packages attacked",
        f"{TRIED['shown']} / {TRIED['hidden']}, {TRIED['targets']}",
    )
    return _pinned(packages, shown, cells), cells


PACKAGE = st.tuples(
    st.sampled_from([1, 1, 1, 2]),
    st.sampled_from([datetime.date(2025, 12, 1), *MONTH_STARTS, datetime.date(2026, 2, 15)]),
    st.sampled_from([None, datetime.date(2026, 2, 28), datetime.date(2026, 3, 20)]),
    st.integers(min_value=200, max_value=20_000),
)

# A month in which one package started, beside the month before: the difference per day is
# that package's cost. Known hard, as every total here passes rules 1 and 2 on its own.
ONE_STARTS = [
    *[(n, 1, datetime.date(2025, 12, 1), None, 700 * n) for n in range(1, 11)],
    (11, 1, datetime.date(2026, 3, 1), None, 4_000),
]
# One package dominating the total.
DOMINANT = [
    *[(n, 1, datetime.date(2025, 12, 1), None, 700 * n) for n in range(1, 10)],
    (10, 1, datetime.date(2025, 12, 1), None, 500_000),
    (11, 2, datetime.date(2025, 12, 1), None, 800),
]


@ATTACK
@given(st.lists(PACKAGE, min_size=20, max_size=40))
@example([(p[1], p[2], p[3], p[4]) for p in ONE_STARTS])
@example([(p[1], p[2], p[3], p[4]) for p in DOMINANT])
def test_no_weekly_cost_can_be_bounded_from_the_published_totals(drawn):
    packages = []
    for number, (area, start, end, weekly) in enumerate(drawn, start=1):
        if end is not None and end < start:
            end = None
        packages.append((number, area, start, end, weekly))
    pinned, _cells = _attack(packages)
    assert pinned == []


def test_without_the_protection_the_reader_bounds_a_cost():
    """Every total shown: the month in which one package started gives it away, and so does a
    dominant package to the second largest contributor."""
    for packages, target in ((ONE_STARTS, 11), (DOMINANT, 10)):
        cells, _parts = magnitude_cells(_spans(packages), SETS, TODAY)
        pinned = _pinned(packages, list(cells), cells)
        assert target in {t for t, _attacker in pinned}
        # ... and with it, nobody is.
        protected, _ = _attack(packages)
        assert protected == []
