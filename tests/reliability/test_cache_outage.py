"""A cache outage slows pages down and never breaks them (issue 16, item 3).

The cache is its own Redis in production (docker-compose `cache`). Here a real Django RedisCache
points at a port where nothing listens, as it would with that container stopped: the register
list, the dashboard, the escalation queue, a report and the public forms must answer as usual,
with figures counted in the database, and the logs must hold one warning, not tracebacks. The
public forms' rate limiter then counts in each web process's memory (docs/adr/0003).
"""

import logging
import socket
from contextlib import contextmanager
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from dsr.models import RegisterEntry
from dsr.roles import Role
from escalation.services import escalation_raise
from referrals.models import Referral
from tests.conftest import account, signed_in_client
from tests.referrals.helpers import answers_for, step_url, submit, token_from, walk

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

LIST = reverse("dsr:register-list")
DASHBOARD = reverse("dsr:register-dashboard")
QUEUE = reverse("escalation:queue")
SNAPSHOT = reverse("reports:snapshot")


def _closed_port() -> int:
    """A port on this machine where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _cache_down():
    """Kept figures switched on, on a Redis cache that cannot be reached."""
    unreachable = f"redis://127.0.0.1:{_closed_port()}/0"
    unreachable_caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": unreachable,
            "KEY_PREFIX": "dsr",
            "OPTIONS": settings.CACHES["default"].get("OPTIONS", {}),
        }
    }
    with (
        override_settings(
            CACHES=unreachable_caches,
            DSR_LIST_COUNT_CACHE_SECONDS=600,
            DSR_DASHBOARD_CACHE_SECONDS=600,
        ),
        # The counted report figures are in the same cache, out of reach too.
        mock.patch("reports.counting.figures_cache", lambda: caches["default"]),
    ):
        yield


@pytest.fixture
def cache_down():
    with _cache_down():
        yield


def _figures(staff: Client) -> dict[str, int]:
    return {
        "register": staff.get(LIST).context["page"].total,
        "amber": staff.get(LIST, {"rating": "AMBER"}).context["page"].total,
        "dashboard": staff.get(DASHBOARD).context["board"].total,
        "queue": staff.get(QUEUE).context["page"].total,
    }


def _no_tracebacks(caplog) -> None:
    assert [r for r in caplog.records if r.exc_info or r.exc_text] == []


def _cache_warnings(caplog) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "cache cannot be reached" in r.getMessage()
    ]


def test_staff_pages_count_in_the_database_while_the_cache_is_down(
    make_person, organisations, caplog
):
    red = make_person("RED")
    make_person("AMBER")
    make_person("GREEN", area="south")
    escalation_raise(reason="by_hand", trigger_type="test", trigger_id=1, person=red, level=2)
    staff = signed_in_client(account(organisations["icb"], Role.REGISTER_STAFF))
    commissioner = signed_in_client(account(organisations["icb"], Role.PLANNING_COMMISSIONER))
    # Counted on every request with the cache up (the test settings keep nothing).
    expected = _figures(staff)
    assert commissioner.get(SNAPSHOT).context["tables"][0].total.value == 3
    assert RegisterEntry.objects.filter(status=RegisterEntry.Status.OPEN).count() == 3
    assert expected["register"] == expected["dashboard"] == 3
    assert expected["amber"] == 1
    caplog.set_level(logging.INFO)

    with _cache_down():
        pages = [staff.get(LIST), staff.get(DASHBOARD), staff.get(QUEUE)]
        report = commissioner.get(SNAPSHOT)
        during = _figures(staff)

    assert [page.status_code for page in pages] == [200] * 3
    assert during == expected
    # The report's figures are counted only in the background and kept in the cache: with the
    # cache out of reach the page says so at once, and counts nothing while the reader waits.
    assert report.status_code == 503
    assert "These figures cannot be shown just now" in report.content.decode()
    # One line saying what happened, however many figures could not be kept.
    _no_tracebacks(caplog)
    assert len(_cache_warnings(caplog)) == 1


def test_a_change_made_while_the_cache_is_down_is_saved_and_counted(
    make_person, clerk, cache_down, caplog, django_capture_on_commit_callbacks
):
    make_person("RED")
    client = signed_in_client(clerk)
    assert client.get(LIST).context["page"].total == 1
    with django_capture_on_commit_callbacks(execute=True):
        make_person("AMBER")

    assert client.get(LIST).context["page"].total == 2
    # The generation could not move on: said once as a warning, with no traceback.
    _no_tracebacks(caplog)
    assert len(_cache_warnings(caplog)) == 1


def test_a_public_referral_is_sent_while_the_cache_is_down(areas, cache_down, caplog):
    client = Client()
    answers = answers_for("self", areas["north"].pk)

    who = client.post(reverse("referrals:who"), {"who": "self"})
    walk(client, "self", answers)
    done = submit(client, token_from(client))

    assert who.status_code == 302
    assert done.status_code == 302
    assert done["Location"] == reverse("referrals:confirmation")
    assert Referral.objects.count() == 1
    _no_tracebacks(caplog)
    assert len(_cache_warnings(caplog)) == 1


def test_the_rate_limit_still_holds_in_each_process_while_the_cache_is_down(
    areas, cache_down, caplog
):
    """docs/adr/0003: with the shared counters out of reach, each web process counts in its
    own memory, so a client is still refused past the limit (the limit times the number of
    processes, at worst), never let through without end, and never shown an error."""
    answers = answers_for("self", areas["north"].pk)
    client = Client()
    with override_settings(REFERRAL_POSTS_PER_HOUR=2):
        statuses = [
            client.post(step_url("self", "about-you"), answers["about-you"]).status_code
            for _ in range(4)
        ]
        elsewhere = Client(REMOTE_ADDR="203.0.113.9").post(
            step_url("self", "about-you"), answers["about-you"]
        )

    assert statuses == [302, 302, 429, 429]
    assert elsewhere.status_code == 302
    _no_tracebacks(caplog)
    assert len(_cache_warnings(caplog)) == 1
