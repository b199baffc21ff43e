"""Report figures are counted in the background, never while a reader waits (PERFORMANCE.md).

Counting a day's figures for every page at once (reports.disclosure) takes minutes on a large
register, far past the web server's timeout. So a *family* of figures is counted only by a
Celery task (reports.tasks): today's every DSR_REPORT_RECOUNT_MINUTES, the days that have ended
each night, and whatever a reader asked for that had not been counted yet. What was counted is
kept in the cache until the next count replaces it (`kept_seconds`).

A page or the feed only reads what was last counted (`kept_figures`), with the time it was
counted (`times_read`). What has not been counted raises `NotCounted`: the page then says the
figures are being counted and queues their count once (`queue_count`); with the cache out of
reach it raises `CacheDown` and nothing is counted or queued (the figures cannot be kept).
"""

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.utils import timezone
from kombu.exceptions import KombuError

from dsr.caching import changed, unless_cache_down

logger = logging.getLogger(__name__)

# How long a queued count stands for the next one asked for (a reader's), and how long a count
# may hold its lock: longer than the longest count (224 s at 100,000 people), and the lock is
# given back as soon as the count ends, so only a worker that died leaves it to run out.
QUEUED_SECONDS = 30 * 60
# A generation (dsr.caching) that moves on whenever a count keeps figures: each reader's page
# made from the last count (reports.published) is kept until then.
FIGURES_COUNTED = "report-figures-counted"
# Moves on only when figures of days that have ended are counted (each night, or when first
# asked for): a page that reads only those (the planning figures, a past day's register) is kept
# until then, not made again after each recount of today's figures.
PAST_FIGURES_COUNTED = "report-past-figures-counted"
LOCK_SECONDS = 30 * 60
# What a reader is told to wait before asking again (the feed's Retry-After).
RETRY_AFTER_SECONDS = 60

_MISSING = object()


class NotCounted(Exception):
    """The figures asked for have not been counted yet (or are no longer kept)."""


class CacheDown(Exception):
    """The cache, where counted figures are kept, cannot be reached."""


# Inside `counting()`: a background count, which counts and keeps what it reads ("all": every
# family; "today": those that reach today, and those of days that have ended only when they are
# not kept yet, as they change only when someone corrects the past and are counted each night).
_COUNTING: ContextVar[str] = ContextVar("reports_counting", default="")
# The times the figures read inside `times_read()` were counted.
_TIMES: ContextVar[list[datetime] | None] = ContextVar("reports_times_read", default=None)


@contextmanager
def counting(*, past_days_too: bool = False) -> Iterator[None]:
    token = _COUNTING.set("all" if past_days_too else "today")
    try:
        yield
    finally:
        _COUNTING.reset(token)


@contextmanager
def times_read() -> Iterator[list[datetime]]:
    """The times the figures read inside the block were counted (the oldest is what a page
    says it was "counted at")."""
    times: list[datetime] = []
    token = _TIMES.set(times)
    try:
        yield times
    finally:
        _TIMES.reset(token)


def figures_cache() -> BaseCache:
    """Where counted figures are kept: the "reports" cache where there is one (the embedded run,
    whose worker and web server are separate processes), else the shared "default" (Redis)."""
    return caches["reports" if "reports" in settings.CACHES else "default"]


def kept_seconds() -> int:
    """How long counted figures are kept: until replaced. Today's are counted again every
    DSR_REPORT_RECOUNT_MINUTES and a day that has ended each night, so they are kept
    DSR_REPORT_PAST_DAY_SECONDS (26 hours by default: past the next night's count, and far
    past the next recount), and never less than four recounts, so a recount that fails or
    runs late leaves the last figures in place."""
    return max(settings.DSR_REPORT_PAST_DAY_SECONDS, 4 * 60 * settings.DSR_REPORT_RECOUNT_MINUTES)


def _key(kind: str, parts: tuple) -> str:
    return "reports:counted:" + hashlib.sha256(repr((kind, parts)).encode()).hexdigest()


def kept_figures(kind: str, parts: tuple, compute: Callable[[], Any]) -> Any:
    """The family `kind` of `parts` as last counted. Inside `counting()` it is counted now and
    kept (replacing the last); elsewhere it is only read: NotCounted when it is not kept,
    CacheDown when the cache cannot be reached."""
    key = _key(kind, parts)
    cache = figures_cache()
    mode = _COUNTING.get()
    kept = _MISSING
    if mode != "all" and (not mode or _ended(parts)):
        kept = unless_cache_down(lambda: cache.get(key, _MISSING), otherwise=None)
        if kept is None:
            raise CacheDown(kind)
    if kept is _MISSING:
        if mode:
            kept = (compute(), timezone.now())
            unless_cache_down(lambda: cache.set(key, kept, kept_seconds()), otherwise=None)
            changed(FIGURES_COUNTED)  # readers' pages of the last count are out of date
            if _ended(parts):
                changed(PAST_FIGURES_COUNTED)
        else:
            kept = not_counted(kind, parts, compute, key)
    times = _TIMES.get()
    if times is not None:
        times.append(kept[1])
    return kept[0]


def _ended(parts: tuple) -> bool:
    """Whether every day of `parts` (a snapshot's day, a period's first and last) has ended."""
    days = [part for part in parts if isinstance(part, date)]
    return bool(days) and max(days) < timezone.localdate()


def not_counted(kind: str, parts: tuple, compute: Callable[[], Any], key: str) -> Any:
    """What a reader gets for figures that are not kept: never a count (a test of the figures
    themselves may count them here first, as the background count would)."""
    raise NotCounted(kind)


# --- Counting --------------------------------------------------------------------------------


def job_name(report: str, *days: date | int) -> str:
    return ":".join([report, *(str(d) for d in days)])


def queue_count(report: str, *args: str | int) -> bool:
    """Queue the count of `report` (reports.tasks.count_figures_task's arguments) unless one is
    already queued or running: at most one queued per report and days, however many readers
    ask. Returns whether it was queued now."""
    from reports.tasks import count_figures_task

    cache = figures_cache()
    marker = "reports:queued:" + job_name(report, *args)
    if not unless_cache_down(lambda: cache.add(marker, 1, QUEUED_SECONDS), otherwise=False):
        return False
    try:
        count_figures_task.delay(report, *args)
    except (KombuError, OSError) as error:
        logger.warning("report count not queued (%s): %s", type(error).__name__, report)
        unless_cache_down(lambda: cache.delete(marker), otherwise=None)
        return False
    return True


@contextmanager
def counting_once(report: str, *args: str | int, past_days_too: bool = False) -> Iterator[bool]:
    """Inside the block, whether this count holds the lock of `report` and days (False: one is
    already running, or the cache cannot be reached to keep what would be counted). The lock
    and the queued marker are given back at the end."""
    name = job_name(report, *args)
    lock = "reports:counting:" + name
    cache = figures_cache()
    held = unless_cache_down(lambda: cache.add(lock, 1, LOCK_SECONDS), otherwise=False)
    try:
        if held:
            with counting(past_days_too=past_days_too):
                yield True
        else:
            yield False
    finally:
        if held:
            unless_cache_down(
                lambda: cache.delete_many([lock, "reports:queued:" + name]), otherwise=None
            )
