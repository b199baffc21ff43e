"""Delivering the outbox: claim pending messages, send each once, record what happened.

The promise (RELIABILITY.md G-1): nothing is lost, because the message is a row written with the
decision that owes it; no duplicate when a worker dies before the provider call, because a
claimed row that never reached the provider is simply claimed again; at most one duplicate when
a worker dies after the provider accepted and before the row was marked sent, the window no
email system can close.

Email goes through Django's email backend (SMTP, or a provider's backend, by configuration) and
carries no health details beyond the outcome. Letters are rendered to PDF and wait for staff to
print and post them. With DSR_MESSAGES = "notify", email and letters go through
GOV.UK Notify instead (dsr.outbox.notify, registered as a provider): every send carries the
message's stable reference, and a message tried before is first looked up there by it, so a
worker that died after Notify accepted a message never sends it twice.
"""

import logging
import random
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import BooleanField, DateField, Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from dsr import queries
from dsr.models import Notification
from dsr.outbox import BATCH

logger = logging.getLogger(__name__)


class ProviderUnavailable(Exception):
    """The message provider could not take the message for now (its documented temporary
    errors: too many requests, its own fault, no answer): worth trying again."""


class ProviderRefused(Exception):
    """The message provider refused the message for good (a bad request, a key it does not
    accept): trying again would not help; staff see why."""


# Errors worth trying again: the mail server, provider or network was unavailable for a moment.
TRANSIENT = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError, ProviderUnavailable)
MAX_ATTEMPTS = 5
# Without PostgreSQL's advisory locks (the embedded SQLite run), a row left "sending" this long
# belongs to a worker that died and may be claimed again. (A setting only so the fault-injection
# tests can shorten it for real worker processes.)
STALE_CLAIM = timedelta(seconds=getattr(settings, "DSR_STALE_CLAIM_SECONDS", 600))
# The first key of the advisory locks that mark a message as in a live worker's hands; the
# second is the notification's id.
LOCK_SPACE = 0x44535231  # "DSR1"


def _locks() -> bool:
    """Whether claims are held by advisory locks (PostgreSQL) rather than by time alone."""
    return connection.vendor == "postgresql"


def _lock(notification_id: int) -> bool:
    """Hold the message for this worker's database session. The lock outlives the claim's
    transaction and goes with the session: a worker that is killed, or loses its connection,
    lets go of its message at once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_SPACE, notification_id])
        return bool(cursor.fetchone()[0])


def release(notification_id: int) -> None:
    """Let go of a message this worker has finished with (no-op without advisory locks)."""
    if _locks():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_SPACE, notification_id])


# A "sending" row no live session holds: its worker stopped. (pg_locks shows a two-key advisory
# lock with the first key as classid, the second as objid and objsubid 2.)
_NOT_HELD = RawSQL(
    "NOT EXISTS (SELECT 1 FROM pg_locks lock WHERE lock.locktype = 'advisory'"
    " AND lock.granted AND lock.classid = %s::oid AND lock.objsubid = 2"
    ' AND lock.objid = "dsr_notification"."id"::oid)',
    [LOCK_SPACE],
    output_field=BooleanField(),
)


def _orphans(now: datetime):
    """Rows left "sending" by a worker that stopped: with advisory locks, the moment its session
    ended; without them, once the claim is older than STALE_CLAIM."""
    sending = Notification.objects.filter(status=Notification.Status.SENDING)
    if _locks():
        return sending.filter(_NOT_HELD)
    return sending.filter(scheduled_for__lt=now - STALE_CLAIM)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


# Apps that own a notification's subject supply the plain values its templates need, read at
# send time (the sweeps write rows in SQL and store no context). Registered in AppConfig.ready.
ContextProvider = Callable[[int], dict[str, Any]]
_CONTEXT_PROVIDERS: dict[str, ContextProvider] = {}


def register_context_provider(subject_type: str, provider: ContextProvider) -> None:
    _CONTEXT_PROVIDERS[subject_type] = provider


# Apps that record what a message told its recipient (escalation: the escalations a daily summary
# carried) do it once the message is sent, in the same transaction as the row becomes sent, not
# when it is queued: a message cancelled, or failed for good, records nothing. Registered in
# AppConfig.ready.
SentHook = Callable[[Notification], None]
_SENT_HOOKS: dict[str, SentHook] = {}


def register_sent_hook(subject_type: str, hook: SentHook) -> None:
    _SENT_HOOKS[subject_type] = hook


def _record(notification: Notification) -> None:
    """Save a delivered message's row and, once it is sent, what it told (see `_SENT_HOOKS`)."""
    with transaction.atomic():
        notification.save()
        hook = _SENT_HOOKS.get(notification.subject_type)
        if hook is not None and notification.status == Notification.Status.SENT:
            hook(notification)


