"""A routine refusal is one line in the log; an error keeps its traceback (issue 16, item 8b).

Django logs a PermissionDenied with the exception attached, so every 403 (a referrer opening a
report, a stale bookmark) wrote a full traceback, burying the errors that need one.
"""

import io
import logging

import pytest
from django.test import Client
from django.urls import reverse

from dsr import services
from dsr.roles import Role
from tests.conftest import account, signed_in_client

pytestmark = pytest.mark.django_db

REQUEST_LOGGERS = ("django.request", "django.security")


def _request_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(REQUEST_LOGGERS)]


@pytest.fixture
def console():
    """What the configured console handler (settings.LOGGING) writes during the test."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield stream
    handler.setStream(old)


def test_a_forbidden_page_is_logged_as_one_line_without_a_traceback(organisations, caplog, console):
    referrer = signed_in_client(account(organisations["trust"], Role.PROFESSIONAL_REFERRER))

    response = referrer.get(reverse("reports:snapshot"))

    assert response.status_code == 403
    (record,) = _request_records(caplog)
    assert record.name == "django.request"
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "Forbidden (Permission denied): /reports/register/"
    assert record.exc_info is None
    assert record.exc_text is None
    written = console.getvalue()
    assert "Forbidden (Permission denied)" in written
    assert "Traceback" not in written
    assert "PermissionDenied" not in written


def test_a_form_without_its_security_token_is_logged_as_one_line_without_a_traceback(
    areas, caplog, console
):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(reverse("referrals:who"), {"who": "self"})

    assert response.status_code == 403
    (record,) = _request_records(caplog)
    assert record.name == "django.security.csrf"
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("Forbidden (CSRF cookie not set.)")
    assert record.exc_info is None
    assert "Traceback" not in console.getvalue()


def test_an_error_is_still_logged_with_its_traceback(
    organisations, make_person, caplog, console, monkeypatch, frozen_now
):
    def broken(**kwargs):
        raise RuntimeError("the rating store is unavailable")

    monkeypatch.setattr(services, "rating_change", broken)
    person = make_person("GREEN")
    staff = signed_in_client(account(organisations["icb"], Role.REGISTER_STAFF))
    staff.raise_request_exception = False

    response = staff.post(
        reverse("dsr:person-rating", kwargs={"pk": person.pk}),
        {
            "rating": "RED",
            "rationale": "Placement breaking down.",
            "effective_from_day": "10",
            "effective_from_month": "3",
            "effective_from_year": "2026",
        },
    )

    assert response.status_code == 500
    (record,) = _request_records(caplog)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError
    assert "Traceback" in console.getvalue()
