"""Reads for the staff referral pages, always through the scope of ReferralQuerySet.visible_to.

Every function runs a fixed number of queries whatever the number of referrals, contacts or
transitions (PERFORMANCE.md T1; the page tests check it), and none reads a history table.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.query import prefetch_related_objects
from django.urls import reverse

from dsr.models import Notification, Person, RegisterEntry, User
from dsr.queries import keyset_after, same_person
from dsr.security.scoping import get_object_for_user
from referrals.models import Referral, ReferralAttachment, ReferralContact, ReferralTransition
from referrals.notifications import PUBLIC_KINDS, SUBJECT
from referrals.recipients import Recipient, outcome_recipients

PAGE_SIZE = 50
# "Due this week": the decision is due today or within the next six days.
DUE_SOON_DAYS = 6
# The duplicate guard lists at most this many matches of each kind; a longer list would mean
# the match is too loose to help, and the page must stay a fixed number of queries.
MATCH_LIMIT = 20
# The kind (or kind prefix) of the outcome messages referral_decide writes to the outbox.


def get_referral_for_user(user: Any, pk: int) -> Referral:
    """A referral the user may see (ReferralQuerySet.visible_to), or 404 whether it is missing
    or out of scope, so its existence is not revealed."""
    return get_object_for_user(
        Referral.objects.select_related(
            "local_authority", "assigned_to", "duplicate_of", "person", "decided_by"
        ),
        user,
        pk=pk,
    )


def get_attachment_for_referral(referral: Referral, attachment_pk: int) -> ReferralAttachment:
    """The attachment `attachment_pk` of `referral`, or ReferralAttachment.DoesNotExist when
    it belongs to another referral (or none)."""
    attachment = ReferralAttachment.objects.get(referral=referral, pk=attachment_pk)
    attachment.referral = referral
    return attachment


def get_contact_for_referral(referral: Referral, contact_pk: int) -> ReferralContact:
    """The contact `contact_pk` of `referral`, or ReferralContact.DoesNotExist."""
    contact = ReferralContact.objects.get(referral=referral, pk=contact_pk)
    contact.referral = referral
    return contact


# --- The queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    status: str = ""
    assigned: str = ""  # "me" or "unassigned"
    due: str = ""  # "overdue" or "week"
    local_authority: int | None = None
    sort: str = "due"


QUEUE_SORTS = {
    # sort name: the keyset columns, in order (all ascending, the last one unique)
    "due": ["decision_due", "received_at", "id"],
    "received": ["received_at", "id"],
}


def queue_referrals(user: Any, filters: QueueFilters, today: date) -> QuerySet[Referral]:
    """Live referrals in the user's scope that head their own chain (a duplicate shows under
    its first referral), narrowed by `filters`. Overdue and due-this-week come from
    `decision_due` and `today`, never from a stored flag."""
    referrals = Referral.objects.visible_to(user).live().filter(duplicate_of__isnull=True)
    if filters.status:
        referrals = referrals.filter(status=filters.status)
    if filters.assigned == "me":
        referrals = referrals.filter(assigned_to=user)
    elif filters.assigned == "unassigned":
        referrals = referrals.filter(assigned_to__isnull=True)
    if filters.due == "overdue":
        referrals = referrals.filter(decision_due__lt=today)
    elif filters.due == "week":
        referrals = referrals.filter(
            decision_due__gte=today, decision_due__lte=today + timedelta(days=DUE_SOON_DAYS)
        )
    if filters.local_authority:
        referrals = referrals.filter(local_authority_id=filters.local_authority)
    return referrals


@dataclass
class QueueWork:
    overdue: int
    due_this_week: int
    live: int
    most_urgent: Referral | None

    def days_left(self, today: date) -> int | None:
        """Days until the most urgent referral's decision is due (negative: days past it)."""
        if self.most_urgent is None or self.most_urgent.decision_due is None:
            return None
        return (self.most_urgent.decision_due - today).days


