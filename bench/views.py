"""The benchmark's reference pages, served only under bench.settings:

- the floor: a fixed small page through the whole middleware stack (sessions, sign-in and its
  second factor, the access rule, security headers), no database beyond what the stack reads;
- the register list's render floor: the real register list template filled from 50 people held
  in memory, no database for the rows, so the list's cost can be split into rendering and
  fetching (PERFORMANCE.md, T4).
"""

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from dsr.forms import RegisterFilterForm, SearchForm
from dsr.models import LocalAuthority, Person, PersonContact, RegisterEntry
from dsr.queries import PAGE_SIZE, RegisterPage
from dsr.security.access import public, role_required
from dsr.views.register import VIEW_REGISTER, ListRow

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
