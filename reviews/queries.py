"""Reads for reviews, always scoped (dsr.security.scoping). Every function runs a fixed number of
queries whatever the number of people, meetings or actions (the page tests check it)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet, Window
from django.utils import timezone

from dsr import deadlines
from dsr.batch import read_together
from dsr.models import (
    RAG,
    Admission,
    Need,
    Person,
    PersonContact,
    PersonNeed,
    Rating,
    RegisterEntry,
)
from dsr.next_steps import NextStep
from dsr.queries import open_entries_for, person_page, same_person
from dsr.security.scoping import get_object_for_user, local_authority_ids_for
from reviews.models import (
    Action,
    ActionLink,
    ActionLinkUse,
    AgendaItem,
    AgendaReason,
    Attendee,
    Cetr,
    CetrRequest,
    Meeting,
    OversightVisit,
)

HOSPITAL_KINDS = (Cetr.Kind.POST_ADMISSION, Cetr.Kind.INPATIENT)


def lookahead() -> timedelta:
    """How far ahead of a meeting a C(E)TR or visit falling due puts someone on its agenda
    (`DSR_AGENDA_LOOKAHEAD_DAYS`, 14, or what the DSR lead set: dsr.deadlines)."""
    return timedelta(days=deadlines.agenda_lookahead_days())


# --- Due dates in hospital ---------------------------------------------------------------------


@dataclass(frozen=True)
class HospitalDue:
    cetr_due: date
    post_admission_owed: bool
    visit_due: date | None


def hospital_due(
    admission: Admission,
    *,
    date_of_birth: date,
    out_of_area: bool,
    last_hospital_cetr: date | None,
    last_visit: date | None,
    today: date,
) -> HospitalDue:
    """When the next C(E)TR and (out of area) oversight visit fall due for an open admission.

    A post-admission C(E)TR is owed only when no community C(E)TR preceded the admission and
    none has been held since (rule 7); after that, inpatient C(E)TRs repeat from the last one
    held (rule 8). Visits repeat every 6 weeks for a child, 8 for an adult (rule 12).
    """
    is_child_at_admission = deadlines.age_on(date_of_birth, admission.admitted_on) < 18
    is_child = deadlines.age_on(date_of_birth, today) < 18
    owed = not admission.community_cetr_before_admission and last_hospital_cetr is None
    if owed:
        cetr_due = deadlines.post_admission_cetr_due(
            admission.admitted_on, is_child=is_child_at_admission
        )
    else:
        cetr_due = deadlines.inpatient_cetr_next_due(
            last_hospital_cetr or admission.admitted_on,
            is_child=is_child,
            secure=admission.is_secure,
        )
    visit_due = None
    if out_of_area:
        visit_due = deadlines.oversight_visit_due(
            last_visit or admission.admitted_on, is_child=is_child
        )
    return HospitalDue(cetr_due=cetr_due, post_admission_owed=owed, visit_due=visit_due)


def open_admissions_with_due(
    area_ids: Iterable[int], today: date
) -> list[tuple[Admission, HospitalDue]]:
    """Every open admission of someone on the register in the areas, with its due dates, in one
    query."""
    admissions = (
        Admission.objects.filter(
            discharged_on__isnull=True,
            person__local_authority_id__in=list(area_ids),
            person__register_entries__status=RegisterEntry.Status.OPEN,
        )
        .select_related("person")
        .annotate(
            last_hospital_cetr=Max("cetrs__held_on", filter=Q(cetrs__status=Cetr.Status.COMPLETED)),
            last_visit=Max("oversight_visits__visited_on"),
        )
    )
    return [
        (
            admission,
            hospital_due(
                admission,
                date_of_birth=admission.person.date_of_birth,
                out_of_area=admission.person.out_of_area,
                last_hospital_cetr=admission.last_hospital_cetr,
                last_visit=admission.last_visit,
                today=today,
            ),
        )
        for admission in admissions
    ]


# --- The agenda --------------------------------------------------------------------------------


def agenda_candidates(*, kind: str, on: date, area_ids: Iterable[int]) -> dict[int, list[str]]:
    """Who belongs on a meeting held on `on` for these areas, with the reasons, from the
    register (issue "Reviews" point 1): every Red person; Amber people whose review is due by
    the meeting; Blue people with a C(E)TR or an oversight visit due by the meeting (plus the
    lookahead); anyone with an overdue action; and, for an oversight panel, people with overdue
    C(E)TR recommendations (rule 11). An urgent meeting is about the people added by hand.
    Five queries, whatever the register's size."""
    if kind == Meeting.Kind.URGENT:
        return {}
    area_ids = list(area_ids)
    reasons: dict[int, list[str]] = defaultdict(list)
    entries = RegisterEntry.objects.filter(
        status=RegisterEntry.Status.OPEN, person__local_authority_id__in=area_ids
    )
    for person_id in entries.filter(rating=RAG.RED).values_list("person_id", flat=True):
        reasons[person_id].append(AgendaReason.RED)
    amber_due = entries.filter(rating=RAG.AMBER, rating_review_due__lte=on)
    for person_id in amber_due.values_list("person_id", flat=True):
        reasons[person_id].append(AgendaReason.AMBER_DUE)
    horizon = on + lookahead()
    for admission, due in open_admissions_with_due(area_ids, on):
        if due.cetr_due <= horizon:
            reasons[admission.person_id].append(AgendaReason.CETR_DUE)
        if due.visit_due is not None and due.visit_due <= horizon:
            reasons[admission.person_id].append(AgendaReason.VISIT_DUE)
    overdue = Action.objects.filter(
        status=Action.Status.OPEN,
        due_on__lt=on,
        person__local_authority_id__in=area_ids,
        person__register_entries__status=RegisterEntry.Status.OPEN,
    )
    rows = overdue.values("person_id").annotate(
        recommendations=Count("id", filter=Q(source=Action.Source.CETR))
    )
    for row in rows:
        reasons[row["person_id"]].append(AgendaReason.OVERDUE_ACTIONS)
        if kind == Meeting.Kind.OVERSIGHT_PANEL and row["recommendations"]:
            reasons[row["person_id"]].append(AgendaReason.OVERDUE_RECOMMENDATIONS)
    return dict(reasons)


