"""The attack on the register snapshot (ADR 0005; issue "A person was identified from the
reports", point 2): registers built by Hypothesis, every table of every page a commissioner can
download for one day (the whole ICB and each area, all ages and each age group: a page and its
filter neighbours), the same the day before with one person changed, and a reader who tries to
pin every count from 1 to 4 with integer bounds (tests/reports/reader.py). No count may be
pinned; with the protection switched off, the same reader pins some.

CI runs a bounded, fixed set of examples (and the known hard ones); DSR_FUZZ_EXPLORE=1 draws
new ones, and more of them, as the form tests do (README)."""

import os
from collections import Counter

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reports import disclosure
from reports.queries import AGE_GROUPS, RATINGS, dimensions, snapshot_family
from tests.figures import record
from tests.reports import reader as reader_module
from tests.reports.reader import SnapshotReader

EXPLORE = bool(os.environ.get("DSR_FUZZ_EXPLORE"))
AREAS = [1, 2]
# Each area alone (its council), and both together (the ICB and the trust).
SETS = [frozenset({1}), frozenset({2}), frozenset({1, 2})]
DOMAINS = [[value for value, _ in d.choices] for d in dimensions()]
CHANGES = ["rating", "detail", "age", "area", "joins", "leaves"]
TRIED: Counter = Counter()

ATTACK = settings(
    max_examples=40 if EXPLORE else 6,
    deadline=None,
    derandomize=not EXPLORE,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def person(area, age, rating, *details):
    """A record as the snapshot counts it, details by their index in each dimension."""
    values = [DOMAINS[d][i] for d, i in enumerate(details)]
    return (AREAS[area], AGE_GROUPS[age], RATINGS[rating], *values)


# 27 people, found by searching: rounded alone, the area table of the whole ICB for all ages
# gives away that one person in the first area is Blue, from the pages for each age group (the
# second area's Blue are 9 and 7 in two age groups, 16 in all; the ICB's 17 and 8).
HARD = Counter(
    {
        person(0, 2, 3, 1, 0, 0, 2, 1, 1): 1,
        person(1, 1, 3, 0, 1, 0, 0, 1, 1): 9,
        person(1, 2, 3, 1, 1, 0, 2, 1, 1): 7,
        person(0, 1, 0, 2, 0, 0, 2, 0, 1): 7,
        person(1, 0, 0, 0, 1, 0, 0, 1, 0): 2,
        person(0, 0, 0, 1, 1, 0, 0, 0, 0): 1,
    }
)

# The next day, one of the second area's Blue young people is Red.
HARD_CHANGE = (20, "rating", 0)
# Or the first area's one Red child is admitted: its children had no Blue the day before.
ADMITTED = (1, "rating", 2)
# The first area's Blue on the ICB's page for all ages.
BLUE = ((frozenset({1, 2}), ""), "local-authority", 1, RATINGS[3])

people = st.tuples(
    st.integers(0, len(AREAS) - 1),
    st.integers(0, len(AGE_GROUPS) - 1),
    st.integers(0, len(RATINGS) - 1),
    # A few values of each detail, so that counts reach the rounded range.
    *[st.integers(0, min(2, len(values) - 1)) for values in DOMAINS],
).map(lambda fields: person(*fields))
registers = st.dictionaries(people, st.integers(1, 30), min_size=1, max_size=20).map(Counter)
changes = st.tuples(st.integers(0, 10**6), st.sampled_from(CHANGES), st.integers(0, 10**6))


def changed(register: Counter, change: tuple[int, str, int]) -> Counter:
    """The register the next day: one person changed their rating, a detail, their age group
    or area, or joined or left."""
    which, kind, to = change
    everyone = sorted(register.elements(), key=repr)
    one = everyone[which % len(everyone)]
    after = Counter(register)
    if kind == "joins":
        after[one] += 1
        return after
    after[one] -= 1
    if kind == "leaves":
        return +after
    index = {"rating": 2, "age": 1, "area": 0}.get(kind, 3 + to % len(DOMAINS))
    domain = [AREAS, AGE_GROUPS, RATINGS, *DOMAINS][index]
    others = [value for value in domain if value != one[index]]
    after[(*one[:index], others[to % len(others)], *one[index + 1 :])] += 1
    return +after


def attack(register: Counter, change: tuple[int, str, int], only=None):
    """Publish the first day on its own and the next with it, as the report does, and attack
    both together (every count from 1 to 4, or those of the figures `only`)."""
    family = snapshot_family(AREAS, SETS)
    today = changed(register, change)
    before = disclosure.publish(family, register)
    after = disclosure.publish(family, today, register)
    reader = SnapshotReader(AREAS, [before, after])
    return reader, reader.attack([register, today], only=only)


@ATTACK
@example(register=HARD, change=HARD_CHANGE)
@example(register=HARD, change=ADMITTED)
@given(register=registers, change=changes)
def test_no_count_from_1_to_4_can_be_worked_out_from_the_pages_of_two_days(register, change):
    reader, verdict = attack(register, change)
    TRIED["registers"] += 1
    TRIED["counts"] += verdict.counts
    TRIED["witnessed"] += verdict.witnessed
    TRIED["milp"] += verdict.by_milp
    TRIED["pinned"] += len(verdict.pinned)
    record(
        "Disclosure attack: registers, each a day pair / pages a day (a page and its filter "
        "neighbours) / tables a day",
        f"{TRIED['registers']} / {reader.pages} / {reader.tables}",
    )
    record(
        "Disclosure attack: counts 1-4 tried / settled by a witness / by integer programming "
        "/ pinned",
        f"{TRIED['counts']} / {TRIED['witnessed']} / {TRIED['milp']} / {TRIED['pinned']}",
    )
    assert verdict.pinned == []


def test_the_attack_pins_counts_when_the_protection_is_switched_off(monkeypatch):
    # Rounded alone, without the search for witnesses: the hard register gives away the one
    # Blue person of the first area, on both days.
    monkeypatch.setattr(disclosure._Witnesses, "run", lambda self: True)
    _reader, verdict = attack(HARD, HARD_CHANGE, only=[BLUE])
    assert verdict.pinned == [(0, BLUE, 1), (1, BLUE, 1)]
    record("Disclosure attack with the witness search off: the Blue count of 1", "pinned")


def test_the_attack_pins_counts_when_exact_figures_are_published(monkeypatch):
    # Exact counts, as the pages showed before rounding: every small count is pinned.
    monkeypatch.setattr(disclosure, "text_for", str)
    monkeypatch.setattr(disclosure._Witnesses, "run", lambda self: True)
    monkeypatch.setattr(reader_module, "bounds", lambda text: (int(text), int(text)))
    _reader, verdict = attack(HARD, HARD_CHANGE, only=[BLUE])
    assert [value for _day, _key, value in verdict.pinned] == [1, 1]
