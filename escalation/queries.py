"""Reads for escalations, always scoped. The queue runs a fixed number of queries whatever the
number of people or escalations (the page test checks it at 10 and 1,000)."""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from dsr.caching import kept_for_a_while
from dsr.models import Organisation, Person, RegisterEntry, User
from dsr.queries import keyset_after, local_authorities_for
from dsr.roles import Role
from dsr.security.scoping import get_object_for_user, local_authority_ids_for
from escalation import rules
from escalation.fixes import fix_for
from escalation.models import LIVE, Escalation, EscalationTransition, QueuePlace
from reviews.models import Action, Cetr

PAGE_SIZE = 50
TOP_LIST = 200
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# waiting_rank: someone with an escalation past its acknowledgement deadline, then someone with
# one waiting for acknowledgement, then everyone else.
PAST_DEADLINE, WAITING, NOT_WAITING = 0, 1, 2
AGE_BANDS = [
    (0, 2, "0 to 2 days"),
    (3, 7, "3 to 7 days"),
    (8, 28, "8 to 28 days"),
    (29, None, "Over 28 days"),
]


@dataclass(frozen=True)
class QueueFilters:
    organisation: int | None = None
    local_authority: int | None = None
    level: int | None = None
    past_deadline: bool | None = None

    def as_detail(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class QueueRow:
    person: Person
    entry: RegisterEntry | None
    escalations: list[Escalation]
    open_actions: int = 0
    overdue_actions: int = 0
    next_cetr: date | None = None
    owners: list[str] = field(default_factory=list)

    @property
    def days_at_rating(self) -> int:
        return (timezone.localdate() - self.entry.rating_since).days if self.entry else 0

    @property
    def waiting(self) -> list[Escalation]:
        return [e for e in self.escalations if e.status == Escalation.Status.OPEN]

    @property
    def past_deadline(self) -> bool:
        return any(e.past_deadline for e in self.escalations)


@dataclass
class QueueCounts:
    """What is waiting in the queue: escalations not yet acknowledged, those past their
    deadline, and the live ones at each level (with how many of them wait)."""

    waiting: int
    past_deadline: int
    levels: list[dict[str, Any]]


@dataclass
class QueuePage:
    """One keyset page of the queue: the people on it with an escalation waiting for the
    user's acknowledgement (they come first), and the rest."""

    rows: list[QueueRow]
    total: int
    next_after: str | None
    counts: QueueCounts

    @property
    def waiting_rows(self) -> list[QueueRow]:
        return [row for row in self.rows if row.person.waiting_rank != NOT_WAITING]

    @property
    def other_rows(self) -> list[QueueRow]:
        return [row for row in self.rows if row.person.waiting_rank == NOT_WAITING]


def awaiting_acknowledgement(user: Any) -> Any:
    """The escalations waiting for this user's acknowledgement, the one definition the home
    page and the queue both count and list: open, in the user's area (or about someone whose
    area is not known yet, for the ICB), and for a senior manager at their level or above
    (ACCESS.md: they acknowledge escalations at their level, and keep those that climb past
    them; level 1 is the DSR lead's, the register team's housekeeping). The register team's
    queue holds every open escalation."""
    escalations = Escalation.objects.visible_to(user).filter(status=Escalation.Status.OPEN)
    if user.has_perm("dsr.view_register"):
        return escalations
    return escalations.filter(level__gte=max(rules.level_for(user), 1))


def acknowledgement_counts(
    user: Any, today: date, filters: QueueFilters | None = None
) -> dict[str, int]:
    """How many escalations wait for the user's acknowledgement and how many of them are past
    the deadline, in the chosen area or organisation. One query."""
    escalations = awaiting_acknowledgement(user)
    if filters and filters.local_authority:
        escalations = escalations.filter(local_authority_id=filters.local_authority)
    if filters and filters.organisation:
        escalations = escalations.filter(local_authority__organisations=filters.organisation)
    return escalations.aggregate(
        waiting=Count("id", distinct=True),
        late=Count("id", filter=Q(ack_due_on__lt=today), distinct=True),
    )


def queue_level(user: Any) -> int:
    """Which level's queue the user works from: the register team's holds every live
    escalation (level 1 and above); a senior manager's, those escalated to their level or
    above (a late review of a Green person is the DSR team's business, not theirs)."""
    if user.has_perm("dsr.view_register"):
        return 1
    return max(rules.level_for(user), 1)


def _places(user: Any, filters: QueueFilters) -> Any:
    """The places in the user's queue (escalation.queue_order keeps them): Red and Amber people
    in the user's areas, and anyone there with a live escalation at the user's level or above;
    narrowed by the area, organisation and level filters."""
    places = QueuePlace.objects.filter(
        level=queue_level(user), local_authority_id__in=local_authority_ids_for(user)
    )
    if filters.local_authority:
        places = places.filter(local_authority_id=filters.local_authority)
    if filters.organisation:
        places = places.filter(local_authority__organisations=filters.organisation)
    if filters.level:
        live = Escalation.objects.filter(
            person=OuterRef("person_id"), status__in=LIVE, level=filters.level
        )
        places = places.filter(Exists(live))
    return places


def _exact_rank(user: Any, today: date) -> Case:
    """The waiting rank worked out for this user from the escalations themselves: for a person
    with an open escalation raised outside their own area, which the user may or may not see.
    Worked out when read (a late sweep never hides a breach): the day after the deadline."""
    waiting = awaiting_acknowledgement(user).filter(person=OuterRef("person_id"))
    return Case(
        When(Exists(waiting.filter(ack_due_on__lt=today)), then=Value(PAST_DEADLINE)),
        When(Exists(waiting), then=Value(WAITING)),
        default=Value(NOT_WAITING),
        output_field=IntegerField(),
    )


def _past_deadline(user: Any, today: date) -> Q:
    home = Q(elsewhere=False, waiting=True, ack_due_on__lt=today)
    waiting = awaiting_acknowledgement(user).filter(person=OuterRef("person_id"))
    return home | Q(Q(elsewhere=True) & Q(Exists(waiting.filter(ack_due_on__lt=today))))


PLACE_KEYS = ["rating_rank", "oldest_raised_at", "person_id"]
PLACE_ORDER = ["waiting_rank", *PLACE_KEYS]


def _ordered(
    user: Any, places: Any, today: date, position: list[Any] | None, past_only: bool
) -> list[dict[str, Any]]:
    """The next PAGE_SIZE + 1 places in the queue's order after `position`. The order is past
    the deadline, then waiting, then everyone else; each group is read in its own order from
    the index (rating, oldest escalation, person), at most a page of it, and the groups are
    merged: no page sorts the whole queue. Today decides which waiting places are past their
    deadline, so the groups are split when read, not when written."""
    home = places.filter(elsewhere=False)
    groups = [
        (PAST_DEADLINE, home.filter(waiting=True, ack_due_on__lt=today)),
        (WAITING, home.filter(waiting=True).exclude(ack_due_on__lt=today)),
        (NOT_WAITING, home.filter(waiting=False)),
    ]
    parts = []
    for rank, group in groups:
        if (past_only and rank != PAST_DEADLINE) or (position and rank < position[0]):
            continue
        if position and rank == position[0]:
            group = group.filter(keyset_after(PLACE_KEYS, position[1:]))
        group = group.annotate(waiting_rank=Value(rank, output_field=IntegerField()))
        parts.append(group.values("person_id", "waiting_rank", *PLACE_KEYS[:2]))
    # The few people with an open escalation raised outside their own area: placed for this
    # user from the escalations themselves.
    other = places.filter(elsewhere=True).annotate(waiting_rank=_exact_rank(user, today))
    if past_only:
        other = other.filter(waiting_rank=PAST_DEADLINE)
    if position:
        other = other.filter(keyset_after(PLACE_ORDER, position))
    other = other.values("person_id", "waiting_rank", *PLACE_KEYS[:2])
    if connection.features.supports_slicing_ordering_in_compound:
        # At most a page from each part, in the index's order (SQLite cannot limit a part of
        # a union: it reads them whole).
        parts = [part.order_by(*PLACE_KEYS)[: PAGE_SIZE + 1] for part in parts]
        other = other.order_by(*PLACE_ORDER)[: PAGE_SIZE + 1]
    parts.append(other)
    first, *rest = parts
    return list(first.union(*rest, all=True).order_by(*PLACE_ORDER)[: PAGE_SIZE + 1])


_CURSOR = re.compile(r"([012])-([0-3])-([0-9]{1,20})-([0-9]{1,18})")


def cursor_of(person: Any) -> str:
    """The queue position of the last person on a page, as the values of its sort keys: the
    next page starts after that position even if the person has since moved (acknowledged,
    re-rated) or left the queue, so nobody is skipped or shown twice because of it. Digits
    only: nothing about the person travels in the URL."""
    micros = (person.oldest_key - EPOCH) // timedelta(microseconds=1)
    return f"{person.waiting_rank}-{person.rating_rank}-{micros}-{person.pk}"


def parse_cursor(raw: str) -> list[Any] | None:
    match = _CURSOR.fullmatch(raw or "")
    if not match:
        return None
    waiting, rating, micros, pk = (int(part) for part in match.groups())
    try:
        oldest = EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return None
    return [waiting, rating, oldest, pk]


def queue_page(user: Any, filters: QueueFilters, *, after: str = "") -> QueuePage:
    """One page of the queue by keyset (`after` is the position of the last person shown),
    split in two: the people with an escalation waiting for the user's acknowledgement (they
    come first in the order), then everyone else. With what each row shows: open escalations
    and their reasons, deadlines and fixes, days at the rating, last review, next C(E)TR, open
    and overdue actions, and the owners; and the counts at the top. The same number of queries
    at any size (the queue test counts them)."""
    today = timezone.localdate()
    places = _places(user, filters)
    counted = places.filter(_past_deadline(user, today)) if filters.past_deadline else places
    # The total counts the whole queue, so it is kept until the register or an escalation
    # next changes (or the day does: deadlines pass). Kept per user: who is in a queue depends
    # on the user's role and level.
    total, _ = kept_for_a_while(
        "escalation-queue-total",
        user,
        (user.pk, filters, today),
        counted.count,
        settings.DSR_LIST_COUNT_CACHE_SECONDS,
        following=("register", "escalation"),
    )
    found = _ordered(user, places, today, parse_cursor(after), bool(filters.past_deadline))
    people = Person.objects.select_related("local_authority").in_bulk(
        [place["person_id"] for place in found]
    )
    shown = []
    for place in found:
        person = people.get(place["person_id"])
        if person is None:  # erased since the place was read
            continue
        person.waiting_rank = place["waiting_rank"]
        person.rating_rank = place["rating_rank"]
        person.oldest_key = place["oldest_raised_at"]
        shown.append(person)
    next_after = cursor_of(shown[PAGE_SIZE - 1]) if len(shown) > PAGE_SIZE else None
    return QueuePage(
        rows=_rows(shown[:PAGE_SIZE], today, user),
        total=total,
        next_after=next_after,
        counts=queue_counts(user, filters, today),
    )


def queue_counts(user: Any, filters: QueueFilters, today: date) -> QueueCounts:
    """The escalations waiting for the user's acknowledgement and those past the deadline
    (acknowledgement_counts, as the home page counts them), and the live escalations of
    everyone in the user's queue by level, in the chosen area or organisation (the level and
    deadline filters narrow the rows, not the counts). Two queries, over the whole queue: so
    kept, like the total, until the register or an escalation next changes (or the day does),
    per user and area."""
    area = QueueFilters(local_authority=filters.local_authority, organisation=filters.organisation)

    def count() -> QueueCounts:
        in_queue = _places(user, area).values("person_id")
        waiting = Q(status=Escalation.Status.OPEN)
        top = rules.top_level()
        by_level = {}
        for level in range(1, top + 1):
            by_level[f"live{level}"] = Count("id", filter=Q(level=level))
            by_level[f"waiting{level}"] = Count("id", filter=waiting & Q(level=level))
        found = Escalation.objects.filter(status__in=LIVE, person__in=in_queue).aggregate(
            **by_level
        )
        mine = acknowledgement_counts(user, today, area)
        return QueueCounts(
            waiting=mine["waiting"],
            past_deadline=mine["late"],
            levels=[
                {
                    "level": level,
                    "name": rules.level_name(level),
                    "live": found[f"live{level}"],
                    "waiting": found[f"waiting{level}"],
                }
                for level in range(1, top + 1)
            ],
        )

    counts, _ = kept_for_a_while(
        "escalation-queue-counts",
        user,
        (user.pk, area, today),
        count,
        settings.DSR_LIST_COUNT_CACHE_SECONDS,
        following=("register", "escalation"),
    )
    return counts


def _rows(people: list[Person], today: date, user: Any) -> list[QueueRow]:
    ids = [p.pk for p in people]
    entries = {
        e.person_id: e
        for e in RegisterEntry.objects.filter(person_id__in=ids, status=RegisterEntry.Status.OPEN)
    }
    escalations: dict[int, list[Escalation]] = defaultdict(list)
    raised_level = Subquery(
        EscalationTransition.objects.filter(escalation=OuterRef("pk"), from_status="").values(
            "to_level"
        )[:1]
    )
    for escalation in (
        Escalation.objects.filter(person_id__in=ids, status__in=LIVE)
        .annotate(raised_level=Coalesce(raised_level, "level"))
        # Past the deadline first, then waiting, then acknowledged; then the highest level.
        .order_by(
            Case(
                When(status=Escalation.Status.OPEN, ack_due_on__lt=today, then=Value(0)),
                When(status=Escalation.Status.OPEN, then=Value(1)),
                default=Value(2),
            ),
            "-level",
            "raised_at",
            "id",
        )
    ):
        escalation.past_deadline = escalation.is_ack_overdue(today)
        escalation.fix = fix_for(escalation, user)
        escalations[escalation.person_id].append(escalation)
    actions = {
        row["person_id"]: row
        for row in Action.objects.filter(person_id__in=ids, status=Action.Status.OPEN)
        .values("person_id")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
    }
    next_cetr: dict[int, date] = {}
    for cetr in Cetr.objects.filter(person_id__in=ids, status=Cetr.Status.PLANNED):
        due = cetr.scheduled_on or cetr.due_on
        if due and (cetr.person_id not in next_cetr or due < next_cetr[cetr.person_id]):
            next_cetr[cetr.person_id] = due
    owners = owners_for(
        (person.local_authority_id, e.level) for person in people for e in escalations[person.pk]
    )
    rows = []
    for person in people:
        live = escalations[person.pk]
        top = max((e.level for e in live), default=None)
        names = (
            [u.full_name for u in owners.get((person.local_authority_id, top), [])] if top else []
        )
        counts = actions.get(person.pk, {})
        rows.append(
            QueueRow(
                person=person,
                entry=entries.get(person.pk),
                escalations=live,
                open_actions=counts.get("open", 0),
                overdue_actions=counts.get("overdue", 0),
                next_cetr=next_cetr.get(person.pk),
                owners=names,
            )
        )
    return rows


def queue_choices(user: Any) -> dict[str, Any]:
    """The filters' choices: the areas and organisations in the user's scope, and the levels."""
    scope = local_authority_ids_for(user)
    return {
        "local_authorities": local_authorities_for(user),
        "organisations": Organisation.objects.filter(local_authorities__in=scope)
        .distinct()
        .order_by("name"),
        "levels": [(n, f"{n}: {rules.level_name(n)}") for n in range(1, rules.top_level() + 1)],
    }


def get_escalation_for_user(user: Any, pk: int) -> Escalation:
    return get_object_for_user(
        Escalation.objects.select_related(
            "person", "local_authority", "raised_by", "acknowledged_by", "resolved_by", "previous"
        ),
        user,
        pk=pk,
    )


@dataclass
class Summary:
    levels: list[dict[str, Any]]
    bands: list[str]
    total: int
    top_people: list[Escalation]


def summary_for(user: Any, today: date) -> Summary:
    """Open escalations by level and age (one grouped query), and the escalations at the top
    level with their people (ACCESS.md: the executive lead sees the people behind them)."""
    now = timezone.now()
    live = _summary_scope(user)
    aggregates = {}
    for index, (low, high, _label) in enumerate(AGE_BANDS):
        window = Q(raised_at__lte=now - timedelta(days=low))
        if high is not None:
            window &= Q(raised_at__gt=now - timedelta(days=high + 1))
        aggregates[f"band{index}"] = Count("id", filter=window)
    grouped = {
        row["level"]: row
        for row in live.values("level").annotate(total=Count("id"), **aggregates).order_by("level")
    }
    levels = []
    for level in range(1, rules.top_level() + 1):
        row = grouped.get(level, {})
        levels.append(
            {
                "level": level,
                "name": rules.level_name(level),
                "bands": [row.get(f"band{i}", 0) for i in range(len(AGE_BANDS))],
                "total": row.get("total", 0),
            }
        )
    top = list(
        live.filter(level=rules.top_level())
        .select_related("person", "local_authority")
        .order_by("raised_at", "id")[:TOP_LIST]
    )
    return Summary(
        levels=levels,
        bands=[label for _, _, label in AGE_BANDS],
        total=sum(level["total"] for level in levels),
        top_people=top,
    )


def _summary_scope(user: Any) -> Any:
    """Every live escalation in the user's areas (counts only: no one is named below the top
    level)."""
    from dsr.security.scoping import in_area_or_unknown_for_icb

    return Escalation.objects.filter(in_area_or_unknown_for_icb(user)).live()


def owners_for(pairs: Iterable[tuple[int | None, int]]) -> dict[tuple[int | None, int], list[User]]:
    """The owners of each (local authority, level): active users holding one of the level's
    roles whose organisation covers the area (for an unknown area, the ICB's). Two queries."""
    pairs = set(pairs)
    labels = {
        str(role_label)
        for _, level in pairs
        for role_label in _role_labels(rules.level_roles(level))
    }
    if not pairs or not labels:
        return {pair: [] for pair in pairs}
    users = (
        User.objects.filter(is_active=True, groups__name__in=labels)
        .select_related("organisation")
        .prefetch_related("groups", "organisation__local_authorities")
        .distinct()
        .order_by("full_name", "id")
    )
    found: dict[tuple[int | None, int], list[User]] = defaultdict(list)
    for user in users:
        if user.organisation is None:
            continue
        held = {group.name for group in user.groups.all()}
        areas = {la.pk for la in user.organisation.local_authorities.all()}
        is_icb = user.organisation.kind == Organisation.Kind.ICB
        for area, level in pairs:
            if not held & set(_role_labels(rules.level_roles(level))):
                continue
            if (area is None and is_icb) or area in areas:
                found[(area, level)].append(user)
    return {pair: found.get(pair, []) for pair in pairs}


def _role_labels(values: Iterable[str]) -> list[str]:
    return [Role(value).label for value in values]
