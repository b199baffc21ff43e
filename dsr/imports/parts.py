"""What another app brings across from a register spreadsheet: each app adds its part through
its contribution (`import_parts`), as the register never imports an app (dsr.contributions).

The dry run (check.py) reads the sheet's cells into a part's plan, a dict of plain values with a
"match" key; the part says which matches the register already holds for a batch of people, so a
file imported twice changes nothing, and writes a plan through the app's own service. Undo
(run.py) removes what a part wrote, as it does the register's own records.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class ImportPart:
    # The key of the part's plan in a row's plan ("cetr").
    key: str
    # The model the part writes (one record per row).
    model: type[models.Model]
    # {person id: the matches the register already holds} for a batch of people.
    held: Callable[[list[int]], dict[int, set[str]]]
    # write(person=, values=, source=, by=) through the app's service, `source` naming the
    # import for what the record says of its origin; returns the record written.
    write: Callable[..., models.Model]


_PARTS: dict[str, ImportPart] = {}


def register_import_part(part: ImportPart) -> None:
    _PARTS[part.key] = part


def import_part(key: str) -> ImportPart | None:
    return _PARTS.get(key)


def import_parts() -> tuple[ImportPart, ...]:
    return tuple(_PARTS.values())
