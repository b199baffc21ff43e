"""Disclosure control for magnitude tables: sums of amounts (costs, bed days), where a count's
rules (reports.disclosure) are not enough. A total of one person's weekly cost with a few small
ones beside it says what that person's package costs, however many people are in it.

The rules are the ones statistical offices use for business statistics, with a register's
additions (ADR 0008, after ADR 0005):

1. **Minimum contributors.** A total is shown only when at least `MIN_CONTRIBUTORS` people
   contribute to it (a person's several packages are one contribution).
2. **Dominance (the p% rule).** A total is shown only when what is left after taking away its
   two largest contributions is at least `P_PERCENT` per cent of the largest. The second-largest
   contributor, who knows their own amount, can then not work out the largest to within
   `P_PERCENT` per cent, and nobody else can either. One person dominating a total fails it.
3. **Set beside each other.** Every two totals that share a contributor are also taken apart:
   the difference between them (as it is, and per day, for totals over months of different
   lengths) is a total of the people whose amounts differ, and it must pass rules 1 and 2 as
   well. A month in which one package started, beside the month before, would otherwise give
   that package's cost. And a total over several areas with all but some of its areas shown
   gives the hidden areas' total: that must pass too. Where a check fails, a total is hidden
   ("[c]") and the checks run again, until every shown total and every difference passes.
4. **Rounded.** A shown total is rounded (to `ROUND_TO`) from its own exact value.

Totals are published together for every page and every month there is, once, so a month is
shown the same way whatever year or area a reader asks for.

Not covered: the checks take totals two at a time (and each area-set total with its shown
areas); a reader who combines three or more totals in some other way is not checked for here.
The attack test (tests/reports/test_magnitude_attack.py) plays such a reader with linear
programming over every published total.
"""

import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from reports.disclosure.rules import HIDDEN

MIN_CONTRIBUTORS = 10
P_PERCENT = 10
ROUND_TO = 100

Contributions = dict[Hashable, Fraction]


@dataclass(frozen=True)
class MagnitudeCell:
    """A total to publish: each person's contribution to it, and the number of days it covers
    (for the per-day difference between totals over periods of different lengths)."""

    contributions: Contributions
    days: int = 1

    @property
    def total(self) -> Fraction:
        return sum(self.contributions.values(), Fraction(0))


@dataclass(frozen=True)
class ShownAmount:
    """A published total: what is shown, with the exact total behind it (never shown)."""

    value: Fraction
    text: str
    contributors: int

    def __str__(self) -> str:
        return self.text

    @property
    def hidden(self) -> bool:
        return self.text == HIDDEN

    @property
    def shown(self) -> int | None:
        return None if self.hidden else int(round_amount(self.value))


