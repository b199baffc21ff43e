"""The register's own sections of each signed-in user's home page (dsr.panels), added in
DsrConfig.ready as the apps add theirs: the register team's work due and overdue today, and the
accounts an administrator should look at. Each runs a constant number of queries whatever the
register's size."""

from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from dsr.accounts.review import last_activity
from dsr.models import Invitation, Notification, User
from dsr.outbox.receipts import NOT_DELIVERED
from dsr.panels import Panel
from dsr.queries import headline_counts

# An account unused for this many days fewer than DSR_ACCOUNT_DORMANT_DAYS is shown to
# administrators as "will be switched off soon", so they can ask whether it is still needed.
DORMANT_WARNING_DAYS = 14


def register_work_panel(request: HttpRequest, today: date) -> Panel | None:
    """Rating and consent reviews due and overdue (the dashboard's kept counts: no query while
    they are kept), and the letters to post, messages that failed and messages GOV.UK Notify
    could not deliver (one grouped query)."""
    user = request.user
    if not user.has_perm("dsr.view_register"):
        return None
    counts, counted_at = headline_counts(user, today)
    outbox = Notification.objects.visible_to(user).aggregate(
        letters=Count("id", filter=Q(status=Notification.Status.LETTER_READY)),
        failed=Count("id", filter=Q(status=Notification.Status.FAILED, dealt_with_at__isnull=True)),
        not_delivered=Count("id", filter=Q(receipt__in=NOT_DELIVERED, dealt_with_at__isnull=True)),
    )
    return Panel(
        "home/includes/register_work.html",
        {
            "overdue_reviews": counts["overdue_reviews"],
            "reviews_due_soon": counts["reviews_due_soon"],
            "consent_overdue": counts["consent_reviews_overdue"],
            "consent_due": counts["consent_reviews_due"] - counts["consent_reviews_overdue"],
            "letters": outbox["letters"],
            "failed": outbox["failed"],
            "not_delivered": outbox["not_delivered"],
            "can_see_outbox": user.has_perm("dsr.manage_referrals"),
            "counted_at": counted_at,
        },
        order=20,
    )


def accounts_panel(request: HttpRequest, today: date) -> Panel | None:
    """For administrators: invitations sent and not yet used (waiting, or expired unused) and
    active accounts that will soon be switched off for want of use (two queries)."""
    if not request.user.has_perm("dsr.manage_accounts"):
        return None
    now = timezone.now()
    invitations = Invitation.objects.filter(status=Invitation.Status.PENDING).aggregate(
        waiting=Count("id", filter=Q(expires_at__gt=now)),
        expired=Count("id", filter=Q(expires_at__lte=now)),
    )
    dormant_days = settings.DSR_ACCOUNT_DORMANT_DAYS
    warn_after = max(dormant_days - DORMANT_WARNING_DAYS, 0)
    going_dormant = (
        User.objects.filter(is_active=True)
        .annotate(last_used=last_activity())
        .filter(last_used__lt=now - timedelta(days=warn_after))
        .count()
    )
    return Panel(
        "home/includes/accounts.html",
        {
            "waiting": invitations["waiting"],
            "expired": invitations["expired"],
            "going_dormant": going_dormant,
            "warn_after": warn_after,
            "dormant_days": dormant_days,
        },
        order=20,
    )
