"""Who must hear, in the writer's own transaction, that people's place on the register changed:
a rating given, an entry opened or closed, a person's area changed, an import undone. An app
registers a listener through its contribution (dsr.contributions); the escalation app keeps its
queue's order this way (escalation.queue_order), so the register never imports it."""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Listener = Callable[[list[int]], Any]

_LISTENERS: list[Listener] = []

# People changed inside `people_changes_gathered`, told to the listeners once at its end.
_GATHERED: ContextVar[set[int] | None] = ContextVar("register_people_gathered", default=None)


def register_listener(listener: Listener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def people_changed(person_ids: Iterable[int | None]) -> None:
    """Tell every listener, now and in the caller's transaction, which people changed."""
    ids = sorted({pk for pk in person_ids if pk is not None})
    if not ids:
        return
    gathered = _GATHERED.get()
    if gathered is not None:
        gathered.update(ids)
        return
    for listener in _LISTENERS:
        listener(ids)


@contextmanager
def people_changes_gathered() -> Iterator[None]:
    """Within the block (in one transaction), the listeners hear once, at its end, of everyone
    changed in it, instead of once a change: a batch of imported rows refreshes the escalation
    queue once, not once a row. If the block raises, nobody is told (its transaction is undone)."""
    if _GATHERED.get() is not None:
        yield
        return
    gathered: set[int] = set()
    token = _GATHERED.set(gathered)
    try:
        yield
    finally:
        _GATHERED.reset(token)
    people_changed(gathered)  # not reached when the block raised