def template_and_context(notification: Notification) -> tuple[str, dict[str, Any]]:
    """The template family (in the accessible format where one exists) and the values its
    templates read."""
    kind = notification.kind
    if notification.accessible_format == Notification.Format.EASY_READ:
        kind = f"{kind}_easy_read"
    provider = _CONTEXT_PROVIDERS.get(notification.subject_type)
    context = {
        **(provider(notification.subject_id) if provider else {}),
        **notification.context,
        "recipient_name": notification.recipient_name,
        # The DSR team's contact details as they are now (read only by a template that shows
        # them: templates/emails/includes/team_contact.*).
        "team_contact": SimpleLazyObject(queries.team_contact),
        # Emails carry no health details beyond the outcome (ACCESS.md): templates give the
        # reasons only in letters.
        "channel": notification.channel,
        # For links to the service's public pages ({{ site_url }}{% url ... %}).
        "site_url": settings.SITE_URL,
        # The same address as said on paper, without the scheme ("dsr.nhs.uk"): a letter gives
        # it after saying in words what is there.
        "site_address": settings.SITE_URL.split("://", 1)[-1].rstrip("/"),
    }
    return f"emails/{kind}", context


def render(notification: Notification) -> Rendered:
    """The subject, plain text and HTML of a message (templates/emails/<kind>[_easy_read].*);
    a text message is one short paragraph of plain text (templates/texts/<kind>.txt)."""
    family, context = template_and_context(notification)
    if notification.channel == Notification.Channel.SMS:
        text = render_to_string(f"texts/{notification.kind}.txt", context)
        return Rendered(subject="", text=" ".join(text.split()), html="")
    return Rendered(
        subject=" ".join(render_to_string(f"{family}.subject.txt", context).split()),
        text=render_to_string(f"{family}.body.txt", context),
        html=render_to_string(f"{family}.body.html", context),
    )


class Provider(Protocol):
    """A message provider's API (dsr.outbox.notify): `send` returns the provider's id for the
    message it accepted; `find` returns the id of one it already holds under the message's
    reference, or None; `status` returns the provider's status for a message it accepted. Each
    raises ProviderUnavailable or ProviderRefused."""

    def send(self, notification: Notification, rendered: Rendered) -> str: ...

    def find(self, notification: Notification) -> str | None: ...

    def status(self, notification: Notification) -> str: ...


# The providers DSR_MESSAGES may name, registered in AppConfig.ready ("django" is the email
# backend and printed letters, and needs none).
_PROVIDERS: dict[str, Provider] = {}


def register_provider(name: str, provider: Provider) -> None:
    _PROVIDERS[name] = provider


def provider() -> Provider | None:
    """The provider DSR_MESSAGES names, or None for Django's email backend and printed letters."""
    return _PROVIDERS.get(settings.DSR_MESSAGES)


