"""Keyset paging links shared by every list page: the cursor, and the filters to carry on."""

import re
from collections.abc import Iterable

from django.http import HttpRequest, QueryDict

_CURSOR = re.compile(r"[0-9]{1,18}")


def cursor_from(request: HttpRequest) -> int | None:
    """The `after` row id, or None when absent or not a plain number."""
    raw = request.GET.get("after", "")
    return int(raw) if _CURSOR.fullmatch(raw) else None


def query_of(request: HttpRequest, names: Iterable[str], **extra: str) -> str:
    """The query string of the fields `names` only (nothing else a visitor added), plus
    `extra`. Used for the next, first-page and export links."""
    query = QueryDict(mutable=True)
    for name in names:
        values = [v for v in request.GET.getlist(name) if v != ""]
        if values:
            query.setlist(name, values)
    for name, value in extra.items():
        query[name] = value
    return query.urlencode()
