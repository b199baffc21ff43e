"""Report pages and their CSV downloads: for roles with dsr.view_reports (planning
commissioners, and the register team). Numbers only, every one rounded and checked so that no
count of 1 to 4 can be worked out (reports.disclosure, ADR 0005), and no page or file names
anyone.

The one exception is at the end: the Assuring Transformation extract (reports.assuring), a
person-level file for the register team only (dsr.export_register), logged per person."""

import csv
import logging
from collections.abc import Iterable
from datetime import date, timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dsr.models import AccessEvent
from dsr.queries import local_authorities_for
from dsr.security.access import role_required
from dsr.security.audit import access_log_people
from dsr.security.spreadsheets import neutralise
from dsr.views.paging import query_of
from reports.assuring import at_header, at_row, inpatients_for
from reports.counting import RETRY_AFTER_SECONDS, CacheDown, NotCounted, queue_count
from reports.disclosure import FOOTNOTE, WITHHELD_TEXT
from reports.flows import FLOW_TABLES, Period
from reports.forms import (
    PeriodFilterForm,
    PlanningFilterForm,
    SnapshotFilterForm,
    last_whole_month,
)
from reports.planning import Series
from reports.published import flows_for, needs_for, planning_for, snapshot_for
from reports.queries import TABLES, SnapshotFilters, Table

logger = logging.getLogger(__name__)

REPORTS = "dsr.view_reports"
FILTERS = ("on_day", "on_month", "on_year", "local_authority", "age_group")
UNREADABLE = (NotCounted, CacheDown)


