"""Background work at scale (bench/README.md): the four-week deadline sweep over the bench
database's referrals, timed against the database's own floor (one hand-written INSERT ... SELECT
of the same due rows and their outbox rows), the review and action reminder sweeps, and the
rate at which the outbox delivers to a local SMTP sink.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dsr_bench .venv/bin/python -m bench.background

Each sweep and each floor runs in a transaction that is rolled back, so the rounds see the same
data. The delivery measure adds its own messages and deletes them afterwards.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SINK_PORT = 8025
MARKER = "bench-delivery"


class _RolledBack(Exception):
    pass


def _timed_and_rolled_back(work) -> tuple[float, object]:
    """Run `work()` in a transaction, time it, and roll it back."""
    from django.db import transaction

    start = time.perf_counter()
    result = None
    try:
        with transaction.atomic():
            result = work()
            elapsed = time.perf_counter() - start
            raise _RolledBack
    except _RolledBack:
        pass
    return elapsed, result


def _floor(today: date) -> int:
    """By hand: the reminders and the team's outbox rows of every live referral due within
    fourteen days (or overdue), in two statements."""
    from django.db import connection

    live = (
        "FROM referrals_referral r WHERE r.status IN ('received', 'under_review', 'more_info')"
        " AND r.duplicate_of_id IS NULL AND r.decision_due <= %s"
    )
    horizon = today + timedelta(days=14)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO dsr_reminder (subject_type, subject_id, kind, stage, due_on, created_at)"
            f" SELECT 'referrals.referral', r.id, 'referral_decision', 'day14', r.decision_due,"
            f" now() {live} ON CONFLICT DO NOTHING",
            [horizon],
        )
        rows = cursor.rowcount
        cursor.execute(
            "INSERT INTO dsr_notification (subject_type, subject_id, local_authority_id, kind,"
            " recipient_key, recipient_name, recipient_role, channel, email, postal_address,"
            " accessible_format, context, status, created_at, scheduled_for, attempts, error,"
            " provider_reference, cancelled_reason) SELECT 'referrals.referral',"
            " r.id, r.local_authority_id, 'referral_day14', 'team', 'DSR team', 'DSR team',"
            " 'email', 'team@example.org', '', 'standard', '{}', 'pending', now(), now(), 0, '',"
            f" '', '' {live} ON CONFLICT DO NOTHING",
            [horizon],
        )
        return rows + cursor.rowcount


def sweeps(today: date, rounds: int) -> dict:
    from django.db import connection

    from dsr.sweeps import register_review_sweep
    from referrals.sweeps import referral_deadline_sweep
    from reviews.services import action_reminder_sweep

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM referrals_referral")
        referrals = cursor.fetchone()[0]
    pairs = []
    for _ in range(rounds):
        floor_s, floor_rows = _timed_and_rolled_back(lambda: _floor(today))
        sweep_s, counts = _timed_and_rolled_back(lambda: referral_deadline_sweep(today=today))
        pairs.append(
            {
                "floor_s": floor_s,
                "floor_rows": floor_rows,
                "sweep_s": sweep_s,
                "sweep_rows": sum(counts.values()),
                "counts": counts,
            }
        )
    review_s, review = _timed_and_rolled_back(lambda: register_review_sweep(today=today))
    action_s, action = _timed_and_rolled_back(lambda: action_reminder_sweep(today=today))
    return {
        "referrals": referrals,
        "four_week_sweep": {
            "rounds": pairs,
            "median_sweep_s": round(statistics.median(p["sweep_s"] for p in pairs), 3),
            "median_floor_s": round(statistics.median(p["floor_s"] for p in pairs), 3),
            "ratio": round(statistics.median(p["sweep_s"] / p["floor_s"] for p in pairs), 2),
        },
        "register_review_sweep": {"seconds": round(review_s, 3), "rows": review},
        "action_reminder_sweep": {"seconds": round(action_s, 3), "rows": action},
    }


def delivery(messages: int) -> dict:
    """Deliver `messages` e-mails from the outbox to a local SMTP sink; messages per second."""
    from aiosmtpd.controller import Controller
    from django.conf import settings
    from django.db import connection

    from dsr.outbox.delivery import deliver_due

    received = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            received.append(len(envelope.content))
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=SINK_PORT)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", SINK_PORT
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        with connection.cursor() as cursor:
            cursor.execute(  # a constant column list, values as parameters
                "INSERT INTO dsr_notification (subject_type, subject_id, local_authority_id, kind,"
                " recipient_key, recipient_name, recipient_role, channel, email, postal_address,"
                " accessible_format, context, status, created_at, scheduled_for, attempts, error,"
                " provider_reference, cancelled_reason) SELECT"
                " 'referrals.referral', r.id, r.local_authority_id, 'referral_day14', %s,"
                " 'DSR team', 'DSR team', 'email', 'team@example.org', '', 'standard',"
                " json_build_object('reference', r.reference, 'due', r.decision_due::text),"
                " 'pending', now(), now() - interval '1 minute', 0, '', '', ''"
                " FROM referrals_referral r ORDER BY r.id LIMIT %s",
                [MARKER, messages],
            )
        start = time.perf_counter()
        outcome: dict[str, int] = {}
        while True:
            batch = deliver_due()
            if not batch:
                break
            for status, count in batch.items():
                outcome[status] = outcome.get(status, 0) + count
        seconds = time.perf_counter() - start
    finally:
        controller.stop()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM dsr_notification WHERE recipient_key = %s", [MARKER])
    return {
        "messages": messages,
        "outcome": outcome,
        "received_by_sink": len(received),
        "seconds": round(seconds, 2),
        "per_second": round(len(received) / seconds, 1) if seconds else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.utils import timezone

    today = args.today or timezone.localdate()
    results = {"sweeps": sweeps(today, args.rounds), "delivery": delivery(args.messages)}
    sweep = results["sweeps"]["four_week_sweep"]
    print(
        f"four-week sweep over {results['sweeps']['referrals']:,} referrals: "
        f"{sweep['median_sweep_s']} s; hand-written INSERT ... SELECT: {sweep['median_floor_s']} s;"
        f" ratio {sweep['ratio']} (median of {args.rounds})"
    )
    for name in ("register_review_sweep", "action_reminder_sweep"):
        print(f"{name}: {results['sweeps'][name]}")
    print(f"delivery to a local SMTP sink: {results['delivery']}")
    (HERE / "background.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
