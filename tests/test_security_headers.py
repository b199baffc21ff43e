"""Content Security Policy and the other security headers, on every route of the matrix."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.figures import record
from tests.test_route_matrix import MATRIX

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_CSP = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
]


def _csp(response) -> dict[str, str]:
    header = response.get("Content-Security-Policy", "")
    parts = [part.strip() for part in header.split(";") if part.strip()]
    return {part.split(" ", 1)[0]: part for part in parts}


@pytest.mark.django_db  # pytest-django sets up only the databases tests ask for: route_sweep
def test_every_route_answers_with_the_content_security_policy_and_security_headers(route_sweep):
    """Every route's answer to a GET over HTTPS, from the one sweep of the matrix
    (tests/security/sweep.py), as a visitor, a password-only session and two roles."""
    checked = 0
    problems = []
    for persona in ("anonymous", "password_only", "administrator", "register_staff"):
        for name in MATRIX:
            response = route_sweep.gets[name, persona]
            checked += 1
            directives = _csp(response)
            for required in REQUIRED_CSP:
                if directives.get(required.split(" ")[0]) != required:
                    problems.append(f"{name} as {persona}: missing {required!r}")
            if "unsafe-inline" in response.get("Content-Security-Policy", ""):
                problems.append(f"{name} as {persona}: allows unsafe-inline")
            for header, value in [
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "same-origin"),
                ("X-Frame-Options", "DENY"),
                ("Cross-Origin-Opener-Policy", "same-origin"),
            ]:
                if response.get(header) != value:
                    problems.append(f"{name} as {persona}: {header} is {response.get(header)!r}")
            if "Permissions-Policy" not in response:
                problems.append(f"{name} as {persona}: no Permissions-Policy")
    record("F-2 responses checked for CSP and security headers", checked)
    assert problems == []


@pytest.mark.django_db
def test_signed_in_pages_are_never_cached(staff_client):
    response = staff_client.get(reverse("dsr:home"))

    assert "no-store" in response["Cache-Control"]


def test_no_template_has_inline_script_or_inline_style():
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag:
                offenders.append(f"{template.relative_to(ROOT)}: inline {tag}")
        if re.search(r"\sstyle=\"", text) or "<style" in text:
            offenders.append(f"{template.relative_to(ROOT)}: inline style")
        if re.search(r"\son[a-z]+=\"", text):
            offenders.append(f"{template.relative_to(ROOT)}: inline event handler")

    assert offenders == []
