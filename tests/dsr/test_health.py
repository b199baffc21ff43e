from datetime import timedelta

import pytest
from django.urls import reverse

from dsr.celery import app as celery_app
from dsr.tasks import record_heartbeat_task

pytestmark = pytest.mark.django_db

HEALTH = reverse("health")


def test_health_reports_database_and_broker_ok(client):
    response = client.get(HEALTH)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    assert body["broker_transport"] == "redis"


def test_health_answers_503_when_the_broker_is_down(client, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")

    response = client.get(HEALTH)

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "unavailable"


def test_health_reports_the_scheduler_heartbeat_and_when_it_goes_stale(client, frozen_now):
    assert client.get(HEALTH).json()["scheduler"]["status"] == "unknown"

    record_heartbeat_task()
    assert client.get(HEALTH).json()["scheduler"]["status"] == "ok"

    frozen_now.shift(timedelta(minutes=6))
    assert client.get(HEALTH).json()["scheduler"]["status"] == "stale"
