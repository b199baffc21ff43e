"""Unused accounts switched off, and the access review of every active account."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.utils import bulk_update_with_history

from dsr.models import Invitation, Organisation, User
from dsr.notifications import (
    notify_dormant_accounts_disabled,
)
from dsr.roles import Role
from dsr.security.audit import Event, record_event
from dsr.security.signed_in import account_changed

logger = logging.getLogger(__name__)

# The most accounts one summary email names; the access review page lists them all.
SUMMARY_NAMES = 50


def last_activity() -> Greatest:
    """When an account was last in use, as a query expression: the latest of its last sign-in,
    its creation (for an invited account, when the invitation was accepted) and its last
    reactivation, so an account switched back on is not switched off again the next night.

    The reactivation is the earliest history row showing the account active with no inactive
    row after it; for an account never switched off, that is its first row.
    """
    history = User.history.model
    later_off = history.objects.filter(
        id=OuterRef("id"), is_active=False, history_date__gt=OuterRef("history_date")
    )
    active_since = (
        history.objects.filter(id=OuterRef("pk"), is_active=True)
        .exclude(Exists(later_off))
        .order_by("history_date")
        .values("history_date")[:1]
    )
    return Greatest(
        Coalesce("last_login", "date_joined"),
        Coalesce(Subquery(active_since), "date_joined"),
    )


def accounts_disable_dormant(*, now: datetime | None = None) -> list[int]:
    """Switch off every active account whose last activity (see last_activity) is more than
    DSR_ACCOUNT_DORMANT_DAYS before `now`; returns their ids.

    Set-based: one query finds them, one bulk update with history switches them off, each with
    the reason in its history. Accounts locked by another transaction are left for the next
    run. Their live sessions end with it (the backend refuses inactive users). Queues one
    summary email to each administrator still active when any account was switched off.
    """
    now = now or timezone.now()
    days = settings.DSR_ACCOUNT_DORMANT_DAYS
    cutoff = now - timedelta(days=days)
    with transaction.atomic():
        dormant = list(
            User.objects.select_for_update(skip_locked=True, of=("self",))
            .annotate(active_at=last_activity())
            # Superusers are left on: they are how accounts are switched back on, and a night
            # that switched off every one would leave nobody able to.
            .filter(is_active=True, is_superuser=False, active_at__lt=cutoff)
            .select_related("organisation")
            .order_by("full_name", "id")
        )
        if not dormant:
            logger.info("dormant accounts: none to switch off")
            return []
        for user in dormant:
            user.is_active = False
        bulk_update_with_history(
            dormant,
            User,
            ["is_active"],
            batch_size=500,
            default_change_reason=f"Not signed in for {days} days: switched off",
        )
        _tell_administrators(dormant, now, days)
        # A bulk update sends no save signal: each switch-off is recorded here instead, and
        # each account's kept copy is made out of date (dsr.security.signed_in).
        for user in dormant:
            record_event(Event.ACCOUNT_DEACTIVATED, None, user_id=user.pk, reason="dormant")
            account_changed(user.pk)
    ids = [user.pk for user in dormant]
    logger.info("dormant accounts switched off count=%s ids=%s", len(ids), ids)
    return ids


def _tell_administrators(dormant: list[User], now: datetime, days: int) -> int:
    """One summary email to each active administrator: who was switched off, and a link to
    the access review. The run is keyed by its London minute, so a rerun adds no copy."""
    administrators = User.objects.filter(
        is_active=True, groups__name=Role.ADMINISTRATOR.label
    ).order_by("id")
    accounts = [
        {
            "name": user.full_name or user.email,
            "email": user.email,
            "organisation": user.organisation.name if user.organisation else "",
            "last_signed_in": (
                f"{timezone.localtime(user.last_login):%-d %B %Y}" if user.last_login else "never"
            ),
        }
        for user in dormant[:SUMMARY_NAMES]
    ]
    context = {
        "count": len(dormant),
        "days": days,
        "accounts": accounts,
        "more": max(0, len(dormant) - SUMMARY_NAMES),
        "url": settings.SITE_URL + reverse("dsr:account-review"),
    }
    sent = notify_dormant_accounts_disabled(administrators, context, now)
    if not sent:
        logger.warning("dormant accounts switched off but no active administrator to tell")
    return sent


def account_review_list(
    *, role: str = "", organisation: Organisation | None = None
) -> QuerySet[User]:
    """Every active account, with its organisation, roles, whether it has a confirmed
    authenticator app and its invitation; filtered by role and organisation. Two queries
    whatever the number of accounts (the accounts, then their groups)."""
    users = (
        User.objects.filter(is_active=True)
        .select_related("organisation", "invitation")
        .prefetch_related("groups")
        .annotate(
            has_second_factor=Exists(
                TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)
            )
        )
        .order_by("full_name", "id")
    )
    if role:
        users = users.filter(groups__name=Role(role).label)
    if organisation is not None:
        users = users.filter(organisation=organisation)
    return users


def invitation_state_of(user: User) -> str:
    """How an account came to be, for the review: "Accepted <date>" or "Not invited"."""
    try:
        invitation = user.invitation
    except Invitation.DoesNotExist:
        return "Not invited"
    return f"Invitation accepted {timezone.localtime(invitation.accepted_at):%-d %B %Y}"
