"""Reads for the register, always through the scope helpers of dsr.security.scoping.

Every function runs a fixed number of queries whatever the size of the register (the page tests
check it), and none reads a history table.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce

from dsr.batch import read_together
from dsr.caching import kept_for_a_while
from dsr.deadlines import AgeGroup, birth_date_bounds
from dsr.models import (
    RAG,
    Admission,
    CetrException,
    Consent,
    LocalAuthority,
    Organisation,
    Person,
    PersonContact,
    PersonNeed,
    Placement,
    Rating,
    RegisterEntry,
    RegisterSettings,
    TeamContact,
)
from dsr.models.choices import FAR_FUTURE
from dsr.next_steps import NextStep, PersonState, next_steps_for
from dsr.security.scoping import get_object_for_user, local_authority_ids_for
from dsr.timeline import Timeline, newest, register_events, timeline_for

PAGE_SIZE = 50
RATING_ORDER = [RAG.RED, RAG.AMBER, RAG.BLUE, RAG.GREEN]


def same_person(
    *, nhs_number: str, given_name: str, family_name: str, date_of_birth: Any, prefix: str = ""
) -> Q:
    """Who counts as the same person, everywhere the service asks (the duplicate guard, the
    referral page's matches, the decision's person, a C(E)TR request's candidates): the same
    NHS number; or, where either side has no NHS number, the same name and date of birth. Two
    different NHS numbers are two different people, however alike their names. `prefix` reads
    the fields through a relation ("person__")."""
    by_name = Q(
        **{
            f"{prefix}given_name__iexact": given_name.strip(),
            f"{prefix}family_name__iexact": family_name.strip(),
            f"{prefix}date_of_birth": date_of_birth,
        }
    )
    if not nhs_number:
        return by_name
    no_number = Q(**{f"{prefix}nhs_number": ""}) | Q(**{f"{prefix}nhs_number__isnull": True})
    return Q(**{f"{prefix}nhs_number": nhs_number}) | (by_name & no_number)


def responsible_icb_for(local_authority: LocalAuthority) -> Organisation | None:
    """The ICB that covers `local_authority`, responsible for the people who live there."""
    return Organisation.objects.filter(
        kind=Organisation.Kind.ICB, local_authorities=local_authority
    ).first()


def open_entry(person: Person) -> RegisterEntry | None:
    """The person's open register entry, if they are on the register (the other apps use it)."""
    return RegisterEntry.objects.filter(person=person, status=RegisterEntry.Status.OPEN).first()


def open_admission(person: Person) -> Admission | None:
    """The person's current stay in hospital, if any."""
    return Admission.objects.filter(person=person, discharged_on__isnull=True).first()


def get_organisation_for_user(user: Any, pk: int) -> Organisation:
    """An organisation working in at least one of the user's areas, or 404."""
    return get_object_for_user(Organisation.objects.all(), user, pk=pk)


def local_authorities_for(user: Any) -> Any:
    """The local authorities in the user's scope, for choosing one in a form."""
    return LocalAuthority.objects.filter(pk__in=local_authority_ids_for(user)).order_by("name")


def get_person_for_user(user: Any, pk: int) -> Person:
    """A person the user may see (ACCESS.md), or 404 whether missing or out of scope."""
    return get_object_for_user(
        Person.objects.select_related("local_authority", "responsible_icb"), user, pk=pk
    )


# --- The person page -------------------------------------------------------------------------


@dataclass
class PersonPage:
    person: Person
    entry: RegisterEntry | None
    consent: Consent | None
    admission: Admission | None
    contacts: list[PersonContact]
    next_steps: list[NextStep]
    timeline: Timeline
    past_entries: list[RegisterEntry] = field(default_factory=list)
    needs: list[PersonNeed] = field(default_factory=list)
    # The current placements (at most CURRENT_PLACEMENTS_SHOWN), and how many have ended: the
    # person page lists the current ones and links to the rest (dsr.views.people).
    placements: list[Placement] = field(default_factory=list)
    past_placements_count: int = 0
    # The newest rating decision: why the person has the rating they have.
    latest_rating: Rating | None = None

    @property
    def current_placements(self) -> list[Placement]:
        return [p for p in self.placements if p.ended_on is None]

    @property
    def past_placements(self) -> list[Placement]:
        return [p for p in self.placements if p.ended_on is not None]


# More current placements than this at once would be a mistake in the record; the placements
# page lists them all.
CURRENT_PLACEMENTS_SHOWN = 10


def _current_placements(person: Person) -> Any:
    """The current placements first, each row carrying the count of ended ones (a window over
    the person's placements, counted before the cut): one query for both."""
    return (
        Placement.objects.filter(person=person)
        .annotate(ended_count=Window(Count("id", filter=Q(ended_on__isnull=False))))
        .order_by(F("ended_on").desc(nulls_first=True), "-started_on", "-id")[
            : CURRENT_PLACEMENTS_SHOWN + 1
        ]
    )


def person_page(
    person: Person,
    today: date,
    *,
    timeline_limit: int | None = None,
    timeline: bool = True,
    why: bool = True,
) -> PersonPage:
    """Everything the person page shows, in a constant number of queries: the newest
    `timeline_limit` events of the timeline (all of them when None), so that the work grows with
    what is shown, not with the length of the person's history. Without `timeline`, a page that
    shows the person's state but not their history (the person page itself, a meeting's
    discussion page) reads no events at all: only the rows that say where the person is now
    (the open entry, the active consent, the open admission, the newest C(E)TR exception and
    rating decision), so a long history costs no more to open than a short one.

    `person.page_cache` is a fresh dict for this build of the page: other apps' sources (next
    steps, timeline, page panels) may keep rows there that more than one of them reads. Its
    "timeline" says whether this build has a timeline, which names who did what: without one,
    a source need not read the users; its "on_register" whether the person has an open entry.
    Without `why` and `timeline` no rating is read (a page that reads the ratings itself).
    """
    person.page_cache = {"timeline": timeline}
    entries = RegisterEntry.objects.filter(person=person)
    consents = Consent.objects.filter(person=person)
    admissions = Admission.objects.filter(person=person)
    exceptions = CetrException.objects.filter(person=person)
    if timeline:
        # Who did each, for the timeline: the page without it names no one, and each user
        # joined would cost a score of columns to compile, read and build.
        entries = entries.select_related("opened_by", "closed_by", "consent")
        consents = consents.select_related("recorded_by", "ended_by")
        admissions = admissions.select_related("recorded_by", "discharged_by")
        exceptions = exceptions.select_related("recorded_by")
    else:
        # Now, not then: the open entry and the last one closed (for "died"), the active
        # consent, the open admission.
        entries = entries.filter(
            Q(status=RegisterEntry.Status.OPEN)
            | Q(
                pk=RegisterEntry.objects.filter(person=person)
                .order_by("-closed_on", "-id")
                .exclude(status=RegisterEntry.Status.OPEN)
                .values("pk")[:1]
            )
        )
        consents = consents.filter(ended_on__isnull=True)
        admissions = admissions.filter(discharged_on__isnull=True)
    # The timeline reads the newest ratings; without it, the newest one says why.
    ratings = newest(
        Rating.objects.filter(entry__person=person).select_related("set_by", "meeting"),
        timeline_limit if timeline else 0,
        "-effective_from",
        "-set_at",
        "-id",
    )
    exceptions = newest(
        exceptions,
        timeline_limit if timeline else 0,
        "-held_on",
        "-created_at",
        "-id",
    )
    # One round trip for all of them (dsr.batch).
    entries, consents, admissions, ratings, exceptions, contacts, needs, placement_rows = (
        read_together(
            entries,
            consents,
            admissions,
            ratings if timeline or why else Rating.objects.none(),
            exceptions,
            PersonContact.objects.filter(person=person),
            PersonNeed.objects.filter(person=person, met_on__isnull=True),
            _current_placements(person),
        )
    )
    placements = [p for p in placement_rows if p.ended_on is None][:CURRENT_PLACEMENTS_SHOWN]
    past_placements_count = placement_rows[0].ended_count if placement_rows else 0

    entry = next((e for e in entries if e.is_open), None)
    person.page_cache["on_register"] = entry is not None
    consent = next((c for c in consents if c.is_active), None)
    admission = next((a for a in admissions if a.is_open), None)
    latest_rating = ratings[0] if ratings and entry and ratings[0].entry_id == entry.pk else None
    state = PersonState(
        person=person,
        today=today,
        entry=entry,
        consent=consent,
        admission=admission,
        latest_exception=exceptions[0] if exceptions else None,
        has_key_worker=any(c.role == PersonContact.Role.KEY_WORKER for c in contacts),
    )
    if timeline:
        own = register_events(
            person,
            entries=entries,
            ratings=ratings,
            consents=consents,
            admissions=admissions,
            exceptions=exceptions,
        )
        events = timeline_for(person, own, limit=timeline_limit)
    else:
        events = Timeline([], more=False)
    return PersonPage(
        person=person,
        entry=entry,
        consent=consent,
        admission=admission,
        contacts=contacts,
        next_steps=next_steps_for(state),
        timeline=events,
        past_entries=[e for e in entries if not e.is_open],
        needs=needs,
        placements=placements,
        past_placements_count=past_placements_count,
        latest_rating=latest_rating,
    )


def person_placements(person: Person, *, limit: int) -> tuple[list[Placement], bool]:
    """The person's placements, current first and then the newest, at most `limit` (one
    query): and whether there are more."""
    rows = list(
        Placement.objects.filter(person=person).order_by(
            F("ended_on").desc(nulls_first=True), "-started_on", "-id"
        )[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


# --- The register list -----------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterFilters:
    rating: str = ""
    age_group: str = ""
    local_authority: int | None = None
    diagnosis: str = ""
    key_worker: str = ""  # "yes" or "no"
    overdue: bool = False
    sort: str = "name"

    def as_detail(self) -> dict[str, Any]:
        """The filters as plain values, for the access log (no personal data in them)."""
        return {k: v for k, v in self.__dict__.items() if v not in ("", None, False)}


SORTS = {
    # sort name: the keyset columns, in order (all ascending, the last one unique)
    "name": ["person__family_name", "person__given_name", "id"],
    "rating": ["rating_rank", "person__family_name", "person__given_name", "id"],
    "review": ["review_key", "id"],
}


def open_entries_for(user: Any) -> Any:
    """Open register entries in the user's areas (register staff and the DSR lead)."""
    if not user.has_perm("dsr.view_register"):
        return RegisterEntry.objects.none()
    return RegisterEntry.objects.filter(
        status=RegisterEntry.Status.OPEN,
        person__local_authority_id__in=local_authority_ids_for(user),
    )


def in_age_group(group: AgeGroup, today: date, *, prefix: str = "person__") -> Q:
    """Born within the dates that put someone in `group` today (dsr.deadlines.birth_date_bounds)."""
    earliest, latest = birth_date_bounds(group, today)
    condition = Q()
    if earliest is not None:
        condition &= Q(**{f"{prefix}date_of_birth__gte": earliest})
    if latest is not None:
        condition &= Q(**{f"{prefix}date_of_birth__lte": latest})
    return condition


def _key_worker_exists() -> Exists:
    return Exists(
        PersonContact.objects.filter(
            person_id=OuterRef("person_id"), role=PersonContact.Role.KEY_WORKER
        )
    )


def filtered_entries(user: Any, filters: RegisterFilters, today: date) -> Any:
    """The open entries matching the filters, annotated with the sort keys."""
    entries = open_entries_for(user)
    if filters.rating:
        entries = entries.filter(rating=filters.rating)
    if filters.age_group:
        entries = entries.filter(in_age_group(AgeGroup(filters.age_group), today))
    if filters.local_authority:
        entries = entries.filter(person__local_authority_id=filters.local_authority)
    if filters.diagnosis:
        entries = entries.filter(person__diagnosis=filters.diagnosis)
    if filters.key_worker == "yes":
        entries = entries.filter(_key_worker_exists())
    elif filters.key_worker == "no":
        entries = entries.filter(~_key_worker_exists())
    if filters.overdue:
        entries = entries.filter(rating_review_due__lt=today)
    return _with_sort_keys(entries)


def _with_sort_keys(entries: Any) -> Any:
    return entries.annotate(
        rating_rank=Case(
            *[When(rating=r, then=Value(i)) for i, r in enumerate(RATING_ORDER)],
            output_field=IntegerField(),
        ),
        review_key=Coalesce("rating_review_due", Value(FAR_FUTURE)),
    )


def keyset_after(keys: list[str], values: list[Any]) -> Q:
    """Rows strictly after `values` in the order of `keys` (a keyset, or "seek", condition).

    The first key's bound is also given on its own (`key >= value`), so that an index led by
    that key starts at the cursor instead of reading, and filtering out, every row before it
    (PERFORMANCE.md T5: at page 500 the expanded OR alone read 62,000 rows to find 51)."""
    condition = Q()
    for i, key in enumerate(keys):
        step = Q(**{f"{key}__gt": values[i]})
        for prior, value in zip(keys[:i], values[:i], strict=True):
            step &= Q(**{prior: value})
        condition |= step
    return Q(**{f"{keys[0]}__gte": values[0]}) & condition


@dataclass
class RegisterPage:
    rows: list[RegisterEntry]
    total: int
    next_after: int | None


def register_page(
    user: Any, filters: RegisterFilters, today: date, *, after: int | None = None
) -> RegisterPage:
    """One page of the register list, by keyset: `after` is the id of the last entry shown.

    Queries: the count, the cursor row (when paging), the page, and the key workers of the page.
    The cursor carries only an entry id: names never travel in the URL.
    """
    keys = SORTS.get(filters.sort, SORTS["name"])
    entries = filtered_entries(user, filters, today)
    # The total is counted over the whole filtered register, so it is kept (per scope and
    # filters, until the register next changes): the rows below come by keyset.
    total, _ = kept_for_a_while(
        "register-list-total",
        user,
        (replace(filters, sort=""), today),
        entries.count,
        settings.DSR_LIST_COUNT_CACHE_SECONDS,
        following=("register",),
    )
    unpaged = entries
    if after is not None:
        # Read the cursor row's keys whatever its state now: if it has since closed or stopped
        # matching, the next page still starts after it rather than going back to the start.
        cursor = (
            _with_sort_keys(RegisterEntry.objects.filter(pk=after))
            .filter(person__local_authority_id__in=local_authority_ids_for(user))
            .values_list(*keys)
            .first()
        )
        if cursor is not None:
            entries = entries.filter(keyset_after(keys, list(cursor)))
    else:
        cursor = None
    if filters.sort == "rating" and connection.features.supports_slicing_ordering_in_compound:
        entries = entries.filter(pk__in=_by_rating_candidates(unpaged, cursor))
    key_workers = PersonContact.objects.filter(role=PersonContact.Role.KEY_WORKER)
    rows = list(
        entries.select_related("person", "person__local_authority")
        .prefetch_related(Prefetch("person__contacts", key_workers, to_attr="key_workers"))
        .order_by(*keys)[: PAGE_SIZE + 1]
    )
    next_after = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    return RegisterPage(rows=rows[:PAGE_SIZE], total=total, next_after=next_after)


def _by_rating_candidates(entries: Any, cursor: tuple | None) -> list[int]:
    """For the list sorted by rating: the first PAGE_SIZE + 1 entries by name of each rating
    after the cursor (rating rank, family name, given name, id), so the page is among them. One
    query, a UNION ALL of one walk of the name index per rating, in place of sorting every
    matching entry by a computed rank (which grew with the register: 100 ms at 100,000
    people). Ratings before the cursor's are left out: no row of theirs comes after it."""
    name_keys = SORTS["name"]
    parts = []
    for rank, rating in enumerate(RATING_ORDER):
        bucket = entries.filter(rating=rating)
        if cursor is not None and rank < cursor[0]:
            continue
        if cursor is not None and rank == cursor[0]:
            bucket = bucket.filter(keyset_after(name_keys, list(cursor[1:])))
        parts.append(bucket.order_by(*name_keys).values_list("id", flat=True)[: PAGE_SIZE + 1])
    if len(parts) == 1:
        return list(parts[0])
    return list(parts[0].union(*parts[1:], all=True))


def export_rows(user: Any, filters: RegisterFilters, today: date) -> Any:
    """Every entry matching the filters, for the CSV export, streamed in chunks."""
    keys = SORTS.get(filters.sort, SORTS["name"])
    return (
        filtered_entries(user, filters, today)
        .select_related("person", "person__local_authority")
        .order_by(*keys)
    )


# --- Search (by POST only) -------------------------------------------------------------------


def search_people(
    user: Any, *, name: str = "", nhs_number: str = "", date_of_birth: date | None = None
) -> list[Person]:
    """People the user may see matching every term given (at most PAGE_SIZE)."""
    people = Person.objects.visible_to(user)
    for word in name.split():
        people = people.filter(Q(given_name__icontains=word) | Q(family_name__icontains=word))
    if nhs_number:
        people = people.filter(nhs_number=nhs_number)
    if date_of_birth:
        people = people.filter(date_of_birth=date_of_birth)
    open_entries = RegisterEntry.objects.filter(status=RegisterEntry.Status.OPEN)
    return list(
        people.select_related("local_authority")
        .prefetch_related(Prefetch("register_entries", open_entries, to_attr="open_entries"))
        .order_by("family_name", "given_name", "id")[:PAGE_SIZE]
    )


# --- The dashboard ---------------------------------------------------------------------------


@dataclass
class Dashboard:
    by_rating: list[tuple[str, str, int]]
    by_age_group: list[tuple[str, str, int]]
    total: int
    overdue_reviews: int
    reviews_due_soon: int
    overdue_rows: list[RegisterEntry]
    consent_reviews_due: int
    consent_reviews_overdue: int
    consent_rows: list[Consent]
    counted_at: datetime | None = None


CONSENT_DUE_WITHIN = timedelta(days=30)
# "Due this week" on the home page: today or within the next six days.
DUE_SOON = timedelta(days=6)
DASHBOARD_LIST = 10


def _headline_counts(user: Any, today: date) -> dict[str, Any]:
    """The dashboard's counts over the whole of the user's register: three grouped queries."""
    entries = open_entries_for(user)
    counts = dict(entries.values_list("rating").annotate(n=Count("id")).order_by())
    by_age = entries.aggregate(
        **{group.value: Count("id", filter=in_age_group(group, today)) for group in AgeGroup},
        overdue_reviews=Count("id", filter=Q(rating_review_due__lt=today)),
        reviews_due_soon=Count(
            "id", filter=Q(rating_review_due__gte=today, rating_review_due__lte=today + DUE_SOON)
        ),
    )
    return {
        "by_rating": [(r.value, r.label, counts.get(r.value, 0)) for r in RATING_ORDER],
        "by_age_group": [(g.value, g.label, by_age[g.value]) for g in AgeGroup],
        "total": sum(counts.values()),
        "overdue_reviews": by_age["overdue_reviews"],
        "reviews_due_soon": by_age["reviews_due_soon"],
        **_consents_due(entries, today).aggregate(
            consent_reviews_due=Count("id"),
            consent_reviews_overdue=Count("id", filter=Q(review_due__lt=today)),
        ),
    }


def _consents_due(entries: Any, today: date) -> Any:
    return Consent.objects.filter(
        ended_on__isnull=True,
        review_due__lte=today + CONSENT_DUE_WITHIN,
        person__register_entries__in=entries,
    )


def headline_counts(user: Any, today: date) -> tuple[dict[str, Any], datetime]:
    """The dashboard's headline counts and when they were counted, kept for
    DSR_DASHBOARD_CACHE_SECONDS (dsr.caching) until the register next changes: shared by the
    dashboard and the home page, so the home page costs no more than the dashboard."""
    return kept_for_a_while(
        "dashboard",
        user,
        (today,),
        lambda: _headline_counts(user, today),
        settings.DSR_DASHBOARD_CACHE_SECONDS,
        following=("register",),
    )


def dashboard_for(user: Any, today: date) -> Dashboard:
    """Headline counts (kept for DSR_DASHBOARD_CACHE_SECONDS: dsr.caching) and the most urgent
    work, live: at most five queries."""
    entries = open_entries_for(user)
    counts, counted_at = headline_counts(user, today)
    return Dashboard(
        **counts,
        counted_at=counted_at,
        overdue_rows=list(
            entries.filter(rating_review_due__lt=today)
            .select_related("person")
            .order_by("rating_review_due", "id")[:DASHBOARD_LIST]
        ),
        consent_rows=list(
            _consents_due(entries, today)
            .select_related("person")
            .order_by("review_due", "id")[:DASHBOARD_LIST]
        ),
    )


def register_settings_changes(limit: int = 5) -> list[Any]:
    """The latest saves of the register settings, newest first: when, and who."""
    return list(RegisterSettings.history.order_by("-history_date", "-history_id")[:limit])


def team_contact() -> TeamContact | None:
    """The DSR team's contact details, or None before the DSR lead has set them: one query."""
    return TeamContact.objects.filter(singleton=True).first()
