"""Tokens given out once (in an email's link, on the page that issues them) and kept only as a
digest, by which a page or a call that carries one finds its row.

The digest is SHA-256, unsalted: every token carries 256 bits of randomness, or of an HMAC keyed
with the secret key, so it cannot be worked back from its digest, and the lookup is one indexed
equality. A token made from the secret key (an invitation's, an action link's) is made again when
its email is sent, with the current key or a fallback after a rotation (`made_again`).
"""

import hashlib
import hmac
import re
import secrets
from typing import TypeVar

from django.conf import settings
from django.db.models import Model, QuerySet
from django.utils.crypto import salted_hmac

# A token made by `keyed`: 64 hex characters.
KEYED = re.compile(r"[0-9a-f]{64}")

M = TypeVar("M", bound=Model)


def digest(raw: str) -> str:
    """The stored form of a token: its SHA-256, in hex."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token(start: str = "") -> tuple[str, str]:
    """A new random token (256 bits, after `start`) and its digest."""
    raw = start + secrets.token_urlsafe(32)
    return raw, digest(raw)


def keyed(salt: str, value: str, secret: str | None = None) -> str:
    """A token made from `value` and the secret key (or `secret`): 64 hex characters."""
    secret = settings.SECRET_KEY if secret is None else secret
    return salted_hmac(salt, value, secret=secret, algorithm="sha256").hexdigest()


def made_again(salt: str, value: str, stored: str) -> str | None:
    """The token `keyed` made from `value` whose digest is `stored`, with the secret key or one
    of SECRET_KEY_FALLBACKS (a key rotated since it was made); None when no key gives it."""
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        raw = keyed(salt, value, secret)
        if hmac.compare_digest(digest(raw), stored):
            return raw
    return None


def find(rows: QuerySet[M], raw: str, *, field: str, shape: re.Pattern | None = None) -> M | None:
    """The row of `rows` whose `field` holds the digest of `raw`; None when none does, or (with
    no query) when `raw` is not of `shape`."""
    if shape is not None and not shape.fullmatch(raw):
        return None
    return rows.filter(**{field: digest(raw)}).first()
