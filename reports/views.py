"""Report pages and their CSV downloads: for roles with dsr.view_reports (planning
commissioners, and the register team). Numbers only: every count of 1 to 4 is hidden, with the
cells that would reveal it (reports.suppression), and no page or file names anyone."""

import csv

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dsr.access import role_required
from dsr.queries import local_authorities_for
from dsr.views.paging import query_of
from reports.forms import SnapshotFilterForm
from reports.queries import TABLES, SnapshotFilters, Table, snapshot

REPORTS = "dsr.view_reports"
FILTERS = ("on_day", "on_month", "on_year", "local_authority", "age_group")


def _filters(request: HttpRequest) -> tuple[SnapshotFilterForm, SnapshotFilters]:
    form = SnapshotFilterForm(
        request.GET or None, local_authorities=local_authorities_for(request.user)
    )
    filters = SnapshotFilters(on=timezone.localdate())
    if form.is_bound and form.is_valid():
        filters = SnapshotFilters(
            on=form.cleaned_data["on"],
            local_authority=form.cleaned_data["local_authority"],
            age_group=form.cleaned_data["age_group"],
        )
    return form, filters


@require_GET
@role_required(REPORTS)
def register_snapshot(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    context = {
        "form": form if form.is_bound and form.errors else None,
        "filter_form": form,
        "filters": filters,
        "tables": snapshot(request.user, filters),
        "query": query_of(request, FILTERS),
    }
    return render(request, "reports/snapshot.html", context)


@require_GET
@role_required(REPORTS)
def register_snapshot_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in TABLES:
        raise Http404
    _form, filters = _filters(request)
    found: Table = next(t for t in snapshot(request.user, filters) if t.slug == table)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="register-{table}-{filters.on:%Y-%m-%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow([f"Register on {filters.on:%-d %B %Y}: {found.title.lower()}"])
    writer.writerow(["Counts of 1 to 4 are shown as <5, with the counts that would reveal them."])
    writer.writerow([found.row_heading, *found.columns, "Total"])
    for label, cells, total in found.lines:
        writer.writerow([label, *map(str, cells), str(total)])
    writer.writerow(["Total", *map(str, found.column_totals), str(found.total)])
    return response
