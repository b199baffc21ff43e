"""Per-address rate limits kept on the shared cache, so every web process counts together.

Fixed windows aligned to the clock: each address has one counter per scope and window, created
with `cache.add` (which only one process can win) and raised with `cache.incr` (atomic on Redis,
and under a lock in the local-memory cache the tests use). The address comes from
`axes.helpers.get_client_ip_address`, which honours the trusted-proxy settings, and is hashed
before it goes into a cache key, so the cache holds no addresses.
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


def hit(request: HttpRequest, *, scope: str, limit: int, window_seconds: int = HOUR) -> bool:
    """Count one request from this client against `scope`.

    Returns True while the count in the current window is at most `limit`, and False for every
    request past it until the window ends. Every call counts, allowed or not, so a client that
    keeps trying stays refused.
    """
    window = int(timezone.now().timestamp()) // window_seconds
    key = f"ratelimit:{scope}:{client_fingerprint(request)}:{window}"
    # The counter outlives its window slightly so a clock edge never resets it early.
    timeout = window_seconds + 60
    cache.add(key, 0, timeout=timeout)
    try:
        count = cache.incr(key)
    except ValueError:
        # The key expired between add and incr: this request starts the window again.
        cache.add(key, 1, timeout=timeout)
        count = 1
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
