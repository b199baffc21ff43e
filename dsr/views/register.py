"""The register: the staff dashboard, the filtered list, search and the CSV export.

Filters travel in the URL (GET), because none of them identifies anyone. Search terms (name, NHS
number, date of birth) are sent by POST and the results come back in that POST's response, so
they never appear in a URL, a redirect or a log (ACCESS.md). Searches and exports each write one
access-log row; the list and dashboard show people only through `dsr.queries`, which scopes
every read to the user's areas and runs a fixed number of queries whatever the register's size.
"""

import csv
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from dsr import queries
from dsr.forms import RegisterFilterForm, SearchForm
from dsr.models import AccessEvent, RegisterEntry
from dsr.panels import dashboard_panels
from dsr.queries import (
    RegisterFilters,
    dashboard_for,
    export_rows,
    local_authorities_for,
    register_page,
    search_people,
)
from dsr.security.access import role_required
from dsr.security.audit import access_log_people, access_log_record
from dsr.security.spreadsheets import neutralise
from dsr.views.paging import cursor_from, query_of

logger = logging.getLogger(__name__)

VIEW_REGISTER = "dsr.view_register"
CHANGE_REGISTER = "dsr.change_register"
EXPORT_REGISTER = "dsr.export_register"

# --- Shared helpers --------------------------------------------------------------------------


def register_filters_from(
    request: HttpRequest,
) -> tuple[RegisterFilterForm, RegisterFilters | None]:
    """The bound filter form from the query string, and the filters it gives, or None when
    any value is invalid (the form then carries the errors to show). Used by the list and the
    export, so both always select exactly the same rows."""
    form = RegisterFilterForm(request.GET, local_authorities=local_authorities_for(request.user))
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    area = data["local_authority"]
    filters = RegisterFilters(
        rating=data["rating"],
        age_group=data["age_group"],
        local_authority=area.pk if area else None,
        diagnosis=data["diagnosis"],
        key_worker=data["key_worker"],
        overdue=data["overdue"],
        sort=data["sort"] or "name",
    )
    return form, filters


def _filter_query(request: HttpRequest, **extra: str) -> str:
    return query_of(request, RegisterFilterForm.base_fields, **extra)


# --- Dashboard -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueRow:
    entry: RegisterEntry
    days_overdue: int


@require_GET
@role_required(VIEW_REGISTER)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Counts by rating and age group, overdue rating reviews and consent reviews due soon,
    for the user's areas. A fixed number of queries (dsr.queries.dashboard_for)."""
    today = timezone.localdate()
    board = dashboard_for(request.user, today)
    overdue_rows = [
        OverdueRow(entry=entry, days_overdue=(today - entry.rating_review_due).days)
        for entry in board.overdue_rows
    ]
    context = {
        "board": board,
        "by_age_group": board.by_age_group,
        "overdue_rows": overdue_rows,
        "today": today,
        "consent_deadline": today + queries.CONSENT_DUE_WITHIN,
        "search_form": SearchForm(),
        "can_add_person": request.user.has_perm(CHANGE_REGISTER),
        "panels": dashboard_panels(request, today),
    }
    return render(request, "dsr/register_dashboard.html", context)


# --- The list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListRow:
    entry: RegisterEntry
    age_group: str
    review_overdue: bool


@require_GET
@role_required(VIEW_REGISTER)
def register_list(request: HttpRequest) -> HttpResponse:
    """Everyone on the register in the user's areas, filtered and sorted by the query string,
    one keyset page at a time (`after` is the id of the last entry on the previous page).

    Invalid filters show the NHS.UK error summary and no rows. Runs the same number of queries
    whatever the number of people (T1): the count, the cursor, the page and its key workers.
    """
    today = timezone.localdate()
    form, filters = register_filters_from(request)
    after = cursor_from(request)
    page = None
    rows: list[ListRow] = []
    next_url = first_url = export_url = ""
    if filters is not None:
        page = register_page(request.user, filters, today, after=after)
        access_log_people(
            user=request.user,
            action=AccessEvent.Action.LIST_REGISTER,
            path=request.path,
            people_ids=[entry.person_id for entry in page.rows],
        )
        rows = [
            ListRow(
                entry=entry,
                age_group=entry.person.age_group(today).label,
                review_overdue=entry.is_review_overdue(today),
            )
            for entry in page.rows
        ]
        base = reverse("dsr:register-list")
        if page.next_after is not None:
            next_url = f"{base}?{_filter_query(request, after=str(page.next_after))}"
        if after is not None:
            query = _filter_query(request)
            first_url = f"{base}?{query}" if query else base
        if request.user.has_perm(EXPORT_REGISTER):
            query = _filter_query(request)
            export_url = reverse("dsr:register-export") + (f"?{query}" if query else "")
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "next_url": next_url,
        "first_url": first_url,
        "export_url": export_url,
        "search_form": SearchForm(),
    }
    return render(request, "dsr/register_list.html", context)


