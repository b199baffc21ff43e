"""Importing a register from a spreadsheet: the DSR lead only (ACCESS.md, dsr.import_register).

Upload, match the columns, match the values, check (the dry run, with its report to download),
import in the background with a progress bar, and undo. An import is found by id among all
imports (the lead's organisation's register); the rows it shows are the sheet's own.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dsr import imports
from dsr.exceptions import RegisterError
from dsr.imports.forms import ColumnsForm, DecisionForm, SheetForm, UploadForm, ValuesForm
from dsr.imports.report import report_xlsx
from dsr.imports.run import is_stalled, resume, start, undo
from dsr.models import ImportRow, RegisterImport
from dsr.queries import local_authorities_for
from dsr.security.access import role_required
from dsr.security.audit import access_log_people

logger = logging.getLogger(__name__)

IMPORT = "dsr.import_register"
Status = RegisterImport.Status
Outcome = ImportRow.Outcome
ROWS_SHOWN = 200


def _imports_for(request: HttpRequest):
    """The imports of the user's own organisation (another ICB's answer 404)."""
    return RegisterImport.objects.filter(
        uploaded_by__organisation_id=request.user.organisation_id,
        uploaded_by__organisation__isnull=False,
    ).select_related("uploaded_by")


def _import(request: HttpRequest, pk: int) -> RegisterImport:
    return get_object_or_404(_imports_for(request), pk=pk)


def _not_started(request: HttpRequest, register_import: RegisterImport) -> HttpResponse | None:
    if register_import.status in (Status.UPLOADED, Status.CHECKED):
        return None
    if register_import.status == Status.CHECKING:
        messages.info(request, "The file is being checked: wait for the check to finish.")
        return redirect("dsr:import-check", pk=register_import.pk)
    messages.info(request, "This import has already started: it can no longer be changed.")
    return redirect("dsr:import-detail", pk=register_import.pk)


@require_GET
@role_required(IMPORT)
def import_list(request: HttpRequest) -> HttpResponse:
    imports_made = _imports_for(request).order_by("-created_at")[:50]
    return render(request, "dsr/imports/list.html", {"imports": imports_made})


@require_http_methods(["GET", "POST"])
@role_required(IMPORT)
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(settings.DSR_IMPORT_MAX_BYTES + 1)
        try:
            register_import = imports.import_upload(
                name=upload.name,
                data=data,
                by=request.user,
                saved_mapping=form.cleaned_data["mapping"],
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            logger.info("import uploaded import=%s by=%s", register_import.pk, request.user.pk)
            return redirect("dsr:import-columns", pk=register_import.pk)
    return render(request, "dsr/imports/upload.html", {"form": form})


@require_http_methods(["GET", "POST"])
@role_required(IMPORT)
def import_columns(request: HttpRequest, pk: int) -> HttpResponse:
    register_import = _import(request, pk)
    if refused := _not_started(request, register_import):
        return refused
    several = len([s for s in register_import.sheets if s["data_rows"]]) > 1
    sheet_form = SheetForm(
        request.POST if "sheet" in request.POST else None, register_import=register_import
    )
    if request.method == "POST" and "sheet" in request.POST:
        if sheet_form.is_valid():
            imports.import_choose_sheet(
                register_import=register_import,
                sheet_name=sheet_form.cleaned_data["sheet"],
                by=request.user,
            )
            messages.success(request, "Sheet chosen. Check the columns below.")
            return redirect("dsr:import-columns", pk=pk)
        form = ColumnsForm(register_import=register_import)
    else:
        form = ColumnsForm(request.POST or None, register_import=register_import)
        if request.method == "POST" and form.is_valid():
            imports.import_set_columns(
                register_import=register_import, columns=form.cleaned_data, by=request.user
            )
            return redirect("dsr:import-values", pk=pk)
    context = {
        "register_import": register_import,
        "form": form,
        "sheet_form": sheet_form if several else None,
        "unmatched": [
            h for h in register_import.headers if h not in register_import.columns.values()
        ],
    }
    return render(request, "dsr/imports/columns.html", context)


@require_http_methods(["GET", "POST"])
@role_required(IMPORT)
def import_values(request: HttpRequest, pk: int) -> HttpResponse:
    register_import = _import(request, pk)
    if refused := _not_started(request, register_import):
        return refused
    local_authorities = [(la.pk, la.name) for la in local_authorities_for(request.user)]
    words = imports.value_words(register_import)
    form = ValuesForm(
        request.POST or None,
        register_import=register_import,
        words=words,
        local_authorities=local_authorities,
    )
    if request.method == "POST" and form.is_valid():
        imports.import_set_values(
            register_import=register_import,
            values=form.values(),
            constants=form.constants(),
            save_as=form.cleaned_data["save_as"],
            by=request.user,
        )
        imports.import_check(register_import=register_import, by=request.user)
        return redirect("dsr:import-check", pk=pk)
    groups = [{**group, "fields": [form[name] for name in group["names"]]} for group in form.groups]
    context = {"register_import": register_import, "form": form, "groups": groups}
    return render(request, "dsr/imports/values.html", context)


@require_http_methods(["GET", "POST"])
@role_required(IMPORT)
def import_check(request: HttpRequest, pk: int) -> HttpResponse:
    """The dry run's findings: counts, likely matches for the lead to decide, and each row that
    will not come across whole, with the reason per cell."""
    register_import = _import(request, pk)
    if register_import.status == Status.UPLOADED:
        return redirect("dsr:import-values", pk=pk)
    if register_import.status == Status.CHECKING:
        # The check runs in the background; the page shows its progress until it finishes.
        context = {"register_import": register_import, "checking": True}
        return render(request, "dsr/imports/check.html", {**context, **_progress(register_import)})
    if refused := _not_started(request, register_import):
        return refused
    likely = list(
        register_import.rows.filter(candidate__isnull=False, outcome=Outcome.LIKELY_MATCH)
        .select_related("candidate")
        .order_by("row_number")[:ROWS_SHOWN]
    )
    decisions = DecisionForm(request.POST or None, rows=likely)
    if request.method == "POST" and decisions.is_valid():
        imports.import_decide(
            register_import=register_import, decisions=decisions.decisions(), by=request.user
        )
        messages.success(request, "Decisions saved. The file is being checked again.")
        return redirect("dsr:import-check", pk=pk)
    if likely:
        access_log_people(
            user=request.user,
            action="import likely matches",
            path=request.path,
            people_ids=[row.candidate_id for row in likely],
            detail={"import": register_import.pk},
        )
    shown = list(
        register_import.rows.filter(outcome__in=[Outcome.REFUSED, Outcome.PERSON_ONLY])
        .order_by("row_number")
        .only("row_number", "outcome", "problems", "notes")[:ROWS_SHOWN]
    )
    outcomes = [
        (value, label, register_import.counts.get(value, 0)) for value, label in Outcome.choices
    ]
    context = {
        "register_import": register_import,
        "outcomes": outcomes,
        "likely": likely,
        "decisions": decisions,
        "rows": shown,
        "rows_shown": ROWS_SHOWN,
        "writes": sum(
            register_import.counts.get(o, 0) for o in ("create", "person_only", "update")
        ),
        "refused": register_import.counts.get(Outcome.REFUSED, 0),
        "waiting": register_import.counts.get(Outcome.LIKELY_MATCH, 0),
    }
    return render(request, "dsr/imports/check.html", context)


@require_GET
@role_required(IMPORT)
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    register_import = _import(request, pk)
    response = HttpResponse(
        report_xlsx(register_import),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="import-{pk}-checked.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(IMPORT)
@require_POST
def import_start(request: HttpRequest, pk: int) -> HttpResponse:
    register_import = _import(request, pk)
    try:
        start(register_import, by=request.user)
    except RegisterError as error:
        messages.error(request, str(error))
        return redirect("dsr:import-check", pk=pk)
    return redirect("dsr:import-detail", pk=pk)


@require_http_methods(["GET", "POST"])
@role_required(IMPORT)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The import's progress, and once done what it did. POST carries on a stalled check or
    import."""
    register_import = _import(request, pk)
    progress = _progress(register_import)
    if request.method == "POST":
        if progress["stalled"]:
            resume(register_import, by=request.user)
            if register_import.status == Status.CHECKING:
                messages.success(request, "The check is starting again.")
                return redirect("dsr:import-check", pk=pk)
            messages.success(request, "The import is carrying on from where it stopped.")
        return redirect("dsr:import-detail", pk=pk)
    outcomes = [(label, register_import.counts.get(value, 0)) for value, label in Outcome.choices]
    context = {"register_import": register_import, "outcomes": outcomes, **progress}
    return render(request, "dsr/imports/detail.html", context)