def round_amount(value: Fraction, to: int = ROUND_TO) -> int:
    """The nearest multiple of `to` (halves up)."""
    return int((value / to + Fraction(1, 2)) // 1) * to


def sensitive(
    amounts: Iterable[Fraction | Decimal | int],
    *,
    minimum: int = MIN_CONTRIBUTORS,
    p_percent: int = P_PERCENT,
) -> bool:
    """Whether a total of these contributions may not be shown: fewer than `minimum`
    contributors, or the rest after the two largest less than `p_percent`% of the largest."""
    positive = sorted(
        (abs(a if isinstance(a, int | Fraction) else Fraction(a)) for a in amounts if a),
        reverse=True,
    )
    if len(positive) < minimum:
        return True
    largest = positive[0]
    rest = sum(positive[2:], 0)
    return rest * 100 < largest * p_percent


def _whole(cells: dict[Hashable, MagnitudeCell]) -> dict[Hashable, MagnitudeCell]:
    """The same totals with every contribution multiplied by one number that makes them all
    whole. The checks compare contributions only with each other, so multiplying them all by
    the same positive number changes no answer; whole numbers are added and compared many
    times faster than fractions (at 100,000 people the planning figures' pairs of totals)."""
    scale = 1
    for cell in cells.values():
        for amount in cell.contributions.values():
            scale = math.lcm(scale, Fraction(amount).denominator)
    return {
        key: MagnitudeCell(
            {
                person: int(Fraction(amount) * scale)
                for person, amount in cell.contributions.items()
            },
            cell.days,
        )
        for key, cell in cells.items()
    }


def _difference(a: MagnitudeCell, b: MagnitudeCell, per_day: bool) -> list[int]:
    """Each person's amount in `a` less theirs in `b` (of whole amounts, `_whole`); per day,
    both multiplied by the two totals' days (which changes no check's answer)."""
    people = set(a.contributions) | set(b.contributions)
    scale_a, scale_b = (b.days, a.days) if per_day else (1, 1)
    mine, theirs = a.contributions, b.contributions
    out = []
    for person in people:
        d = mine.get(person, 0) * scale_a - theirs.get(person, 0) * scale_b
        if d:
            out.append(d)
    return out


def _sum_of(cells: dict[Hashable, MagnitudeCell], keys: list[Hashable]) -> list[Fraction]:
    together: dict[Hashable, Fraction] = {}
    for key in keys:
        for person, amount in cells[key].contributions.items():
            together[person] = together.get(person, 0) + amount
    return [amount for amount in together.values() if amount]


def _one_more_to_hide(
    cells: dict[Hashable, MagnitudeCell],
    parts: dict[Hashable, list[Hashable]],
    hidden: set[Hashable],
    fails: Callable[[Iterable[Fraction]], bool],
    known: dict[Hashable, bool],
) -> Hashable | None:
    """A shown total that gives something away beside what else is shown, or None. `known`
    keeps each check's answer (a pair of totals, or a total with a set of its parts hidden):
    it depends only on the totals, so each is worked out once however often the shown totals
    are looked over again."""
    shown = [key for key in cells if key not in hidden]
    # A total shown with some of its parts hidden gives their sum.
    for key in shown:
        gone = frozenset(p for p in parts.get(key, []) if p in hidden and p in cells)
        if not gone:
            continue
        check = ("parts", key, gone)
        if check not in known:
            together = _sum_of(cells, list(gone))
            known[check] = bool(together) and fails(together)
        if known[check]:
            return key
    for index, first in enumerate(shown):
        a = cells[first]
        for second in shown[index + 1 :]:
            check = ("pair", first, second)
            if check not in known:
                b = cells[second]
                known[check] = not a.contributions.keys().isdisjoint(
                    b.contributions.keys()
                ) and any(
                    (difference := _difference(a, b, per_day)) and fails(difference)
                    for per_day in (False, True)
                )
                # Disjoint: the difference is the two totals' people together, and both pass.
            if known[check]:
                return second
    return None


def publish_amounts(
    cells: dict[Hashable, MagnitudeCell],
    *,
    parts: dict[Hashable, list[Hashable]] | None = None,
    text: Callable[[Fraction], str] = lambda v: f"£{round_amount(v):,}",
    minimum: int = MIN_CONTRIBUTORS,
    p_percent: int = P_PERCENT,
) -> dict[Hashable, ShownAmount]:
    """What may be shown of each total in `cells` (in a stable order: the first of a pair that
    must lose one keeps it). `parts` names, for a total that is the sum of other totals (an
    area set's month), those totals: with it shown, what its hidden parts add up to is known,
    and must pass too."""

    def fails(amounts: Iterable[Fraction]) -> bool:
        return sensitive(amounts, minimum=minimum, p_percent=p_percent)

    whole = _whole(cells)
    hidden = {key for key, cell in whole.items() if fails(cell.contributions.values())}
    known: dict[Hashable, bool] = {}
    while (more := _one_more_to_hide(whole, parts or {}, hidden, fails, known)) is not None:
        hidden.add(more)
    return {
        key: ShownAmount(
            cell.total,
            HIDDEN if key in hidden else text(cell.total),
            sum(1 for v in cell.contributions.values() if v),
        )
        for key, cell in cells.items()
    }