def meeting_area_ids(meeting: Meeting, user: Any) -> list[int]:
    """The areas a meeting's agenda draws on: its own local authority, or every area in the
    user's scope."""
    scope = local_authority_ids_for(user)
    if meeting.local_authority_id:
        return [meeting.local_authority_id] if meeting.local_authority_id in scope else []
    return sorted(scope)


# --- Pages -------------------------------------------------------------------------------------


def get_meeting_for_user(user: Any, pk: int) -> Meeting:
    return get_object_for_user(
        Meeting.objects.select_related("chair", "local_authority", "created_by"), user, pk=pk
    )


def meetings_for(user: Any, *, upcoming: bool, today: date, limit: int = 50) -> list[Meeting]:
    meetings = Meeting.objects.visible_to(user).select_related("chair", "local_authority")
    meetings = meetings.annotate(people=Count("items"))
    start = timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time()))
    if upcoming:
        return list(meetings.filter(held_at__gte=start).order_by("held_at", "id")[:limit])
    return list(meetings.filter(held_at__lt=start).order_by("-held_at", "-id")[:limit])


@dataclass
class ItemRow:
    item: AgendaItem
    rating: Rating | None
    actions: list[Action]


@dataclass
class MeetingPage:
    meeting: Meeting
    attendees: list[Attendee]
    rows: list[ItemRow]
    overdue_recommendations: list[Action]


def meeting_page(meeting: Meeting, user: Any, today: date) -> MeetingPage:
    """The meeting with its attendees, agenda (people the user may see), each person's rating
    decided here and actions agreed; for an oversight panel, the overdue recommendations. A
    constant number of queries, whatever the size of the agenda."""
    scope = local_authority_ids_for(user)
    items = list(
        AgendaItem.objects.filter(meeting=meeting, person__local_authority_id__in=scope)
        .select_related("person", "discussed_by")
        .prefetch_related(
            Prefetch(
                "person__register_entries",
                queryset=RegisterEntry.objects.filter(status=RegisterEntry.Status.OPEN),
                to_attr="open_entries",
            ),
            Prefetch(
                "actions",
                queryset=Action.objects.select_related("owner__organisation").order_by(
                    "due_on", "id"
                ),
            ),
        )
        .order_by("person__family_name", "person__given_name", "id")
    )
    ratings: dict[int, Rating] = {}
    for rating in (
        Rating.objects.filter(meeting=meeting).select_related("entry").order_by("set_at", "id")
    ):
        ratings[rating.entry.person_id] = rating
    rows = [ItemRow(item, ratings.get(item.person_id), list(item.actions.all())) for item in items]
    rows.sort(key=agenda_order)
    overdue: list[Action] = []
    if meeting.kind == Meeting.Kind.OVERSIGHT_PANEL:
        # Overdue by the day of the meeting, in the meeting's area (rule 11).
        overdue = list(
            Action.objects.visible_to(user)
            .overdue(timezone.localdate(meeting.held_at))
            .filter(
                source=Action.Source.CETR,
                person__local_authority_id__in=meeting_area_ids(meeting, user),
            )
            .select_related("person", "cetr", "owner__organisation")
            .order_by("due_on", "id")[:200]
        )
    return MeetingPage(
        meeting=meeting,
        attendees=list(meeting.attendees.all()),
        rows=rows,
        overdue_recommendations=overdue,
    )