def queue_work(user: Any, today: date) -> QueueWork:
    """The queue's work for the home page and the dashboard: how many referrals are overdue
    and due this week (one grouped query), and the one nearest or furthest past its four-week
    deadline (one query). Named by reference only."""
    referrals = queue_referrals(user, QueueFilters(), today)
    counts = referrals.aggregate(
        live=Count("id"),
        overdue=Count("id", filter=Q(decision_due__lt=today)),
        due_this_week=Count(
            "id",
            filter=Q(
                decision_due__gte=today, decision_due__lte=today + timedelta(days=DUE_SOON_DAYS)
            ),
        ),
    )
    most_urgent = referrals.order_by(F("decision_due").asc(nulls_last=True), "received_at", "id")
    return QueueWork(**counts, most_urgent=most_urgent.first())


@dataclass
class QueuePage:
    rows: list[Referral]
    total: int
    next_after: int | None


def queue_page(
    user: Any, filters: QueueFilters, today: date, *, after: int | None = None
) -> QueuePage:
    """One page of the referral queue, by keyset: `after` is the id of the last referral shown.

    Queries: the count, the cursor row (when paging) and the page with its local authority and
    reviewer. The cursor carries only a referral id: names never travel in the URL.
    """
    keys = QUEUE_SORTS.get(filters.sort, QUEUE_SORTS["due"])
    referrals = queue_referrals(user, filters, today)
    total = referrals.count()
    if after is not None:
        cursor = referrals.filter(pk=after).values_list(*keys).first()
        if cursor is not None:
            referrals = referrals.filter(keyset_after(keys, list(cursor)))
    rows = list(
        referrals.select_related("local_authority", "assigned_to").order_by(*keys)[: PAGE_SIZE + 1]
    )
    next_after = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    return QueuePage(rows=rows[:PAGE_SIZE], total=total, next_after=next_after)


# --- The referral page -----------------------------------------------------------------------


@dataclass
class ReferralPage:
    referral: Referral
    contacts: list[ReferralContact]
    attachments: list[ReferralAttachment]
    transitions: list[ReferralTransition]
    recipients: list[Recipient]
    duplicates: list[Referral]
    matching_people: list[Person]
    matching_referrals: list[Referral]
    notifications: list[Notification]


def referral_page(referral: Referral, user: Any) -> ReferralPage:
    """Everything the referral page shows, in a constant number of queries: contacts,
    attachments, transitions, the referrals linked as duplicates, the people and referrals
    the duplicate guard matches (in the user's scope), and the messages sent to people outside the
    service (the acknowledgement and the outcome)."""
    # The rule reads referral.contacts.all() once per contact: prefetching keeps it to one query.
    prefetch_related_objects([referral], "contacts")
    contacts = list(referral.contacts.all())
    attachments = list(referral.attachments.all())
    transitions = list(referral.transitions.select_related("by"))
    duplicates = list(
        Referral.objects.visible_to(user)
        .filter(duplicate_of=referral)
        .order_by("received_at", "id")
    )
    same = same_person(
        nhs_number=referral.nhs_number,
        given_name=referral.given_name,
        family_name=referral.family_name,
        date_of_birth=referral.date_of_birth,
    )
    if referral.person_id:
        same |= Q(pk=referral.person_id)
    open_entries = RegisterEntry.objects.filter(status=RegisterEntry.Status.OPEN)
    matching_people = list(
        Person.objects.visible_to(user)
        .filter(same)
        .select_related("local_authority")
        .prefetch_related(Prefetch("register_entries", open_entries, to_attr="open_entries"))
        .order_by("family_name", "given_name", "id")[:MATCH_LIMIT]
    )
    matching_referrals = list(
        Referral.objects.visible_to(user)
        .filter(
            same_person(
                nhs_number=referral.nhs_number,
                given_name=referral.given_name,
                family_name=referral.family_name,
                date_of_birth=referral.date_of_birth,
            )
        )
        .exclude(pk=referral.pk)
        .exclude(duplicate_of=referral)
        .order_by("-received_at", "-id")[:MATCH_LIMIT]
    )
    notifications = list(
        # The acknowledgement and the outcome: the deadline reminders to staff share the subject.
        Notification.objects.filter(
            subject_type=SUBJECT, subject_id=referral.pk, kind__in=PUBLIC_KINDS
        )
        .select_related("dealt_with_by")
        .order_by("created_at", "id")
    )
    return ReferralPage(
        referral=referral,
        contacts=contacts,
        attachments=attachments,
        transitions=transitions,
        recipients=outcome_recipients(referral),
        duplicates=duplicates,
        matching_people=matching_people,
        matching_referrals=matching_referrals,
        notifications=notifications,
    )


