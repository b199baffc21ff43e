"""Per-address and per-session rate limits kept on the shared cache, so every web process counts
together (RELIABILITY C-5: a client that changes address but keeps its session, as a public
journey must, is still counted as one).

Fixed windows aligned to the clock: each address has one counter per scope and window, created
with `cache.add` (which only one process can win) and raised with `cache.incr` (atomic on Redis,
and under a lock in the local-memory cache the tests use). The address comes from
`axes.helpers.get_client_ip_address`, which honours the trusted-proxy settings, and is hashed
before it goes into a cache key, so the cache holds no addresses; so is the session key.
"""

import hashlib
import logging

from axes.helpers import get_client_ip_address
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

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


def _count(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:
        # The key expired between add and incr: this request starts the window again.
        cache.add(key, 1, timeout=timeout)
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
    count = _count(f"ratelimit:{scope}:{client_fingerprint(request)}:{window}", timeout)
    session = session_fingerprint(request)
    if session is not None:
        count = max(count, _count(f"ratelimit:{scope}:s:{session}:{window}", timeout))
    if count > limit:
        if count == limit + 1:
            logger.warning("rate limit reached scope=%s limit=%s", scope, limit)
        return False
    return True


def within_limit(request: HttpRequest, *, scope: str, setting: str, default: int) -> bool:
    """`hit` with the limit read from the setting named `setting` (per hour)."""
    from django.conf import settings

    return hit(request, scope=scope, limit=getattr(settings, setting, default))


def too_many(request: HttpRequest, template: str) -> HttpResponse:
    """The "too many" page: 429 with Retry-After, so well-behaved clients wait for the window."""
    from django.shortcuts import render

    response = render(request, template, status=429)
    response["Retry-After"] = str(HOUR)
    return response
