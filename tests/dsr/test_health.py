"""Health: the web container's readiness (/health/), the background processes for a monitoring
probe (/health/background/), details for staff only, and the staff's service status page."""

from datetime import timedelta

import pytest
from django.urls import reverse

from dsr.celery import StampingScheduler
from dsr.celery import app as celery_app
from dsr.models import Heartbeat
from dsr.roles import Role
from dsr.tasks import record_heartbeat_task
from tests.conftest import account, signed_in_client

pytestmark = pytest.mark.django_db

HEALTH = reverse("health")
BACKGROUND = reverse("health-background")
STATUS = reverse("dsr:service-status")


@pytest.fixture
def staff_client(organisations):
    return signed_in_client(account(organisations["icb"], Role.REGISTER_STAFF))


def _beat_sends(scheduler_entry_name: str = "deliver-notifications") -> None:
    """Beat sending one scheduled task, as it does every 30 seconds (the broker is real)."""
    scheduler = StampingScheduler(app=celery_app, lazy=True)
    scheduler.setup_schedule = lambda: None
    entry = scheduler.Entry(
        name=scheduler_entry_name,
        task="dsr.tasks.record_heartbeat_task",
        schedule=timedelta(seconds=30),
        app=celery_app,
    )
    scheduler.apply_entry(entry, producer=None)


def test_readiness_is_200_with_no_details_for_the_public(client):
    response = client.get(HEALTH)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_details_are_for_staff(staff_client):
    body = staff_client.get(HEALTH).json()

    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    assert body["broker_transport"] == "redis"
    assert set(body["background"]) == {"worker", "scheduler"}


def test_details_are_not_for_a_role_without_the_register_or_accounts(organisations):
    commissioner = signed_in_client(account(organisations["icb"], Role.PLANNING_COMMISSIONER))

    assert commissioner.get(HEALTH).json() == {"status": "ok"}
    assert commissioner.get(BACKGROUND).json() == {"status": "unavailable"}


def test_readiness_answers_503_when_the_broker_is_down(client, staff_client, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "broker_write_url", "redis://127.0.0.1:1/0")

    response = client.get(HEALTH)

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert staff_client.get(HEALTH).json()["checks"]["broker"] == "unavailable"


def test_a_stopped_worker_or_scheduler_fails_the_probe_but_not_readiness(
    client, staff_client, frozen_now
):
    assert client.get(BACKGROUND).status_code == 503  # neither seen yet

    record_heartbeat_task()  # a worker ran the heartbeat task
    body = staff_client.get(BACKGROUND).json()
    assert body["background"]["worker"]["status"] == "ok"
    assert body["background"]["scheduler"]["status"] == "unknown"
    assert client.get(BACKGROUND).status_code == 503

    _beat_sends()  # beat stamps when it sends, whether or not a worker runs the task
    assert client.get(BACKGROUND).status_code == 200

    frozen_now.shift(timedelta(minutes=4))
    _beat_sends()  # beat still sending; no worker has run anything since
    frozen_now.shift(timedelta(minutes=2))
    response = staff_client.get(BACKGROUND)
    assert response.status_code == 503
    assert response.json()["background"]["worker"]["status"] == "stale"
    assert response.json()["background"]["scheduler"]["status"] == "ok"
    assert client.get(HEALTH).status_code == 200  # the web container stays ready


def test_the_scheduler_stamps_at_most_every_30_seconds(frozen_now, django_assert_num_queries):
    scheduler = StampingScheduler(app=celery_app, lazy=True)
    entry = scheduler.Entry(
        name="heartbeat",
        task="dsr.tasks.record_heartbeat_task",
        schedule=timedelta(seconds=30),
        app=celery_app,
    )
    scheduler.apply_entry(entry, producer=None)
    first = Heartbeat.objects.get(name="scheduler").last_seen_at
    frozen_now.shift(timedelta(seconds=5))
    with django_assert_num_queries(0):
        scheduler.apply_entry(entry, producer=None)

    assert Heartbeat.objects.get(name="scheduler").last_seen_at == first


def test_the_service_status_page_says_which_part_has_stopped(staff_client, frozen_now):
    record_heartbeat_task()
    _beat_sends()
    frozen_now.shift(timedelta(minutes=10))
    _beat_sends()

    page = staff_client.get(STATUS).content.decode()

    assert "<h1>Service status</h1>" in page
    worker_row = page.split("A worker", 1)[1].split("</tr>", 1)[0]
    scheduler_row = page.split("The scheduler", 1)[1].split("</tr>", 1)[0]
    assert "Stopped" in worker_row and "Working" in scheduler_row
    assert "10 March 2026, 09:30" in worker_row
