"""Bookkeeping writes: heartbeats and the session purge. Not audited, no side effects."""

import logging

from django.contrib.sessions.models import Session
from django.utils import timezone

from dsr.models import (
    Heartbeat,
)

logger = logging.getLogger(__name__)


# --- Housekeeping ----------------------------------------------------------------------------


def heartbeat_record(*, name: str) -> Heartbeat:
    """Record that `name` ran now. Bookkeeping only: not audited, no side effects."""
    beat, _ = Heartbeat.objects.update_or_create(
        name=name, defaults={"last_seen_at": timezone.now()}
    )
    return beat


def sessions_purge_expired() -> int:
    """Delete sessions past their expiry; returns how many went."""
    # Counted by sessions: a session signed in through an NHS identity provider takes its
    # ProviderSession row with it.
    _, by_model = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    deleted = by_model.get(Session._meta.label, 0)
    logger.info("purged expired sessions count=%s", deleted)
    return deleted
