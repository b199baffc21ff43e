"""The benchmark's reference pages, served only under bench.settings:

- the floor: a fixed small page through the whole middleware stack (sessions, sign-in and its
  second factor, the access rule, security headers), no database beyond what the stack reads;
- the register list's render floor: the real register list template filled from 50 people held
  in memory, no database for the rows, so the list's cost can be split into rendering and
  fetching (PERFORMANCE.md, T4);
- the escalation queue's render floor: the real queue template filled the same way, 50 people
  and their escalations from memory, shaped like the queue's first page for the bench's senior
  manager at 100,000 people (50 people waiting, 133 escalations of which 98 open), with the
  counts and the filters.
"""

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from dsr.forms import RegisterFilterForm, SearchForm
from dsr.models import LocalAuthority, Organisation, Person, PersonContact, RegisterEntry
from dsr.queries import PAGE_SIZE, RegisterPage
from dsr.security.access import public, role_required
from dsr.views.register import VIEW_REGISTER, ListRow
from escalation.forms import QueueFilterForm
from escalation.models import Escalation
from escalation.queries import QueueCounts, QueuePage, QueueRow
from escalation.views import QUEUE

FLOOR = (
    b"<!DOCTYPE html><html lang='en'><head><title>Floor</title></head>"
    b"<body><p>The benchmark floor.</p></body></html>"
)


@public
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(FLOOR)


AREAS = [LocalAuthority(pk=n, name=f"Area {n}", gss_code=f"E1000{n:04d}") for n in range(1, 13)]
RATINGS = ["RED", "AMBER", "GREEN", "BLUE"]


def _rows(today: date) -> list[ListRow]:
    rows = []
    for n in range(PAGE_SIZE):
        person = Person(
            pk=n + 1,
            given_name=f"Given{n}",
            family_name=f"Family{n}",
            nhs_number=f"94{n:08d}",
            date_of_birth=date(1990, 1, 1) + timedelta(days=97 * n),
            local_authority=AREAS[n % len(AREAS)],
        )
        person.key_workers = [PersonContact(name=f"Key Worker {n}", role="key_worker")]
        entry = RegisterEntry(
            pk=n + 1,
            person=person,
            status=RegisterEntry.Status.OPEN,
            rating=RATINGS[n % 4],
            rating_since=today - timedelta(days=n),
            rating_review_due=today + timedelta(days=30 - n),
        )
        rows.append(
            ListRow(
                entry=entry,
                age_group=person.age_group(today).label,
                review_overdue=entry.is_review_overdue(today),
            )
        )
    return rows


@role_required(VIEW_REGISTER)
def register_list_render_floor(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    # The same form, its area choices from memory rather than a query.
    form = RegisterFilterForm(request.GET, local_authorities=LocalAuthority.objects.none())
    form.fields["local_authority"].choices = [("", "Any")] + [(a.pk, a.name) for a in AREAS]
    form.is_valid()
    rows = _rows(today)
    page = RegisterPage(rows=[row.entry for row in rows], total=100_000, next_after=PAGE_SIZE)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "next_url": "?after=50",
        "first_url": "",
        "export_url": "/register/export/",
        "search_form": SearchForm(),
    }
    return render(request, "dsr/register_list.html", context)


ORGANISATIONS = [Organisation(pk=n, name=f"Organisation {n}") for n in range(1, 7)]
REASONS = [
    Escalation.Reason.RED_RATING,
    Escalation.Reason.RED_WITHOUT_CETR,
    Escalation.Reason.AMBER_UNREVIEWED,
    Escalation.Reason.OVERDUE_ACTION,
]


def _queue_rows(today: date) -> tuple[list[QueueRow], set[int]]:
    """Fifty people as the queue's first page shows them: each with two or three escalations,
    two of them waiting for the user (every other person's past the deadline), the third
    acknowledged."""
    now = timezone.now()
    rows, mine = [], set()
    for n in range(PAGE_SIZE):
        person = Person(
            pk=n + 1,
            given_name=f"Given{n}",
            family_name=f"Family{n}",
            nhs_number=f"94{n:08d}",
            date_of_birth=date(1990, 1, 1) + timedelta(days=97 * n),
            local_authority=AREAS[n % len(AREAS)],
        )
        person.waiting_rank = 0 if n % 2 else 1
        entry = RegisterEntry(
            pk=n + 1,
            person=person,
            status=RegisterEntry.Status.OPEN,
            rating=RATINGS[n % 2],
            rating_since=today - timedelta(days=n),
            rating_reviewed_on=today - timedelta(days=n + 3),
        )
        escalations = []
        for k in range(3 if n % 3 else 2):
            waiting = k < 2
            escalation = Escalation(
                pk=n * 3 + k + 1,
                person=person,
                reason=REASONS[(n + k) % len(REASONS)],
                level=2,
                status=Escalation.Status.OPEN if waiting else Escalation.Status.ACKNOWLEDGED,
                raised_at=now - timedelta(days=n + k),
                ack_due_on=today + timedelta(days=(-1 if n % 2 else 2)),
            )
            escalation.past_deadline = waiting and n % 2 == 1
            escalation.raised_level = 2
            escalation.fix = None  # a senior manager's first page offers none
            escalations.append(escalation)
            mine.add(escalation.pk)
        row = QueueRow(
            person=person,
            entry=entry,
            escalations=escalations,
            open_actions=n % 4,
            overdue_actions=1 if n % 3 == 0 else 0,
            next_cetr=today + timedelta(days=20 + n) if n % 2 else None,
            owners=["Manager One", "Manager Two"] if escalations else [],
        )
        row.mine_waiting = sum(1 for e in escalations if e.status == Escalation.Status.OPEN)
        rows.append(row)
    return rows, mine


@role_required(QUEUE)
def escalation_queue_render_floor(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = QueueFilterForm(
        request.GET,
        choices={
            "local_authorities": AREAS,
            "organisations": ORGANISATIONS,
            "levels": [(n, f"{n}: Level {n}") for n in range(1, 4)],
        },
    )
    form.is_valid()
    rows, mine = _queue_rows(today)
    counts = QueueCounts(
        waiting=120,
        past_deadline=45,
        levels=[
            {"level": n, "name": f"Level {n}", "live": 900 // n, "waiting": 60 // n}
            for n in range(1, 4)
        ],
    )
    page = QueuePage(rows=rows, total=7_300, next_after="2-1-1-1", counts=counts)
    context = {
        "form": None,
        "filter_form": form,
        "page": page,
        "counts": counts,
        "today": today,
        "mine": mine,
        "next_url": "?after=2-1-1-1",
        "first_url": "",
        "return_query": "from=queue",
    }
    return render(request, "escalation/queue.html", context)
