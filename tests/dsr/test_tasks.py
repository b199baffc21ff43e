from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from dsr.models import Heartbeat
from dsr.tasks import purge_expired_sessions_task, record_heartbeat_task

pytestmark = pytest.mark.django_db


def test_heartbeat_task_records_one_row_and_moves_it_on(frozen_now):
    record_heartbeat_task()
    first = Heartbeat.objects.get(name="worker").last_seen_at
    frozen_now.shift(timedelta(minutes=1))

    record_heartbeat_task()

    assert Heartbeat.objects.count() == 1
    assert Heartbeat.objects.get(name="worker").last_seen_at - first == timedelta(minutes=1)


def test_purge_removes_expired_sessions_only():
    for expiry in (timedelta(minutes=-5), timedelta(minutes=5)):
        store = SessionStore()
        store["x"] = 1
        store.set_expiry(timezone.now() + expiry)
        store.save()

    assert purge_expired_sessions_task() == 1
    assert Session.objects.count() == 1
    assert Session.objects.get().expire_date > timezone.now()


def test_beat_schedule_names_real_tasks():
    from django.conf import settings

    from dsr.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