_REASON_ORDER = {reason: index for index, reason in enumerate(AgendaReason.values)}


def _priority(item: AgendaItem) -> int:
    return min((_REASON_ORDER.get(r, 99) for r in item.reasons), default=99)


def agenda_order(row: ItemRow) -> tuple:
    """The order a chair works through the agenda: everyone rated red now first, then by the
    most urgent reason they are on it (AgendaReason's order), then by family name."""
    entry = next(iter(getattr(row.item.person, "open_entries", [])), None)
    red_first = 0 if entry is not None and entry.rating == RAG.RED else 1
    return (red_first, _priority(row.item), row.item.person.family_name, row.item.pk)


# --- From one meeting of an area to the next ---------------------------------------------------

# The kinds of meeting whose people not discussed are carried to a meeting of each kind: an
# urgent meeting is about the people added to it by hand, so nobody is carried to one.
CARRIED_FROM: dict[str, tuple[str, ...]] = {
    Meeting.Kind.DSR_REVIEW: (Meeting.Kind.DSR_REVIEW, Meeting.Kind.URGENT),
    Meeting.Kind.OVERSIGHT_PANEL: (Meeting.Kind.OVERSIGHT_PANEL,),
}


def same_area(meeting: Meeting) -> Q:
    """Meetings for the same area as `meeting` (a meeting for every area is its own area)."""
    if meeting.local_authority_id is None:
        return Q(local_authority__isnull=True)
    return Q(local_authority_id=meeting.local_authority_id)


def previous_held_meeting(meeting: Meeting) -> Meeting | None:
    """The latest meeting of the same area held before this one, whose people not discussed
    are carried to it."""
    kinds = CARRIED_FROM.get(meeting.kind)
    if not kinds:
        return None
    return (
        Meeting.objects.filter(
            same_area(meeting),
            status=Meeting.Status.HELD,
            kind__in=kinds,
            held_at__lt=meeting.held_at,
        )
        .exclude(pk=meeting.pk)
        .order_by("-held_at", "-id")
        .first()
    )


def next_planned_meeting(meeting: Meeting) -> Meeting | None:
    """The first planned meeting of the same area after this one that its people not
    discussed are carried to, if one is planned yet."""
    kinds = [kind for kind, sources in CARRIED_FROM.items() if meeting.kind in sources]
    return (
        Meeting.objects.filter(
            same_area(meeting),
            status=Meeting.Status.PLANNED,
            kind__in=kinds,
            held_at__gt=meeting.held_at,
        )
        .exclude(pk=meeting.pk)
        .order_by("held_at", "id")
        .first()
    )


def not_discussed(meeting: Meeting, area_ids: Iterable[int] | None = None) -> list[AgendaItem]:
    """The people on the meeting's agenda not discussed at it, in `area_ids` when given."""
    items = AgendaItem.objects.filter(meeting=meeting, discussed_at__isnull=True)
    if area_ids is not None:
        items = items.filter(person__local_authority_id__in=list(area_ids))
    return list(
        items.select_related("person").order_by("person__family_name", "person__given_name", "id")
    )


def not_discussed_on_register(meeting: Meeting, area_ids: Iterable[int] | None = None) -> list[int]:
    """The people not discussed at `meeting` who are still on the register (in `area_ids` when
    given), by id: the people carried to the next meeting of its area. One query."""
    items = AgendaItem.objects.filter(
        meeting=meeting,
        discussed_at__isnull=True,
        person__register_entries__status=RegisterEntry.Status.OPEN,
    )
    if area_ids is not None:
        items = items.filter(person__local_authority_id__in=list(area_ids))
    return list(items.order_by("person_id").values_list("person_id", flat=True).distinct())