# --- Search ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(VIEW_REGISTER)
def search(request: HttpRequest) -> HttpResponse:
    """Find people by name, NHS number or date of birth.

    GET shows the empty form. POST validates it and renders the results in the same response:
    never a redirect, so the terms stay out of every URL. A valid search writes one access-log
    row holding the number of results only, never the terms.
    """
    results = None
    if request.method == "POST":
        form = SearchForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            results = search_people(
                request.user,
                name=data["name"],
                nhs_number=data["nhs_number"],
                date_of_birth=data["date_of_birth"],
            )
            access_log_people(
                user=request.user,
                action=AccessEvent.Action.SEARCH_REGISTER,
                path=request.path,
                people_ids=[person.pk for person in results],
                detail={"results": len(results)},
            )
            logger.info("register searched user=%s results=%s", request.user.pk, len(results))
    else:
        form = SearchForm()
    context = {
        "form": form,
        "results": results,
        "limit": queries.PAGE_SIZE,
        "at_limit": results is not None and len(results) >= queries.PAGE_SIZE,
    }
    return render(request, "dsr/register_search.html", context)


# --- Export ----------------------------------------------------------------------------------

EXPORT_HEADER = [
    "NHS number",
    "Family name",
    "Given name",
    "Date of birth",
    "Age group",
    "Local authority",
    "Diagnosis",
    "Rating",
    "Rating since",
    "Rating review due",
    "Objects to national data collection",
    "Added to register",
]


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _export_cells(entry: RegisterEntry, today: date) -> list[str]:
    person = entry.person
    return [
        person.nhs_number or "",
        person.family_name,
        person.given_name,
        _iso(person.date_of_birth),
        person.age_group(today).label,
        person.local_authority.name,
        person.get_diagnosis_display(),
        entry.get_rating_display(),
        _iso(entry.rating_since),
        _iso(entry.rating_review_due),
        "Yes" if person.at_objection else "No",
        _iso(entry.opened_on),
    ]


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a streamed reply."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(entries: Iterable[RegisterEntry], today: date) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte-order mark, so that Excel reads the file as UTF-8 (names with accents).
    yield "\ufeff"
    yield writer.writerow(EXPORT_HEADER)
    for entry in entries:
        yield writer.writerow([neutralise(cell) for cell in _export_cells(entry, today)])


@require_GET
@role_required(EXPORT_REGISTER)
def export(request: HttpRequest) -> HttpResponse:
    """A CSV of every entry the register list shows for the same filters (all pages), streamed
    in chunks of 2,000 rows. One access-log row (the filters and the row count) is written
    before streaming starts. Invalid filters answer 400 with no CSV and no log row."""
    _, filters = register_filters_from(request)
    if filters is None:
        return HttpResponseBadRequest(
            "The filters are not valid. Go back to the register list and check them.",
            content_type="text/plain; charset=utf-8",
        )
    today = timezone.localdate()
    entries = export_rows(request.user, filters, today)
    count = entries.count()
    access_log_record(
        user=request.user,
        action=AccessEvent.Action.EXPORT_REGISTER,
        path=request.get_full_path()[:300],
        detail={"filters": filters.as_detail(), "rows": count},
    )
    logger.info("register exported user=%s rows=%s", request.user.pk, count)
    response = StreamingHttpResponse(
        _csv_lines(entries.iterator(chunk_size=2000), today),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="dsr-register-{today:%Y-%m-%d}.csv"'
    return response
