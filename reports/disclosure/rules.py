"""What a reader is shown of a count, and what they know of it from that (reports.disclosure):
every count rounded to the nearest 5 from its own true count, 0 to 7 shown as "<8", and "[c]" or
"[x]" for a figure not shown."""

from collections.abc import Hashable
from dataclasses import dataclass

BASE = 5
SHOWN_FROM = 8
LOW, HIGH = 1, 4  # the counts that must never be worked out
# A day on its own also witnesses 5s: one change makes a 5 a 4.
ALONE = range(LOW, HIGH + 2)
SEARCH = 200  # moves tried for a witness that hides less, once one that hides something is found
SMALL = "<8"
HIDDEN = "[c]"
WITHHELD = "[x]"
TOTAL = "total"

FOOTNOTE = (
    "Every count is rounded to the nearest 5, totals too, each from its own true count, so a "
    "total may differ from the sum of its rounded parts. <8: from 0 to 7 (it may be none). "
    "[c]: not shown, so that a small number cannot be worked out from the other figures."
)
WITHHELD_TEXT = (
    "Not shown: these figures would let a small number be worked out from the previous day's."
)

Record = Hashable
FigureKey = tuple[Hashable, str, Hashable, Hashable]


def rounded(value: int) -> int:
    """The nearest multiple of 5 (a whole number is never halfway)."""
    return BASE * ((value + BASE // 2) // BASE)


def text_for(value: int) -> str:
    return SMALL if value < SHOWN_FROM else str(rounded(value))


def bounds(text: str) -> tuple[int, int | None]:
    """What a reader who knows the rules knows of a count from what is shown: (lowest,
    highest), None for no upper bound."""
    if text == SMALL:
        return 0, SHOWN_FROM - 1
    if text in (HIDDEN, WITHHELD):
        return 0, None
    value = int(text)
    return value - BASE // 2, value + BASE // 2


@dataclass(frozen=True)
class Shown:
    """A published count: what is shown (`text`), with the true count behind it (`value`),
    which is never shown and is kept for the tests and the register team's own checks."""

    value: int
    text: str

    def __str__(self) -> str:
        return self.text

    @property
    def shown(self) -> int | None:
        """The rounded number shown, or None when nothing is (for charts: no bar)."""
        return None if self.text in (SMALL, HIDDEN, WITHHELD) else int(self.text)

    @property
    def hidden(self) -> bool:
        return self.text in (HIDDEN, WITHHELD)

    @property
    def withheld(self) -> bool:
        return self.text == WITHHELD


def single(value: int) -> Shown:
    """A count published on its own (no table, no family): rounded, or "<8"."""
    return Shown(value, text_for(value))