def carried_people(meeting: Meeting, area_ids: Iterable[int]) -> list[int]:
    """The people to carry to `meeting`: those not discussed at the previous meeting of its
    area who are still on the register. Two queries."""
    previous = previous_held_meeting(meeting)
    if previous is None:
        return []
    return not_discussed_on_register(previous, area_ids)


def same_day_meetings(
    *, held_at: Any, local_authority: Any, exclude: int | None = None
) -> list[Meeting]:
    """Meetings not cancelled for the same area on the same day: planning a second one is
    usually a mistake, so the page asks before it does."""
    day = timezone.localdate(held_at)
    start = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
    area = getattr(local_authority, "pk", local_authority)
    meetings = Meeting.objects.filter(
        Q(local_authority__isnull=True) if area is None else Q(local_authority_id=area),
        held_at__gte=start,
        held_at__lt=start + timedelta(days=1),
    ).exclude(status=Meeting.Status.CANCELLED)
    if exclude is not None:
        meetings = meetings.exclude(pk=exclude)
    return list(meetings.order_by("held_at", "id"))


def identical_open_actions(person: Any, description: str) -> list[Action]:
    """The person's open actions that say the same (ignoring case, spaces and a full stop)."""

    def said(text: str) -> str:
        return " ".join(text.split()).rstrip(".").casefold()

    wanted = said(description)
    return [
        action
        for action in Action.objects.filter(person=person, status=Action.Status.OPEN)
        .select_related("owner__organisation")
        .order_by("due_on", "id")
        if said(action.description) == wanted
    ]


def last_attendees(meeting: Meeting) -> list[Attendee]:
    """Who came to the last meeting of the same area, to offer for this one: those not recorded
    here yet (by name and organisation). Three queries."""
    previous = (
        Meeting.objects.filter(same_area(meeting), held_at__lt=meeting.held_at)
        .exclude(status=Meeting.Status.CANCELLED)
        .exclude(pk=meeting.pk)
        .filter(attendees__attendance=Attendee.Attendance.PRESENT)
        .order_by("-held_at", "-id")
        .first()
    )
    if previous is None:
        return []
    here = {(a.name.casefold(), a.organisation.casefold()) for a in meeting.attendees.all()}
    return [
        attendee
        for attendee in previous.attendees.filter(attendance=Attendee.Attendance.PRESENT)
        if (attendee.name.casefold(), attendee.organisation.casefold()) not in here
    ]


# The rating decisions the discussion page lists, newest first (the rest are on the timeline).
RATINGS_SHOWN = 8
CETR_STEPS = ("community_cetr", "post_admission_cetr", "inpatient_cetr", "cetr_planned")


@dataclass
class DiscussionPage:
    """What a chair needs about one person on the agenda (issue "Meetings a chair can run",
    point 1)."""

    item: AgendaItem
    entry: RegisterEntry | None
    in_hospital: bool
    ratings: list[Rating]  # the latest RATINGS_SHOWN decisions, newest first
    last_discussion: AgendaItem | None  # at an earlier meeting
    open_actions: list[Action]
    overdue_actions: list[Action]
    agreed: list[Action]  # at this meeting, open or closed
    cetr_steps: list[NextStep]
    contacts: list[PersonContact]
    last_risk_factors: list[str]
    last_risk_notes: str
    # What was recorded at this meeting when the discussion was saved: its rating decision
    # (the rating row links the meeting) and the unmet needs noted, to fill the form again.
    recorded_rating: Rating | None = None
    recorded_needs: list[str] = field(default_factory=list)

    @property
    def recorded_need_labels(self) -> list[str]:
        return [Need(need).label for need in self.recorded_needs]

    @property
    def last_decision(self) -> Rating | None:
        return self.ratings[0] if self.ratings else None


