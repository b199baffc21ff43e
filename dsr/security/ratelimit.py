"""Per-address and per-session rate limits kept on the shared cache, so every web process counts
together (RELIABILITY C-5: a client that changes address but keeps its session, as a public
journey must, is still counted as one).

Fixed windows aligned to the clock: each address has one counter per scope and window. On Redis
(production) both of a request's counters are raised in one round trip: INCR, atomic, makes a
missing counter at 1, and EXPIRE NX gives it its timeout only when it has none. Elsewhere (the
local-memory cache of the embedded run) a counter is created with `cache.add` (which only one
process can win) and raised with `cache.incr` (under a lock). The address comes from
`axes.helpers.get_client_ip_address`, which honours the trusted-proxy settings, and is hashed
before it goes into a cache key, so the cache holds no addresses; so is the session key.

While the cache cannot be reached, each web process counts in its own memory (docs/adr/0003):
the limit still holds, multiplied at worst by the number of processes, and nobody is shown an
error page or turned away because the cache is down.
"""

import hashlib
import logging
from functools import cache as once

import redis
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dsr.caching import unless_cache_down

logger = logging.getLogger(__name__)

HOUR = 3600


def client_fingerprint(request: HttpRequest) -> str:
    """A short, one-way hash of the client's address (or of "unknown" when there is none)."""
    address = get_client_ip_address(request) or "unknown"
    return hashlib.sha256(address.encode()).hexdigest()[:24]


def session_fingerprint(request: HttpRequest) -> str | None:
    """A short, one-way hash of the request's session key, or None when it has no session yet."""
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if not key:
        return None
    return hashlib.sha256(f"session:{key}".encode()).hexdigest()[:24]


# The counters of this process alone, for while the shared cache cannot be reached.
_in_this_process = LocMemCache("dsr-ratelimit-outage", {"OPTIONS": {"MAX_ENTRIES": 10_000}})

# Options of Django's Redis client that are not options of a redis-py connection.
_DJANGO_ONLY_OPTIONS = ("serializer", "pool_class", "parser_class")


@once
def _redis() -> redis.Redis | None:
    """A client of the cache's Redis server, or None when the cache is not Redis. It takes the
    cache's connection options (its timeouts) too."""
    default = settings.CACHES["default"]
    if not default["BACKEND"].endswith(".RedisCache"):
        return None
    options = default.get("OPTIONS", {})
    return redis.Redis.from_url(
        default["LOCATION"],
        **{name: value for name, value in options.items() if name not in _DJANGO_ONLY_OPTIONS},
    )


@receiver(setting_changed)
def _new_cache(*, setting: str, **kwargs: object) -> None:
    if setting == "CACHES":
        _redis.cache_clear()
        _in_this_process.clear()


def _counts(keys: list[str], timeout: int) -> list[int]:
    """Raise each counter by one (a new one starts at 1 and lasts `timeout` seconds): on the
    shared cache, or in this process while the shared cache cannot be reached."""
    counted = unless_cache_down(lambda: _shared_counts(keys, timeout), otherwise=None)
    if counted is None:
        return [_count(_in_this_process, key, timeout) for key in keys]
    return counted


def _shared_counts(keys: list[str], timeout: int) -> list[int]:
    client = _redis()
    if client is None:
        return [_count(cache, key, timeout) for key in keys]
    pipe = client.pipeline(transaction=False)
    for key in keys:
        # The cache's own key (prefix and version), so clearing the cache clears the counters.
        full = cache.make_and_validate_key(key)
        pipe.incr(full)
        pipe.expire(full, timeout, nx=True)
    return pipe.execute()[0::2]


def _count(counters: BaseCache, key: str, timeout: int) -> int:
    counters.add(key, 0, timeout=timeout)
    try:
        return counters.incr(key)
    except ValueError:
        # The key expired between add and incr: this request starts the window again.
        counters.add(key, 1, timeout=timeout)
        return 1


def hit(request: HttpRequest, *, scope: str, limit: int, window_seconds: int = HOUR) -> bool:
    """Count one request from this client against `scope`, by address and by session.

    Returns True while both counts in the current window are at most `limit`, and False for
    every request past it until the window ends. Every call counts, allowed or not, so a client
    that keeps trying stays refused.
    """
    window = int(timezone.now().timestamp()) // window_seconds
    # The counter outlives its window slightly so a clock edge never resets it early.
    timeout = window_seconds + 60
    keys = [f"ratelimit:{scope}:{client_fingerprint(request)}:{window}"]
    session = session_fingerprint(request)
    if session is not None:
        keys.append(f"ratelimit:{scope}:s:{session}:{window}")
    count = max(_counts(keys, timeout))
    if count > limit:
        if count == limit + 1:
            logger.warning("rate limit reached scope=%s limit=%s", scope, limit)
        return False
    return True


def within_limit(request: HttpRequest, *, scope: str, setting: str) -> bool:
    """`hit` with the limit read from the setting named `setting` (per hour, from the
    environment: .env.example)."""
    return hit(request, scope=scope, limit=getattr(settings, setting))


def too_many(request: HttpRequest, template: str) -> HttpResponse:
    """The "too many" page: 429 with Retry-After, so well-behaved clients wait for the window."""
    from django.shortcuts import render

    response = render(request, template, status=429)
    response["Retry-After"] = str(HOUR)
    return response
