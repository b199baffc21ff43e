"""Who must hear, in the writer's own transaction, that people's place on the register changed:
a rating given, an entry opened or closed, a person's area changed, an import undone. An app
registers a listener through its contribution (dsr.contributions); the escalation app keeps its
queue's order this way (escalation.queue_order), so the register never imports it."""

from collections.abc import Callable, Iterable
from typing import Any

Listener = Callable[[list[int]], Any]

_LISTENERS: list[Listener] = []


def register_listener(listener: Listener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def people_changed(person_ids: Iterable[int | None]) -> None:
    """Tell every listener, now and in the caller's transaction, which people changed."""
    ids = sorted({pk for pk in person_ids if pk is not None})
    if not ids:
        return
    for listener in _LISTENERS:
        listener(ids)
