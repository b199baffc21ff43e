"""Figures counted over the whole register, kept for a short while (PERFORMANCE.md T7): the
dashboard's headline counts and the reports. Kept per scope (the areas the user's organisation
covers) and per filters, so nobody sees counts from areas they could not see."""

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from dsr.scoping import local_authority_ids_for


def kept_for_a_while(
    kind: str, user: Any, parts: tuple, compute: Callable[[], Any], seconds: int
) -> tuple[Any, datetime]:
    """`compute()`'s value and when it was computed: computed once and kept for `seconds` for
    everyone with the same scope and `parts` (0 seconds: computed every time)."""
    if not seconds:
        return compute(), timezone.now()
    scope = ",".join(str(pk) for pk in sorted(local_authority_ids_for(user)))
    key = "kept:" + hashlib.sha256(repr((kind, scope, parts)).encode()).hexdigest()
    kept = cache.get(key)
    if kept is None:
        kept = (compute(), timezone.now())
        cache.set(key, kept, seconds)
    return kept
