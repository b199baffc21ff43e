"""List totals and the dashboard's counts are kept, but never outlive a change to what they
count (dsr.caching generations; PERFORMANCE.md T6): a committed change to the register, or an
escalation raised in SQL by a sweep, makes the next page count afresh."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dsr.models import RegisterEntry
from dsr.roles import Role
from dsr.services import register_close
from escalation.services import escalation_raise
from escalation.sweeps import escalation_rules_sweep
from tests.conftest import account, signed_in_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

LIST = reverse("dsr:register-list")
DASHBOARD = reverse("dsr:register-dashboard")
QUEUE = reverse("escalation:queue")


@pytest.fixture
def keeping(settings):
    settings.DSR_LIST_COUNT_CACHE_SECONDS = 600
    settings.DSR_DASHBOARD_CACHE_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


def _counts(sql: list[dict]) -> int:
    return sum(1 for q in sql if q["sql"].startswith("SELECT COUNT(*)"))


def test_the_register_total_is_kept_until_the_register_changes(
    make_person, clerk, keeping, django_capture_on_commit_callbacks
):
    make_person("RED")
    client = signed_in_client(clerk)
    assert client.get(LIST).context["page"].total == 1
    # Nothing changed: the total is not counted again.
    with CaptureQueriesContext(connection) as sql:
        assert client.get(LIST).context["page"].total == 1
    assert _counts(sql.captured_queries) == 0
    # A person added (and committed) is in the very next total, and the dashboard's counts.
    with django_capture_on_commit_callbacks(execute=True):
        second = make_person("AMBER")
    assert client.get(LIST).context["page"].total == 2
    assert client.get(LIST, {"rating": "AMBER"}).context["page"].total == 1
    assert client.get(DASHBOARD).context["board"].total == 2
    # Taken off the register: gone from the next total.
    entry = RegisterEntry.objects.get(person=second, status=RegisterEntry.Status.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        register_close(entry=entry, reason="moved_area", by=clerk)
    assert client.get(LIST).context["page"].total == 1
    assert client.get(DASHBOARD).context["board"].total == 1


def test_an_uncommitted_change_does_not_move_the_total_on(make_person, clerk, keeping):
    """The generation moves on only at commit: a page counted while a change is still open
    would otherwise keep the old total under the new generation."""
    make_person("RED")
    client = signed_in_client(clerk)
    assert client.get(LIST).context["page"].total == 1
    make_person("AMBER")  # inside the test's transaction: never committed
    assert client.get(LIST).context["page"].total == 1


def test_a_queue_total_is_kept_per_user(make_person, organisations, keeping):
    """Who is in an escalation queue depends on the user's role and level: two users with the
    same areas never share a kept total."""
    green = make_person("GREEN")
    escalation_raise(reason="by_hand", trigger_type="test", trigger_id=1, person=green, level=1)
    make_person("RED")
    staff = signed_in_client(account(organisations["north_council"], Role.REGISTER_STAFF))
    manager = signed_in_client(account(organisations["north_council"], Role.SENIOR_MANAGER_LA))
    # The register team's queue holds every live escalation; a level-1 one is below the
    # manager's level, so the manager's queue holds the Red person only.
    assert staff.get(QUEUE).context["page"].total == 2
    assert manager.get(QUEUE).context["page"].total == 1
    assert staff.get(QUEUE).context["page"].total == 2


def test_an_escalation_raised_by_a_sweep_in_sql_moves_the_queue_total_on(
    make_person, organisations, keeping, django_capture_on_commit_callbacks, settings
):
    """The rules sweep inserts escalations in SQL, which sends no signals: it says so itself."""
    staff = signed_in_client(account(organisations["north_council"], Role.REGISTER_STAFF))
    green = make_person("GREEN")
    assert staff.get(QUEUE).context["page"].total == 0
    entry = RegisterEntry.objects.get(person=green, status=RegisterEntry.Status.OPEN)
    # Green, with a rating review long overdue: the rules sweep raises an escalation for it.
    RegisterEntry.objects.filter(pk=entry.pk).update(
        rating_review_due=timezone.localdate() - datetime.timedelta(days=400)
    )
    with django_capture_on_commit_callbacks(execute=True):
        raised = escalation_rules_sweep()
    assert raised.get("rating_review_overdue"), raised
    assert staff.get(QUEUE).context["page"].total == 1


def _escalations_by_level(response) -> dict[int, int]:
    (panel,) = [
        p for p in response.context["panels"] if p.template == "escalation/includes/dashboard.html"
    ]
    return {row["level"]: row["total"] for row in panel.context["rows"]}


def test_the_dashboards_escalation_counts_are_kept_until_an_escalation_changes(
    make_person, clerk, keeping, django_capture_on_commit_callbacks
):
    person = make_person("RED")
    client = signed_in_client(clerk)
    assert _escalations_by_level(client.get(DASHBOARD))[2] == 0
    escalation_raise(reason="by_hand", trigger_type="test", trigger_id=2, person=person, level=2)
    # Not committed: the kept counts stand.
    assert _escalations_by_level(client.get(DASHBOARD))[2] == 0
    with django_capture_on_commit_callbacks(execute=True):
        escalation_raise(
            reason="by_hand", trigger_type="test", trigger_id=3, person=person, level=2
        )
    assert _escalations_by_level(client.get(DASHBOARD))[2] == 2


def test_a_change_is_saved_even_when_the_cache_cannot_be_reached(
    make_person, clerk, keeping, django_capture_on_commit_callbacks, monkeypatch
):
    """Moving a generation on runs after the commit: a cache that is down must not turn a
    saved change into an error page (the user would send it again)."""

    def down(*args, **kwargs):
        raise ConnectionError("the cache is down")

    monkeypatch.setattr("dsr.caching.cache.add", down)
    with django_capture_on_commit_callbacks(execute=True):
        person = make_person("RED")
    assert RegisterEntry.objects.filter(person=person, status="open").exists()