def _progress(register_import: RegisterImport) -> dict:
    """What the progress bar's include (dsr/imports/progress.html) shows for the import's job."""
    checking = register_import.status == Status.CHECKING
    return {
        "label": "Rows checked" if checking else "Rows imported",
        "stalled": is_stalled(register_import),
        "in_progress": register_import.status in (Status.CHECKING, Status.QUEUED, Status.RUNNING),
        "progress_url": reverse("dsr:import-progress", kwargs={"pk": register_import.pk}),
    }


@require_GET
@role_required(IMPORT)
def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    register_import = _import(request, pk)
    return JsonResponse(
        {
            "status": register_import.status,
            "status_label": register_import.get_status_display(),
            "done": register_import.rows_done,
            "total": register_import.rows_total,
            "percent": register_import.percent,
        },
        headers={"Cache-Control": "no-store"},
    )


@require_http_methods(["GET", "POST"])
@role_required(IMPORT)
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    register_import = _import(request, pk)
    error = ""
    if request.method == "POST":
        try:
            undo(register_import, by=request.user)
        except RegisterError as refused:
            error = str(refused)
        else:
            messages.success(request, "The import has been undone.")
            return redirect("dsr:import-detail", pk=pk)
    return render(
        request, "dsr/imports/undo.html", {"register_import": register_import, "error": error}
    )
