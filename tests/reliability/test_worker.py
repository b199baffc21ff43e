"""A real Celery worker (celery.contrib.testing) on the real Redis broker runs the deadline sweep
and the outbox delivery end to end (issue 5, "Must show")."""

import uuid
from datetime import timedelta

import pytest
from celery.signals import task_postrun
from django.conf import settings
from django.core import mail
from django.utils import timezone

from dsr.models import Notification, Reminder
from dsr.tasks import deliver_notifications_task
from escalation.models import Escalation
from referrals.models import Referral
from referrals.tasks import sweep_referral_deadlines_task
from tests.referrals.factories import ReferralFactory
from tests.reliability.conftest import celery_settings, decided_referral, wait_for

# A Redis database of its own on the shared server, and a key prefix of this run's own, so two
# runs at once (or the rest of the project) never take each other's tasks. Only this run's keys
# are deleted afterwards; nothing is flushed.
BROKER = "redis://127.0.0.1:6379/9"
PREFIX = f"dsr-reliability-{uuid.uuid4().hex[:12]}:"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_on_redis():
    """An in-process worker consuming from BROKER; yields the (task name, state) of each task it
    finishes. The app's broker and connection pools are put back afterwards."""
    import redis
    from celery.contrib.testing.worker import start_worker

    from dsr.celery import app

    with redis.Redis.from_url(BROKER, socket_timeout=5) as client:
        client.ping()  # fail now, not hang in start_worker, if Redis is not there
    amqp = app.amqp
    saved = (app._pool, amqp._producer_pool)
    app._pool = None
    amqp._producer_pool = None
    on_broker = celery_settings(
        app,
        broker_url=BROKER,
        broker_transport_options={"global_keyprefix": PREFIX},
        worker_hijack_root_logger=False,  # leave pytest's log capture alone
    )
    finished: list[tuple[str, str]] = []

    def on_postrun(task=None, state=None, **kwargs):
        finished.append((task.name, state))

    task_postrun.connect(on_postrun, weak=False)
    try:
        with (
            on_broker,
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30),
        ):
            yield finished
    finally:
        task_postrun.disconnect(on_postrun)
        # No force_close_all: kombu keeps one pool per broker URL for the whole process.
        app._pool, amqp._producer_pool = saved
        with redis.Redis.from_url(BROKER, socket_timeout=5) as client:
            for key in client.scan_iter(match=f"{PREFIX}*"):
                client.delete(key)


def test_a_real_worker_sweeps_an_overdue_referral_and_delivers_the_reminder(areas, worker_on_redis):
    # Made by the factory, not received through intake: no acknowledgement is waiting to be
    # sent, so the breach reminder is the one message.
    referral = ReferralFactory(local_authority=areas["north"], given_name="Overdue")
    Referral.objects.filter(pk=referral.pk).update(
        decision_due=timezone.localdate() - timedelta(days=3)
    )

    sweep_referral_deadlines_task.delay()

    sent = wait_for(
        lambda: Notification.objects.filter(subject_id=referral.pk, status="sent").first(),
        timeout=60,
        what="the breach reminder to be sent",
    )
    assert (sent.kind, sent.recipient_key) == ("referral_breach", "team")
    assert list(Reminder.objects.values_list("subject_id", "stage")) == [(referral.pk, "breach")]
    escalation = Escalation.objects.get()
    assert (escalation.reason, escalation.trigger_id) == ("referral_overdue", referral.pk)
    assert Notification.objects.count() == 1
    assert [message.to for message in mail.outbox] == [[settings.DSR_TEAM_EMAIL]]
    assert referral.reference in mail.outbox[0].body + mail.outbox[0].subject
    # The sweep ran in the worker and enqueued the delivery there, after its commit. (The
    # delivery task is recorded when it returns, a moment after the row it sent is marked sent.)
    assert ("referrals.tasks.sweep_referral_deadlines_task", "SUCCESS") in worker_on_redis
    assert wait_for(
        lambda: ("dsr.tasks.deliver_notifications_task", "SUCCESS") in worker_on_redis,
        timeout=10,
        what="the delivery task to finish",
    )


def test_a_real_worker_delivers_each_outcome_once(areas, staff, worker_on_redis):
    # The decision queues its own delivery task once it commits.
    referral = decided_referral(areas, staff, "Decided")
    rows = list(Notification.objects.filter(subject_id=referral.pk))
    assert len(rows) == 2

    wait_for(
        lambda: Notification.objects.filter(status="sent").count() == len(rows),
        timeout=60,
        what="both outcome messages to be sent",
    )
    deliver_notifications_task.delay()  # again, as the next beat tick would: nothing to send
    wait_for(lambda: len(worker_on_redis) == 2, timeout=60, what="the second delivery task")

    assert worker_on_redis == [("dsr.tasks.deliver_notifications_task", "SUCCESS")] * 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(row.email for row in rows)
    assert Notification.objects.filter(status="sent", sent_at__isnull=False).count() == 2
