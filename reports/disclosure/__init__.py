"""Disclosure control for every figure that leaves the register team (ADR 0005).

The method is the one NHS England uses for its learning disability services and secondary care
statistics, with the additions a register published every day, by area and by age group, needs.

1. Every published count, totals included, is rounded to the nearest 5 from its own true count,
   never added up from rounded parts; a count from 0 to 7 is shown as "<8". Zero is inside "<8"
   too: a cell that goes from 0 one day to "<8" the next, when one person changed, would say
   who changed (1 is the only count it can be).
2. The reader is taken to know these rules, to hold every table of a page, the same tables for
   every other area and age group (a *family* of pages), and the previous day's, and to know
   that one person changed between the two days. A count from 1 to 4 must keep more than one
   value in the registers that publish exactly the same figures.

The check is constructive. For each count from 1 to 4, it looks for a *witness*: the same
registers (both days) with one person moved (one detail, their rating, their age group or their
area changed) such that every published figure, on every page of the family and on both days,
stays within what the reader knows of it, while the count changes. The witness registers publish
the same figures, so no reader, however clever, can tell the count from its other value. Where
no witness exists, the figures that give the move away are hidden ("[c]", which tells the reader
nothing) and the witness then stands; hiding only widens what the reader must allow, so a count
already witnessed stays so. Yesterday's figures are already out, so only today's are hidden.

Pure functions on counts of records (a record is a tuple of a person's or an event's details):
the report queries count, this package decides what may be shown, and the page, the CSV and the
chart all show the same decision. The attack test (tests/reports/test_disclosure_attack.py)
plays the reader with integer programming, independently of this search.

`rules` rounds a count and says what a reader knows of it, `family` describes the pages and
their tables, `witnesses` is the search; `publish` (here) puts them together.
"""

from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass

from reports.disclosure.family import Family, PageSpec, TableSpec
from reports.disclosure.rules import (
    ALONE,
    BASE,
    FOOTNOTE,
    HIDDEN,
    HIGH,
    LOW,
    SEARCH,
    SHOWN_FROM,
    SMALL,
    TOTAL,
    WITHHELD,
    WITHHELD_TEXT,
    FigureKey,
    Record,
    Shown,
    bounds,
    rounded,
    single,
    text_for,
)
from reports.disclosure.witnesses import _Day, _Records, _Witnesses

__all__ = [
    "ALONE",
    "BASE",
    "FOOTNOTE",
    "HIDDEN",
    "HIGH",
    "LOW",
    "SEARCH",
    "SHOWN_FROM",
    "SMALL",
    "TOTAL",
    "WITHHELD",
    "WITHHELD_TEXT",
    "Family",
    "FigureKey",
    "PageSpec",
    "Publication",
    "Record",
    "Shown",
    "TableSpec",
    "bounds",
    "publish",
    "rounded",
    "single",
    "text_for",
]


@dataclass(frozen=True)
class Publication:
    """What may be shown of every figure of a family on a day."""

    figures: dict[FigureKey, Shown]

    def get(self, page: Hashable, table: str, row: Hashable, column: Hashable) -> Shown:
        return self.figures[(page, table, row, column)]

    @property
    def hidden(self) -> int:
        return sum(1 for figure in self.figures.values() if figure.hidden)

    @property
    def withheld(self) -> bool:
        return any(figure.withheld for figure in self.figures.values())


def publish(family: Family, today: Counter, previous: Counter | None = None) -> Publication:
    """Round every figure of `family` counted from `today`'s records, and hide what must be
    hidden so that no count from 1 to 4 can be worked out from these figures, every page of the
    family together, and with the previous day's (counted from `previous`, if given)."""
    records = _Records(family)
    now = _Day(records, today)
    _Witnesses(records, [now], now, ALONE).run()
    withheld = False
    if previous is not None:
        before = _Day(records, previous)
        # The previous day as published hid at least what its own family needed: taking only
        # that much as hidden is the reader's best case.
        _Witnesses(records, [before], before, ALONE).run()
        withheld = not _Witnesses(records, [before, now], now).run()
    figures = {}
    for key in family.figure_keys():
        value = now.values.get(key, 0)
        if withheld:
            text = WITHHELD
        elif key in now.hidden:
            text = HIDDEN
        else:
            text = text_for(value)
        figures[key] = Shown(value, text)
    return Publication(figures)