# --- Reviewers and referrers -----------------------------------------------------------------


def reviewers_for(user: Any) -> QuerySet[User]:
    """Active users in `user`'s organisation who hold dsr.manage_referrals through a role or
    directly: the people a referral may be assigned to."""
    if user.organisation_id is None:
        return User.objects.none()
    permission = Permission.objects.filter(
        content_type__app_label="dsr", codename="manage_referrals"
    )
    return (
        User.objects.filter(organisation_id=user.organisation_id, is_active=True)
        .filter(
            Q(groups__permissions__in=permission)
            | Q(user_permissions__in=permission)
            | Q(is_superuser=True)
        )
        .distinct()
        .order_by("full_name", "id")
    )


# The only columns a referrer's own list shows: who they referred (as they gave the name), the
# status and outcome, never the health details they sent (ACCESS.md "Professional referrer").
OWN_COLUMNS = (
    "id",
    "reference",
    "given_name",
    "family_name",
    "received_at",
    "status",
    "decision_due",
    "decided_at",
)


@dataclass
class OwnPage:
    rows: list[Referral]
    next_after: int | None


def own_referrals_page(user: Any, *, after: int | None = None) -> OwnPage:
    """The referrals `user` submitted, newest first (by id, which only grows), one keyset page
    at a time: `after` is the id of the last referral shown. One query."""
    referrals = Referral.objects.filter(submitted_by=user).only(*OWN_COLUMNS)
    if after is not None:
        referrals = referrals.filter(pk__lt=after)
    rows = list(referrals.order_by("-id")[: PAGE_SIZE + 1])
    next_after = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    return OwnPage(rows=rows[:PAGE_SIZE], next_after=next_after)


@dataclass(frozen=True)
class OwnSummary:
    """How a referrer's referrals stand today."""

    waiting: int
    more_info: int
    past_due: int
    decided_recently: int


# "Decided recently" on a referrer's home page: in the last four weeks.
RECENT_DAYS = 28


def own_referrals_summary(user: Any, today: date) -> OwnSummary:
    """Counts of the referrals `user` submitted: waiting for a decision, of those the ones we
    asked more information about and the ones past their decision date, and those decided in
    the last four weeks. One query."""
    live = Q(status__in=Referral.LIVE)
    since = today - timedelta(days=RECENT_DAYS)
    counts = Referral.objects.filter(submitted_by=user).aggregate(
        waiting=Count("id", filter=live),
        more_info=Count("id", filter=Q(status=Referral.Status.MORE_INFO)),
        past_due=Count("id", filter=live & Q(decision_due__lt=today)),
        decided_recently=Count("id", filter=~live & Q(decided_at__date__gte=since)),
    )
    return OwnSummary(**counts)


def start_url_for(user: Any) -> str:
    """Where `user` starts a referral of their own, their details filled in from their account:
    the professional journey's first page; "" for a user who may not submit one."""
    if not user.has_perm("dsr.submit_referral"):
        return ""
    kind = Referral.ReferrerKind.PROFESSIONAL.value
    return reverse("referrals:step", kwargs={"kind": kind, "step": "about-you"})