def being_counted(
    request: HttpRequest, heading: str, problem: Exception, report: str, *args: object
) -> HttpResponse:
    """The page for figures that cannot be read (reports.counting): never counted here. Not
    counted yet: their count is queued, once however many ask, and the reader is told to try
    again shortly. The cache out of reach: nothing could keep a count, so none is queued."""
    cache_down = isinstance(problem, CacheDown)
    if not cache_down:
        queue_count(report, *[a.isoformat() if isinstance(a, date) else a for a in args])
    context = {"heading": heading, "cache_down": cache_down}
    response = render(request, "reports/not_counted.html", context, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Expected, not a fault: one line of information rather than Django's error for a 503.
    response._has_been_logged = True
    logger.info("report figures not counted yet report=%s cache_down=%s", report, cache_down)
    return response


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
    try:
        tables, counted_at = snapshot_for(request.user, filters)
    except UNREADABLE as problem:
        heading = f"The register on {filters.on:%-d %B %Y}"
        return being_counted(request, heading, problem, "snapshot", filters.on)
    context = {
        "form": form if form.is_bound and form.errors else None,
        "filter_form": form,
        "filters": filters,
        "tables": tables,
        "counted_at": counted_at,
        "query": query_of(request, FILTERS),
        "withheld": any(table.withheld for table in tables),
        "days_near": _days_near(request, filters.on),
    }
    return render(request, "reports/snapshot.html", context)


def _days_near(request: HttpRequest, on: date) -> list[tuple[date, str]]:
    """The day before and, when it has come, the day after `on`, each with the page's link
    (the same filters): where to look when a day's figures cannot be shown."""
    days = [on - timedelta(days=1), on + timedelta(days=1)]
    return [
        (
            day,
            query_of(
                request,
                ("local_authority", "age_group"),
                on_day=str(day.day),
                on_month=str(day.month),
                on_year=str(day.year),
            ),
        )
        for day in days
        if day <= timezone.localdate()
    ]


@require_GET
@role_required(REPORTS)
def register_snapshot_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in TABLES:
        raise Http404
    _form, filters = _filters(request)
    try:
        tables, _counted_at = snapshot_for(request.user, filters)
    except UNREADABLE as problem:
        heading = f"The register on {filters.on:%-d %B %Y}"
        return being_counted(request, heading, problem, "snapshot", filters.on)
    found: Table = next(t for t in tables if t.slug == table)
    return _csv(
        found,
        f"Register on {filters.on:%-d %B %Y}: {found.title.lower()}",
        f"register-{table}-{filters.on:%Y-%m-%d}.csv",
    )


PERIOD_FILTERS = (
    "start_day",
    "start_month",
    "start_year",
    "end_day",
    "end_month",
    "end_year",
    "local_authority",
    "age_group",
)


def _period(request: HttpRequest) -> tuple[PeriodFilterForm, Period]:
    form = PeriodFilterForm(
        request.GET or None, local_authorities=local_authorities_for(request.user)
    )
    start, end = last_whole_month(timezone.localdate())
    period = Period(start=start, end=end)
    if form.is_bound and form.is_valid():
        period = Period(
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            local_authority=form.cleaned_data["local_authority"],
            age_group=form.cleaned_data["age_group"],
        )
    return form, period


@require_GET
@role_required(REPORTS)
def register_flows(request: HttpRequest) -> HttpResponse:
    form, period = _period(request)
    try:
        result, counted_at = flows_for(request.user, period)
    except UNREADABLE as problem:
        heading = f"Flows from {period.start:%-d %B %Y} to {period.end:%-d %B %Y}"
        return being_counted(request, heading, problem, "flows", period.start, period.end)
    context = {
        "form": form if form.is_bound and form.errors else None,
        "filter_form": form,
        "flows": result,
        "counted_at": counted_at,
        "step_down": [result.step_down],
        "query": query_of(request, PERIOD_FILTERS),
    }
    return render(request, "reports/flows.html", context)


@require_GET
@role_required(REPORTS)
def register_flows_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in FLOW_TABLES:
        raise Http404
    _form, period = _period(request)
    try:
        result, _counted_at = flows_for(request.user, period)
    except UNREADABLE as problem:
        heading = f"Flows from {period.start:%-d %B %Y} to {period.end:%-d %B %Y}"
        return being_counted(request, heading, problem, "flows", period.start, period.end)
    found = next(t for t in result.tables if t.slug == table)
    heading = f"{found.title}: {period.start:%-d %B %Y} to {period.end:%-d %B %Y}"
    return _csv(found, heading, f"{table}-{period.start:%Y-%m-%d}-to-{period.end:%Y-%m-%d}.csv")


def csv_download(
    filename: str, rows: Iterable[Iterable[object]], *, excel_bom: bool = False
) -> HttpResponse:
    """Every CSV file of the reports: each cell formula-safe (dsr.security.spreadsheets), the
    file offered as a download and never kept in a cache. `excel_bom` starts the file with a
    byte order mark, so that a spreadsheet reads it as UTF-8."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    if excel_bom:
        response.write("\ufeff")
    writer = csv.writer(response)
    for row in rows:
        writer.writerow([neutralise(str(cell)) for cell in row])
    return response


def _csv(table: Table, heading: str, filename: str) -> HttpResponse:
    rows: list[list[object]] = [[heading], [FOOTNOTE]]
    if table.withheld:
        rows.append([WITHHELD_TEXT])
    else:
        rows.append([table.row_heading, *table.columns, "Total"])
        rows += [[label, *cells, total] for label, cells, total in table.lines]
        rows.append([table.total_label, *table.column_totals, table.total])
    return csv_download(filename, rows)


def _area(request: HttpRequest) -> tuple[SnapshotFilterForm, int | None, str]:
    form = SnapshotFilterForm(
        request.GET or None, local_authorities=local_authorities_for(request.user)
    )
    form.fields.pop("on")
    valid = form.is_bound and form.is_valid()
    area = form.cleaned_data["local_authority"] if valid else None
    age_group = form.cleaned_data["age_group"] if valid else ""
    return form, area, age_group


@require_GET
@role_required(REPORTS)
def needs(request: HttpRequest) -> HttpResponse:
    form, area, age_group = _area(request)
    try:
        table, counted_at = needs_for(request.user, area, age_group)
    except UNREADABLE as problem:
        return _needs_not_counted(request, problem)
    context = {
        "form": form if form.is_bound and form.errors else None,
        "filter_form": form,
        "table": table,
        "counted_at": counted_at,
        "query": query_of(request, ("local_authority", "age_group")),
    }
    return render(request, "reports/needs.html", context)


@require_GET
@role_required(REPORTS)
def needs_csv(request: HttpRequest) -> HttpResponse:
    _form, area, age_group = _area(request)
    try:
        table, _counted_at = needs_for(request.user, area, age_group)
    except UNREADABLE as problem:
        return _needs_not_counted(request, problem)
    today = timezone.localdate()
    return _csv(table, f"{table.title} on {today:%-d %B %Y}", f"needs-{today:%Y-%m-%d}.csv")


def _needs_not_counted(request: HttpRequest, problem: Exception) -> HttpResponse:
    heading = "Unmet needs and barriers"
    return being_counted(request, heading, problem, "needs", timezone.localdate())


# --- Planning figures -------------------------------------------------------------------------

PLANNING_TABLES = ["trends", "hospital-use", "committed-spend", "placements"]


def _planning(request: HttpRequest):
    """The form, the figures and when they were counted; or the page saying they are being
    counted."""
    today = timezone.localdate()
    form = PlanningFilterForm(
        request.GET or None, local_authorities=local_authorities_for(request.user), today=today
    )
    year, area = form.last_year, None
    if form.is_bound and form.is_valid():
        year = form.cleaned_data["year"] or form.last_year
        area = form.cleaned_data["local_authority"]
    try:
        figures, counted_at = planning_for(request.user, year, today, area)
    except UNREADABLE as problem:
        heading = f"Planning figures for {year}"
        return being_counted(request, heading, problem, "planning", year, today)
    return form, figures, counted_at


@require_GET
@role_required(REPORTS)
def planning_figures(request: HttpRequest) -> HttpResponse:
    found = _planning(request)
    if isinstance(found, HttpResponse):
        return found
    form, figures, counted_at = found
    context = {
        "counted_at": counted_at,
        "form": form if form.is_bound and form.errors else None,
        "filter_form": form,
        "planning": figures,
        "series": [figures.trends, figures.hospital, figures.spend],
        "query": query_of(request, ("year", "local_authority")),
    }
    return render(request, "reports/planning.html", context)


@require_GET
@role_required(REPORTS)
def planning_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in PLANNING_TABLES:
        raise Http404
    found = _planning(request)
    if isinstance(found, HttpResponse):
        return found
    _form, figures, _counted_at = found
    filename = f"{table}-{figures.year}.csv"
    if table == "placements":
        if figures.placements is None:
            raise Http404
        return _csv(figures.placements, f"{figures.placements.title}", filename)
    found = {s.slug: s for s in (figures.trends, figures.hospital, figures.spend)}[table]
    return _series_csv(found, f"{found.title}: {figures.year}", filename)


def _series_csv(series: Series, heading: str, filename: str) -> HttpResponse:
    rows: list[list[object]] = [[heading], [FOOTNOTE]]
    if series.note:
        rows.append([series.note])
    rows.append([series.row_heading, *series.columns])
    rows += [[label, *cells] for label, cells in series.rows]
    return csv_download(filename, rows)


# --- The Assuring Transformation extract (person-level: the register team only) -------------

EXPORT_REGISTER = "dsr.export_register"


@require_GET
@role_required(EXPORT_REGISTER)
def assuring_transformation_csv(request: HttpRequest) -> HttpResponse:
    """Everyone in hospital in the user's areas, one row each, by AT data item. One access-log
    row per person in the file, written in one insert before the file is sent."""
    admissions = list(inpatients_for(request.user))
    today = timezone.localdate()
    access_log_people(
        user=request.user,
        action=AccessEvent.Action.EXPORT_AT,
        path=request.get_full_path(),
        people_ids=[admission.person_id for admission in admissions],
        detail={"rows": len(admissions)},
    )
    return csv_download(
        f"assuring-transformation-{today:%Y-%m-%d}.csv",
        [at_header(), *(at_row(admission) for admission in admissions)],
        excel_bom=True,
    )