def discussion_page(item: AgendaItem, today: date) -> DiscussionPage:
    """One person's part of the meeting with what the chair needs to run it: the rating, its
    history and the last decision, the last discussion and its risks, every open action (the
    overdue ones apart), the next C(E)TR and the people around them. A constant number of
    queries, however long the person's history (the page test checks it)."""
    person = item.person
    # The register's own reads (entry, admission, contacts, next steps) with no timeline.
    page = person_page(person, today, timeline_limit=0, timeline=False, why=False)
    # One round trip for the four (dsr.batch). Every open action: the person page's own read
    # (person_records) stops at the first few.
    actions = Action.objects.select_related("owner__organisation").order_by("due_on", "id")
    ratings, last_rows, open_actions, agreed = read_together(
        Rating.objects.filter(entry__person=person)
        .select_related("set_by", "meeting")
        .order_by("-effective_from", "-set_at", "-id")[:RATINGS_SHOWN],
        AgendaItem.objects.filter(person=person, discussed_at__isnull=False)
        .exclude(meeting_id=item.meeting_id)
        .select_related("meeting")
        .order_by("-meeting__held_at", "-id")[:1],
        actions.filter(person=person, status=Action.Status.OPEN),
        actions.filter(agenda_item=item),
    )
    last = last_rows[0] if last_rows else None
    if last is not None:
        risks, notes = last.risk_factors, last.risk_notes
    else:
        latest = next((r for r in ratings if r.risk_factors or r.risk_notes), None)
        risks, notes = (latest.risk_factors, latest.risk_notes) if latest else ([], "")
    recorded_rating, recorded_needs = None, []
    if item.discussed_at is not None:
        recorded_rating, recorded_needs = recorded_at_meeting(item)
    return DiscussionPage(
        item=item,
        entry=page.entry,
        in_hospital=page.admission is not None,
        ratings=ratings,
        last_discussion=last,
        open_actions=open_actions,
        overdue_actions=[a for a in open_actions if a.is_overdue(today)],
        agreed=agreed,
        cetr_steps=[step for step in page.next_steps if step.kind in CETR_STEPS],
        contacts=[c for c in page.contacts if c.role != PersonContact.Role.REFERRER],
        last_risk_factors=list(risks),
        last_risk_notes=notes,
        recorded_rating=recorded_rating,
        recorded_needs=recorded_needs,
    )


def recorded_at_meeting(item: AgendaItem) -> tuple[Rating | None, list[str]]:
    """The rating decision made at the item's meeting for its person (the latest, if it was
    corrected), and the unmet needs noted at a meeting for them from the meeting's day to the
    day the discussion was last saved. Two queries."""
    rating = (
        Rating.objects.filter(entry__person=item.person_id, meeting=item.meeting_id)
        .order_by("-set_at", "-id")
        .first()
    )
    needs: list[str] = []
    if item.discussed_at is not None:
        needs = list(
            PersonNeed.objects.filter(
                person=item.person_id,
                source=PersonNeed.Source.MEETING,
                noted_on__gte=timezone.localdate(item.meeting.held_at),
                noted_on__lte=timezone.localdate(item.discussed_at),
            )
            .order_by("need")
            .values_list("need", flat=True)
            .distinct()
        )
    return rating, needs


def my_actions(user: Any, today: date) -> list[Action]:
    """The open actions the user owns, overdue first, in people the user may still see."""
    return list(
        Action.objects.visible_to(user)
        .filter(owner=user, status=Action.Status.OPEN)
        .select_related("person", "owner__organisation")
        .order_by("due_on", "id")[:500]
    )


# The person page's reviews section: the first open actions by due date (overdue first) and how
# many are closed; the person's actions page lists the rest (reviews.views.actions).
OPEN_ACTIONS_SHOWN = 10
VISITS_SHOWN = 5


@dataclass
class PersonRecords:
    """What reviews hold about one person that their page's next steps and reviews section
    read (the timeline reads its own rows: reviews.contributions.review_events)."""

    open_actions: list[Action]  # the first OPEN_ACTIONS_SHOWN by due date
    open_count: int  # all of them
    overdue_count: int  # open and past their due date, all of them
    closed_count: int  # all of them
    cetrs: list[Cetr]
    visits: list[OversightVisit]  # the latest VISITS_SHOWN, latest first


