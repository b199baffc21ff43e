"""Figures counted over the whole register, kept for a while (PERFORMANCE.md T6, T7): the
dashboard's headline counts, the register list's total and the reports. Kept per scope (the
areas the user's organisation covers) and per filters, so nobody sees counts from areas they
could not see.

A kept figure may also follow a *generation*: a number in the cache that goes up after every
committed change to the tables the figure is counted from (`follow_changes`). The generation
is part of the key, so the first request after a change counts afresh, and a figure is never
older than the last change to what it counts, however long it may be kept.

The cache is a help, never a need: every call to it goes through `unless_cache_down`, so with
the cache out of reach a figure is counted in the database on each request (slower, correct),
and the outage is logged once as a warning rather than as a traceback per request.
"""

import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from redis.exceptions import RedisError

from dsr.security.scoping import local_authority_ids_for

logger = logging.getLogger(__name__)

_GENERATION = "kept:generation:"

T = TypeVar("T")
# What a cache that cannot be reached raises: redis-py's errors (refused, timed out, lost), and
# the operating system's for other backends.
CACHE_ERRORS = (RedisError, OSError)


class _Outage:
    """Whether this process last found the cache out of reach, so an outage is logged once
    when it starts and once when it ends, not on every call (a flood that hides other errors)."""

    down = False


@receiver(setting_changed)
def _new_cache(*, setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        _Outage.down = False


def unless_cache_down(operation: Callable[[], T], *, otherwise: T) -> T:
    """`operation()`, a call to the cache; or `otherwise` when the cache cannot be reached."""
    try:
        result = operation()
    except CACHE_ERRORS as error:
        if not _Outage.down:
            _Outage.down = True
            logger.warning(
                "the cache cannot be reached (%s): figures are counted in the database and "
                "rate limits in each process until it can",
                type(error).__name__,
            )
        return otherwise
    if _Outage.down:
        _Outage.down = False
        logger.info("the cache can be reached again")
    return result


def generations(names: Iterable[str]) -> tuple[int, ...] | None:
    """The current generation of each name, in one cache read (0 before any change); None
    when the cache cannot be reached, as nothing kept can then be known to be current."""
    names = list(names)
    if not names:
        return ()
    keys = [_GENERATION + name for name in names]
    found = unless_cache_down(lambda: cache.get_many(keys), otherwise=None)
    if found is None:
        return None
    return tuple(found.get(key, 0) for key in keys)


def changed(name: str) -> None:
    """Moves `name` on a generation once the current transaction commits (at once outside
    one). Called by `follow_changes`' signals, and by set-based writes that send no signals.

    Robust: if the cache cannot be reached, a warning is logged and the request goes on, since
    what it wrote is already committed; kept figures are then at most their time to live old."""

    def move_on() -> None:  # a function, not a partial: Django logs a failure by its name
        unless_cache_down(lambda: _bump(name), otherwise=None)

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
    current = generations(following)
    if current is None:
        return compute(), timezone.now()
    scope = ",".join(str(pk) for pk in sorted(local_authority_ids_for(user)))
    parts = (*parts, current)
    key = "kept:" + hashlib.sha256(repr((kind, scope, parts)).encode()).hexdigest()
    kept = unless_cache_down(lambda: cache.get(key), otherwise=None)
    if kept is None:
        kept = (compute(), timezone.now())
        unless_cache_down(lambda: cache.set(key, kept, seconds), otherwise=None)
    return kept
