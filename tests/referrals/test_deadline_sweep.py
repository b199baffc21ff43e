"""The four-week deadline sweep and the delivery of the outbox (STYLE 6 to 8; RELIABILITY G)."""

import smtplib
import threading
import uuid
from datetime import date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection

from dsr.models import Notification, Reminder
from dsr.outbox.delivery import MAX_ATTEMPTS, claim, deliver_due, notification_mark_posted
from escalation.models import Escalation, EscalationTransition
from referrals.models import Referral
from referrals.services import referral_assign, referral_decide
from referrals.sweeps import referral_deadline_sweep
from tests.dsr.factories import UserFactory
from tests.figures import record
from tests.referrals.test_services import reviewed, submit

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
RECEIVED = datetime(2026, 3, 2, 10, 0, tzinfo=LONDON)  # due 30 March 2026


@pytest.fixture
def referral(areas, frozen_now):
    frozen_now.move_to(RECEIVED)
    return submit(areas)


def stages(referral):
    return sorted(Reminder.objects.filter(subject_id=referral.pk).values_list("stage", flat=True))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (13, []),
        (14, ["day14"]),
        (20, ["day14"]),
        (21, ["day21"]),
        (27, ["day27"]),
        (28, []),  # the due day itself is still on time
        (29, ["breach"]),
    ],
)
def test_each_stage_comes_due_on_its_day(referral, day, expected):
    assert referral.decision_due == date(2026, 3, 30)

    referral_deadline_sweep(today=RECEIVED.date() + timedelta(days=day))

    assert stages(referral) == expected


def test_a_sweep_every_day_sends_each_reminder_once_and_escalates_once(
    referral, frozen_now, staff_user
):
    staff = staff_user
    referral_assign(referral, to=staff, by=staff)
    for day in range(0, 40):
        referral_deadline_sweep(today=RECEIVED.date() + timedelta(days=day))
        referral_deadline_sweep(today=RECEIVED.date() + timedelta(days=day))  # again: no change

    assert stages(referral) == ["breach", "day14", "day21", "day27"]
    kinds = sorted(
        Notification.objects.filter(subject_id=referral.pk)
        .exclude(kind="referral_received")  # the acknowledgement, sent when it arrived
        .values_list("kind", "recipient_key")
    )
    assert kinds == sorted(
        (f"referral_{stage}", who)
        for stage in ("day14", "day21", "day27", "breach")
        for who in ("team", "reviewer")
    )
    escalation = Escalation.objects.get()
    assert (escalation.reason, escalation.trigger_id, escalation.level) == (
        "referral_overdue",
        referral.pk,
        1,
    )
    assert EscalationTransition.objects.get().to_status == "open"


def test_a_decided_referral_gets_no_reminders(referral, frozen_now):
    staff = UserFactory()
    frozen_now.move_to(RECEIVED + timedelta(days=1))
    reviewed(referral, staff)
    referral_decide(referral, decision="withdrawn", reason="Family asked to stop.", by=staff)

    referral_deadline_sweep(today=RECEIVED.date() + timedelta(days=40))

    assert stages(referral) == []
    assert not Escalation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_insert_each_row_once(areas):
    for i in range(20):
        submit(areas, nhs_number="", given_name=f"Person{i}")
    Referral.objects.update(decision_due=date(2026, 3, 1))
    barrier = threading.Barrier(2)

    def sweep():
        barrier.wait()
        referral_deadline_sweep(today=date(2026, 3, 10))
        connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Reminder.objects.count() == 20
    assert Escalation.objects.count() == 20
    assert EscalationTransition.objects.count() == 20
    assert Notification.objects.filter(kind="referral_breach").count() == 20
    record("G-6 concurrent sweeps: 20 due, reminders / escalations", "20 / 20")


