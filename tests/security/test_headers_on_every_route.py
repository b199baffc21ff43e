"""HSTS on every response over HTTPS, and no caching of any signed-in response (RELIABILITY F-2;
ASVS v5.0.0-3.4.1, 14.3.2). tests/test_security_headers.py checks CSP and the other headers."""

import re

import pytest
from django.conf import settings

from tests.conftest import ROLE_PERSONAS
from tests.figures import record
from tests.security.support import sweep_personas
from tests.test_route_matrix import MATRIX

ONE_YEAR = 31_536_000
SIGNED_IN = {"password_only", *ROLE_PERSONAS}


def _hsts_problem(value: str | None) -> str | None:
    if not value:
        return "no Strict-Transport-Security"
    age = re.search(r"max-age=(\d+)", value)
    if not age or int(age.group(1)) < ONE_YEAR:
        return f"HSTS max-age under a year: {value!r}"
    if "includesubdomains" not in value.lower():
        return f"HSTS without includeSubDomains: {value!r}"
    return None


@pytest.mark.django_db  # pytest-django sets up only the databases tests ask for: route_sweep
def test_every_route_over_https_sends_hsts_and_no_signed_in_answer_is_stored(route_sweep):
    """Each route's answer to a GET over HTTPS, from the one sweep of the matrix
    (tests/security/sweep.py)."""
    assert settings.DEBUG is False  # the production branch of dsr/settings.py
    problems = []
    hsts_checked = no_store_checked = 0
    for name, row in MATRIX.items():
        # Everyone the view answers, a visitor, a password-only session and a refused role:
        # pages, redirects to sign in and refusals alike.
        for persona in sweep_personas(row):
            response = route_sweep.gets[name, persona]
            where = f"{name} as {persona}"
            hsts_checked += 1
            if problem := _hsts_problem(response.get("Strict-Transport-Security")):
                problems.append(f"{where}: {problem}")
            if persona in SIGNED_IN:
                no_store_checked += 1
                directives = {
                    part.strip().lower()
                    for part in response.get("Cache-Control", "").split(",")
                    if part.strip()
                }
                if "no-store" not in directives:
                    problems.append(f"{where}: Cache-Control is {response.get('Cache-Control')!r}")

    assert problems == []
    record("F-2 responses over HTTPS checked for HSTS (1 year, subdomains)", hsts_checked)
    record("F-2 signed-in responses checked for Cache-Control no-store", no_store_checked)


@pytest.mark.django_db
def test_hsts_is_sent_only_over_https(personas):
    """Browsers ignore HSTS over plain HTTP; the header there would only mislead a scan."""
    client = personas["clients"]["anonymous"]

    assert "Strict-Transport-Security" not in client.get("/")
    assert _hsts_problem(client.get("/", secure=True).get("Strict-Transport-Security")) is None
