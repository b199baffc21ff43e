"""A-5: nothing reachable without signing in carries a guessable id or anyone's personal data.

The public routes are the route matrix's rows that answer an anonymous visitor: none of their URL
patterns takes an integer, and none of their pages shows any of the seeded people, referrals,
letters or contacts (each named with the sentinel)."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import SENTINEL
from tests.figures import record
from tests.test_route_matrix import MATRIX, SIGN_IN


def _patterns(resolver=None, prefix: str = "", namespace: str = "") -> dict[str, str]:
    """Each named route's full pattern text, by its namespaced name."""
    found: dict[str, str] = {}
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found |= _patterns(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern) and entry.name:
            found[f"{namespace}{entry.name}"] = prefix + str(entry.pattern)
    return found


def _public() -> list[str]:
    return sorted(
        name
        for name, row in MATRIX.items()
        if row.expect["anonymous"] != SIGN_IN and row.expect["anonymous"] not in (403, 404)
    )


def test_no_public_route_takes_an_integer_id():
    patterns = _patterns()
    public = _public()
    with_ids = [name for name in public if "<int:" in patterns[name] or "(?P<pk>" in patterns[name]]
    assert public, "the matrix has public rows"
    assert with_ids == []
    record("A-5 public routes / with an integer id", f"{len(public)} / {len(with_ids)}")


@pytest.mark.django_db
def test_no_public_page_shows_anyones_personal_data(personas, matrix_objects):
    anonymous = personas["clients"]["anonymous"]
    shown = []
    for name in _public():
        row = MATRIX[name]
        response = getattr(anonymous, row.method)(row.url(name, matrix_objects))
        if SENTINEL.encode() in response.content:
            shown.append(name)
    assert shown == []
    record("A-5 public pages showing personal data", len(shown))
