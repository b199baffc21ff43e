"""The register's reminder sweep (STYLE point 6): set-based, safe to run twice."""

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from dsr.notifications import notify_register_reminder

logger = logging.getLogger(__name__)

CONSENT_REMINDER_DAYS = 30


def register_review_sweep(*, today: date | None = None) -> dict[str, int]:
    """Insert, set-based, a reminder and a DSR team email for each open entry whose rating
    review has come due (one per due date, so every cycle of the cadence gets its own), and for
    each active consent whose yearly check is within CONSENT_REMINDER_DAYS. Unique keys make a
    second run add nothing; no row is loaded into Python."""
    from django.db import connection

    today = today or timezone.localdate()
    now = timezone.now()
    counts = {"reminders": 0, "notifications": 0}
    sources = [
        # (subject type, kind, FROM ... WHERE ..., the due-date column, parameters)
        (
            "dsr.registerentry",
            "rating_review_due",
            "FROM dsr_registerentry s JOIN dsr_person p ON p.id = s.person_id"
            " WHERE s.status = 'open' AND s.rating_review_due <= %s",
            "s.rating_review_due",
            [today],
        ),
        (
            "dsr.consent",
            "consent_review_due",
            "FROM dsr_consent s JOIN dsr_person p ON p.id = s.person_id"
            " WHERE s.ended_on IS NULL AND s.review_due <= %s AND EXISTS (SELECT 1 FROM"
            " dsr_registerentry e WHERE e.person_id = s.person_id AND e.status = 'open')",
            "s.review_due",
            [today + timedelta(days=CONSENT_REMINDER_DAYS)],
        ),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for subject, kind, source, due, params in sources:
            cursor.execute(
                "INSERT INTO dsr_reminder (subject_type, subject_id, kind, stage, due_on,"
                f" created_at) SELECT %s, s.id, %s, CAST({due} AS VARCHAR(20)), {due}, %s"
                f" {source} ON CONFLICT (subject_type, subject_id, kind, stage) DO NOTHING",
                [subject, kind, now, *params],
            )
            counts["reminders"] += cursor.rowcount
            counts["notifications"] += notify_register_reminder(
                cursor, subject=subject, kind=kind, due=due, source=source, params=params
            )
    logger.info("register review sweep %s", counts)
    return counts