def test_a_sweep_of_5000_due_referrals_enqueues_one_task_per_batch(
    areas, django_capture_on_commit_callbacks
):
    first = submit(areas)
    rows = [
        Referral(
            **{
                f.attname: getattr(first, f.attname)
                for f in Referral._meta.concrete_fields
                if f.attname not in ("id", "reference", "submission_token")
            },
            reference=f"DSR-2026-{200000 + i}",
            submission_token=uuid.uuid4(),
        )
        for i in range(4999)
    ]
    Referral.objects.bulk_create(rows, batch_size=1000)
    Referral.objects.update(decision_due=date(2026, 3, 1), duplicate_of=None)

    with (
        mock.patch("dsr.tasks.deliver_notifications_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        counts = referral_deadline_sweep(today=date(2026, 3, 10))

    assert counts["notifications"] == 5000
    assert delay.call_count == 10  # ceil(5000 / 500)
    record("T9 tasks enqueued for 5,000 due referrals", delay.call_count)


# --- Delivery --------------------------------------------------------------------------------


def _decided(areas, frozen_now, **changes):
    """A referral decided "not eligible", its acknowledgements already sent and forgotten."""
    staff = UserFactory()
    referral = submit(areas, **changes)
    deliver_due()
    Notification.objects.filter(kind="referral_received").delete()
    mail.outbox.clear()
    referral = reviewed(referral, staff)
    referral_decide(
        referral,
        decision="not_eligible",
        reason="No diagnosis yet.",
        signposting="Your GP.",
        by=staff,
    )
    return referral


def test_delivery_sends_each_outcome_once_with_subject_text_and_html(areas, frozen_now):
    _decided(areas, frozen_now)

    first = deliver_due()
    second = deliver_due()

    # Emails to the person and the referrer; the reasons in a letter to the person's address.
    assert first == {"sent": 2, "letter_ready": 1} and second == {}
    assert len(mail.outbox) == 2
    to = {m.to[0]: m for m in mail.outbox}
    for message in to.values():
        assert "DSR-2026-" in message.subject
        assert "No diagnosis yet." not in message.body  # no health details by email (ACCESS.md)
        assert "Your GP." in message.body  # where else to get help
        assert message.alternatives[0][1] == "text/html"
    assert "sending you a letter with the reasons" in to["ada@example.com"].body
    assert "To hear them, contact the DSR team" in to["sam.reid@nhs.example"].body
    assert Notification.objects.filter(status="sent", sent_at__isnull=False).count() == 2


def test_easy_read_is_sent_in_easy_read(areas, frozen_now):
    _decided(areas, frozen_now, accessible_formats=["easy_read"])

    deliver_due()

    bodies = [m.body for m in mail.outbox]
    assert any("We have not put you on the register." in body for body in bodies)


def test_a_letter_waits_for_staff_to_post_it(areas, frozen_now):
    referral = _decided(
        areas,
        frozen_now,
        contacts=[{"role": "person", "name": "Ada", "address": "1 High St, Norwich NR1 2DH"}],
    )

    deliver_due()

    letter = Notification.objects.get(subject_id=referral.pk, channel="letter")
    assert letter.status == Notification.Status.LETTER_READY
    notification_mark_posted(notification=letter, by=UserFactory())
    letter.refresh_from_db()
    assert letter.status == Notification.Status.SENT


def test_a_transient_failure_is_retried_with_backoff_then_marked_failed(areas, frozen_now):
    _decided(areas, frozen_now)
    error = smtplib.SMTPServerDisconnected("connection lost")

    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=error):
        deliver_due()
        row = Notification.objects.order_by("id").first()
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.scheduled_for > datetime.now(tz=LONDON)  # backed off: not due yet
        for attempt in range(2, MAX_ATTEMPTS + 1):
            frozen_now.shift(timedelta(hours=2))
            deliver_due()
            row.refresh_from_db()
            assert row.attempts == attempt

    assert row.status == Notification.Status.FAILED
    assert "SMTPServerDisconnected" in row.error
    frozen_now.shift(timedelta(hours=2))
    assert deliver_due() == {}  # no loop over a failed message
    record("G-8 attempts before a message is marked failed", MAX_ATTEMPTS)


def test_claimed_rows_are_not_claimed_twice(areas, frozen_now):
    _decided(areas, frozen_now)

    first = claim()
    second = claim()

    assert len(first) == 3 and second == []


def _worker_dies() -> None:
    """What a killed worker's database session leaves behind: none of its advisory locks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock_all()")


@pytest.mark.parametrize("held_by", ["advisory locks", "time only"])
def test_a_message_whose_worker_keeps_dying_ends_failed_not_in_a_loop(held_by, areas, frozen_now):
    from dsr.outbox import delivery as notifications

    _decided(areas, frozen_now)
    with mock.patch.object(notifications, "_locks", return_value=held_by == "advisory locks"):
        for _ in range(MAX_ATTEMPTS + 2):
            claim()  # a worker claims, then dies before recording anything
            if held_by == "advisory locks":
                _worker_dies()
            else:
                frozen_now.shift(notifications.STALE_CLAIM * 2)

    statuses = set(Notification.objects.values_list("status", flat=True))
    assert statuses == {Notification.Status.FAILED}
    assert "stopped each time" in Notification.objects.first().error


def test_a_message_in_a_live_workers_hands_is_not_claimed_again_however_long_it_takes(
    areas, frozen_now
):
    from dsr.outbox.delivery import STALE_CLAIM

    _decided(areas, frozen_now)
    first = claim()
    frozen_now.shift(STALE_CLAIM * 10)  # a very slow provider: the worker is still alive

    assert claim() == []
    _worker_dies()
    assert sorted(claim()) == sorted(first)  # taken again the moment its worker is gone