def person_records(person: Any, today: date | None = None) -> PersonRecords:
    """Four queries in one round trip, run once per build of the person page: the next steps
    and the page's reviews section both read them (dsr.queries.person_page gives the person a
    fresh `page_cache` each time it builds the page). Only the open actions the page shows are
    read, each row carrying how many are open and how many overdue (counted before the cut),
    and only the number of closed ones, so a long record of actions costs no more than a short
    one. C(E)TRs are few, so all are read (with who planned and held them only for a page with
    a timeline)."""
    cache = getattr(person, "page_cache", None)
    if cache is not None and "reviews" in cache:
        return cache["reviews"]
    today = today or timezone.localdate()
    actions = Action.objects.filter(person=person)
    cetrs = Cetr.objects.filter(person=person)
    if cache is None or cache.get("timeline", True):
        # Who planned and held each, named on the timeline (review_events).
        cetrs = cetrs.select_related("created_by", "completed_by")
    # One round trip for the four (dsr.batch).
    open_actions, closed, cetrs, visits = read_together(
        actions.filter(status=Action.Status.OPEN)
        .select_related("owner__organisation")
        .annotate(
            open_count=Window(Count("id")),
            overdue_count=Window(Count("id", filter=Q(due_on__lt=today))),
        )
        .order_by("due_on", "id")[:OPEN_ACTIONS_SHOWN],
        # One row carrying the number of closed actions, counted before the cut.
        actions.exclude(status=Action.Status.OPEN)
        .annotate(closed_count=Window(Count("id")))
        .order_by("-id")[:1],
        cetrs.order_by("-created_at", "-id"),
        OversightVisit.objects.filter(person=person).order_by("-visited_on", "-id")[:VISITS_SHOWN],
    )
    records = PersonRecords(
        open_actions=open_actions,
        open_count=open_actions[0].open_count if open_actions else 0,
        overdue_count=open_actions[0].overdue_count if open_actions else 0,
        closed_count=closed[0].closed_count if closed else 0,
        cetrs=cetrs,
        visits=visits,
    )
    if cache is not None:
        cache["reviews"] = records
    return records


def get_cetr_for_user(user: Any, pk: int) -> Cetr:
    return get_object_for_user(
        Cetr.objects.select_related("person__local_authority", "admission", "created_by"),
        user,
        pk=pk,
    )


def get_request_for_user(user: Any, pk: int) -> CetrRequest:
    return get_object_for_user(
        CetrRequest.objects.select_related("local_authority", "person", "cetr", "triaged_by"),
        user,
        pk=pk,
    )


def request_candidates(user: Any, cetr_request: CetrRequest) -> QuerySet[Person]:
    """People on the register the user may see who may be the one the request is about: the
    same person by dsr.queries.same_person."""
    match = same_person(
        nhs_number=cetr_request.nhs_number,
        given_name=cetr_request.given_name,
        family_name=cetr_request.family_name,
        date_of_birth=cetr_request.date_of_birth,
    )
    return (
        Person.objects.visible_to(user)
        .filter(match, pk__in=open_entries_for(user).values("person_id"))
        .order_by("family_name", "given_name", "pk")
    )


def partner_links(action: Action) -> dict[str, Any]:
    """The links sent to the action's owner without an account, newest first, and what was
    done through them (reviews.views.links): two queries."""
    links = list(action.links.select_related("sent_by", "withdrawn_by"))
    uses = list(
        ActionLinkUse.objects.filter(link__action=action)
        .exclude(kind=ActionLinkUse.Kind.OPENED)
        .select_related("link")
        .order_by("-at", "-id")
    )
    now = timezone.now()
    return {
        "links": [(link, link.state(now)) for link in links],
        "link_uses": uses,
        "can_send_link": action.owner_id is None and action.status == Action.Status.OPEN,
        "has_working_link": any(link.state(now) == ActionLink.Status.ACTIVE for link in links),
    }


# The person's actions page: at most this many open and this many closed actions.
PERSON_ACTIONS_SHOWN = 100


@dataclass
class PersonActions:
    open_actions: list[Action]  # by due date, at most PERSON_ACTIONS_SHOWN
    open_count: int
    closed_actions: list[Action]  # the latest closed, at most PERSON_ACTIONS_SHOWN
    closed_count: int


def person_actions(person: Any, *, limit: int = PERSON_ACTIONS_SHOWN) -> PersonActions:
    """Every action about the person, up to `limit` open and `limit` closed: two queries, each
    row carrying how many there are in all (counted before the cut)."""
    actions = (
        Action.objects.filter(person=person)
        .select_related("owner__organisation")
        .annotate(count=Window(Count("id")))
    )
    open_ = list(actions.filter(status=Action.Status.OPEN).order_by("due_on", "id")[:limit])
    closed = list(
        actions.exclude(status=Action.Status.OPEN).order_by("-closed_on", "-updated_at", "-id")[
            :limit
        ]
    )
    return PersonActions(
        open_actions=open_,
        open_count=open_[0].count if open_ else 0,
        closed_actions=closed,
        closed_count=closed[0].count if closed else 0,
    )
