"""Figures counted over the whole register, kept for a while (PERFORMANCE.md T6, T7): the
dashboard's headline counts, the register list's total and the reports. Kept per scope (the
areas the user's organisation covers) and per filters, so nobody sees counts from areas they
could not see.

A kept figure may also follow a *generation*: a number in the cache that goes up after every
committed change to the tables the figure is counted from (`follow_changes`). The generation
is part of the key, so the first request after a change counts afresh, and a figure is never
older than the last change to what it counts, however long it may be kept.
"""

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from dsr.scoping import local_authority_ids_for

_GENERATION = "kept:generation:"


def generations(names: Iterable[str]) -> tuple[int, ...]:
    """The current generation of each name, in one cache read (0 before any change)."""
    names = list(names)
    if not names:
        return ()
    found = cache.get_many([_GENERATION + name for name in names])
    return tuple(found.get(_GENERATION + name, 0) for name in names)


def changed(name: str) -> None:
    """Moves `name` on a generation once the current transaction commits (at once outside
    one). Called by `follow_changes`' signals, and by set-based writes that send no signals.

    Robust: if the cache cannot be reached, the error is logged and the request goes on, since
    what it wrote is already committed; kept figures are then at most their time to live old."""

    def move_on() -> None:  # a function, not a partial: Django logs a failure by its name
        _bump(name)

    transaction.on_commit(move_on, robust=True)


def _bump(name: str) -> None:
    key = _GENERATION + name
    # add() makes the key (never expiring) only if it is missing; incr() is atomic in Redis.
    cache.add(key, 0, None)
    try:
        cache.incr(key)
    except ValueError:  # evicted between the two calls
        cache.set(key, 1, None)


def follow_changes(name: str, *models: type[Model]) -> None:
    """Every saved or deleted row of `models` moves `name` on (from an AppConfig.ready())."""
    for model in models:
        handler = partial(_on_change, name)
        # Weak references would drop the partial at once: keep it alive with the model.
        post_save.connect(handler, sender=model, weak=False, dispatch_uid=f"kept:{name}:{model}")
        post_delete.connect(
            handler, sender=model, weak=False, dispatch_uid=f"kept-d:{name}:{model}"
        )


def _on_change(name: str, **kwargs: Any) -> None:
    changed(name)


def kept_for_a_while(
    kind: str,
    user: Any,
    parts: tuple,
    compute: Callable[[], Any],
    seconds: int,
    *,
    following: tuple[str, ...] = (),
) -> tuple[Any, datetime]:
    """`compute()`'s value and when it was computed: computed once and kept for `seconds` for
    everyone with the same scope and `parts`, and only until any generation in `following`
    moves on (0 seconds: computed every time)."""
    if not seconds:
        return compute(), timezone.now()
    scope = ",".join(str(pk) for pk in sorted(local_authority_ids_for(user)))
    parts = (*parts, generations(following))
    key = "kept:" + hashlib.sha256(repr((kind, scope, parts)).encode()).hexdigest()
    kept = cache.get(key)
    if kept is None:
        kept = (compute(), timezone.now())
        cache.set(key, kept, seconds)
    return kept