def reference(notification: Notification) -> str:
    """The message's stable reference, the same on every attempt: sent with it to the provider
    (and as X-DSR-Reference on email), and how a message tried before is looked up."""
    return f"notification-{notification.pk}"


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: about 1, 2, 4, 8 minutes, never in lockstep."""
    base = 60 * 2 ** max(0, attempts - 1)
    return timedelta(seconds=base + random.uniform(0, base / 2))  # noqa: S311  (jitter only)


def claim_batch(limit: int = BATCH) -> tuple[list[int], datetime]:
    """Mark up to `limit` due messages as sending, each held for this worker; return their ids
    and the claim's time stamp. Release each (`release`) once it is delivered.

    Rows another worker is claiming are skipped (SKIP LOCKED), so two workers never take the
    same row. A row whose worker stopped (see `_orphans`) is counted as an attempt and claimed
    again, or marked failed once it has used its attempts, so a message that kills its worker
    cannot loop for ever. Delivery claims one row at a time (`deliver_due`), so a worker that
    dies holds back only the message in its hands.
    """
    now = timezone.now()
    held: list[int] = []
    with transaction.atomic():
        orphans = list(
            _orphans(now).select_for_update(skip_locked=True).values_list("id", flat=True)[:limit]
        )
        Notification.objects.filter(id__in=orphans, attempts__gte=MAX_ATTEMPTS - 1).update(
            status=Notification.Status.FAILED,
            attempts=F("attempts") + 1,
            error="The worker sending this message stopped each time it tried.",
        )
        retried = Notification.objects.filter(
            id__in=orphans, status=Notification.Status.SENDING
        ).values_list("id", flat=True)
        ids = list(retried)
        Notification.objects.filter(id__in=ids).update(attempts=F("attempts") + 1)
        if len(ids) < limit:
            ids += (
                Notification.objects.filter(
                    status=Notification.Status.PENDING, scheduled_for__lte=now
                )
                .select_for_update(skip_locked=True)
                .order_by("scheduled_for", "id")
                .values_list("id", flat=True)[: limit - len(ids)]
            )
        if _locks():
            # Taken inside the claim's transaction: another worker sees the row "sending" only
            # once it commits, and by then the lock is held.
            held = [pk for pk in ids if _lock(pk)]
            ids = held
        # Bookkeeping columns only: the row itself is the record of the message.
        Notification.objects.filter(id__in=ids).update(
            status=Notification.Status.SENDING, scheduled_for=now
        )
    return ids, now


def claim(limit: int = BATCH) -> list[int]:
    """The ids of a freshly claimed batch (see claim_batch)."""
    return claim_batch(limit)[0]


def _still_ours(notification: Notification, claimed_at: datetime | None) -> bool:
    """Renew the claim just before sending, only if it is still the one this worker made (the
    same time stamp is the proof of ownership) and, without advisory locks, has not gone stale:
    a worker whose send ran long never sends a message that another worker has since claimed."""
    stamp = claimed_at or notification.scheduled_for
    now = timezone.now()
    if not _locks() and stamp < now - STALE_CLAIM:
        return False
    renewed = Notification.objects.filter(
        pk=notification.pk, status=Notification.Status.SENDING, scheduled_for=stamp
    ).update(scheduled_for=now)
    notification.scheduled_for = now
    return bool(renewed)


def reply_to() -> list[str]:
    """Where a reply to any email the service sends goes: the DSR team's email as the DSR lead
    set it, or the team mailbox until it is set. The sending address is not read by a person, so
    without this a reply from the public (or from staff) would reach no one."""
    contact = queries.team_contact()
    address = contact.email if contact else settings.DSR_TEAM_EMAIL
    return [address] if address else []


def _send_email(notification: Notification, rendered: Rendered) -> None:
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.email],
        reply_to=reply_to(),
        headers={"X-DSR-Reference": reference(notification)},
    )
    document = render_to_string(
        "emails/document.html", {"subject": rendered.subject, "body": rendered.html}
    )
    message.attach_alternative(document, "text/html")
    message.send(fail_silently=False)


def _send_by_provider(provider: Provider, notification: Notification, rendered: Rendered) -> None:
    """Send through the provider, unless it already holds the message: one tried before (its
    worker died after the provider may have accepted it, or the answer never came) is looked up
    by its reference first, and recorded as sent without a second copy if it is there."""
    # Tried before: claimed again after its worker stopped, retried after an error, or sent again
    # by staff after it failed (each may have followed an acceptance whose answer was lost).
    tried = notification.attempts or notification.error
    found = provider.find(notification) if tried else None
    if found:
        logger.info(
            "notification already accepted by the provider, not sent again notification=%s",
            notification.pk,
        )
    notification.provider_reference = found or provider.send(notification, rendered)
    notification.status = Notification.Status.SENT
    notification.sent_at = timezone.now()


# A daily summary carries the day it sums up in its context under this key (an ISO date). It is
# worth sending only on that day, and only as the person's latest: one that waited (the worker
# was down, the demo loader walked a year) is cancelled, not sent late with stale counts.
DAILY_SUMMARY = "daily_summary_for"
STALE_SUMMARY_REASON = (
    "Not sent: a daily summary is sent only on its day, and only the latest one a day."
)


def stale_daily_summaries() -> QuerySet:
    """Daily summaries waiting to be sent that must not be: one for a day before today, one
    for a person who has a newer summary of the same kind queued or sent, and one for a person
    already sent a summary of that kind today (never more than one a day)."""
    today = timezone.localdate()
    summaries = Notification.objects.filter(context__has_key=DAILY_SUMMARY).annotate(
        summary_day=Cast(KT(f"context__{DAILY_SUMMARY}"), DateField())
    )
    same_person = summaries.filter(kind=OuterRef("kind"), email=OuterRef("email")).exclude(
        pk=OuterRef("pk")
    )
    newer = same_person.exclude(status=Notification.Status.CANCELLED).filter(
        Q(summary_day__gt=OuterRef("summary_day"))
        | Q(summary_day=OuterRef("summary_day"), pk__gt=OuterRef("pk"))
    )
    start_of_today = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    sent_today = same_person.filter(status=Notification.Status.SENT, sent_at__gte=start_of_today)
    return summaries.filter(
        status__in=[Notification.Status.PENDING, Notification.Status.SENDING]
    ).filter(Q(summary_day__lt=today) | Exists(newer) | Exists(sent_today))


def stale_daily_summaries_cancel() -> int:
    """Cancel the daily summaries waiting to be sent that are out of date (one query)."""
    return stale_daily_summaries().update(
        status=Notification.Status.CANCELLED, cancelled_reason=STALE_SUMMARY_REASON
    )


def deliver(notification_id: int, claimed_at: datetime | None = None) -> str:
    """Send one claimed message and record the result; returns its new status.

    Transient failures are retried with backoff, up to MAX_ATTEMPTS, then the message is marked
    failed for staff to see and send again. Letters are marked ready to print and post, or,
    through a provider, sent for it to print and post.
    """
    notification = Notification.objects.get(pk=notification_id)
    if notification.status != Notification.Status.SENDING or not _still_ours(
        notification, claimed_at
    ):
        logger.info("notification not ours to send, skipped notification=%s", notification_id)
        return notification.status
    if DAILY_SUMMARY in notification.context and (
        stale_daily_summaries().filter(pk=notification.pk).exists()
    ):
        notification.status = Notification.Status.CANCELLED
        notification.cancelled_reason = STALE_SUMMARY_REASON
        notification.save()
        logger.info("stale daily summary cancelled notification=%s", notification.pk)
        return notification.status
    chosen = provider()
    try:
        rendered = render(notification)
        if chosen is not None:
            _send_by_provider(chosen, notification, rendered)
        elif notification.channel == Notification.Channel.LETTER:
            notification.status = Notification.Status.LETTER_READY
        elif notification.channel == Notification.Channel.SMS:
            raise ProviderRefused("Text messages are sent only through GOV.UK Notify.")
        else:
            _send_email(notification, rendered)
            notification.status = Notification.Status.SENT
            notification.sent_at = timezone.now()
        notification.error = ""
    except TRANSIENT as exc:
        notification.attempts += 1
        notification.error = f"{type(exc).__name__}: {exc}"[:500]
        if notification.attempts >= MAX_ATTEMPTS:
            notification.status = Notification.Status.FAILED
        else:
            notification.status = Notification.Status.PENDING
            notification.scheduled_for = timezone.now() + backoff(notification.attempts)
        logger.warning(
            "notification send failed notification=%s attempts=%s",
            notification.pk,
            notification.attempts,
        )
    except Exception as exc:  # noqa: BLE001  (a message that can never be sent must not loop)
        notification.attempts += 1
        notification.status = Notification.Status.FAILED
        notification.error = f"{type(exc).__name__}: {exc}"[:500]
        logger.exception("notification cannot be sent notification=%s", notification.pk)
    _record(notification)
    return notification.status


def deliver_due(limit: int = BATCH) -> dict[str, int]:
    """Claim and deliver up to `limit` due messages, one at a time; returns a count per
    resulting status."""
    outcome: dict[str, int] = {}
    for _ in range(limit):
        ids, claimed_at = claim_batch(1)
        if not ids:
            break
        try:
            status = deliver(ids[0], claimed_at)
        finally:
            release(ids[0])
        outcome[status] = outcome.get(status, 0) + 1
    return outcome


@transaction.atomic
def notification_mark_posted(*, notification: Notification, by) -> Notification:
    """Staff printed and posted a letter."""
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    if notification.status == Notification.Status.LETTER_READY:
        notification.status = Notification.Status.SENT
        notification.sent_at = timezone.now()
        _record(notification)
        logger.info("letter posted notification=%s by=%s", notification.pk, by.pk)
    return notification
