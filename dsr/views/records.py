"""Records management pages: a person's subject access export, and the retention runs.

The export is for the register team (dsr.export_register, ACCESS.md "filtered exports,
logged"): the page (GET) only asks why; the download is a POST, logged as an access-log row by
the service. A person out of the user's scope answers 404 (get_person_for_user).
"""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from dsr import records
from dsr.models import AccessEvent
from dsr.queries import get_person_for_user
from dsr.records.forms import SubjectAccessForm
from dsr.security.access import role_required
from dsr.security.audit import access_log_record

logger = logging.getLogger(__name__)

EXPORT_PERSON = "dsr.export_register"
# Administrators (who run the service) and the DSR lead (who owns the register's settings).
SEE_RETENTION = ("dsr.manage_accounts", "dsr.manage_settings")


@require_http_methods(["GET", "POST"])
@role_required(EXPORT_PERSON)
def person_export(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what the export holds, and why it is being made. POST with a reason: the ZIP."""
    person = get_person_for_user(request.user, pk)
    # An empty POST is still a POST: it gets the error summary, not a fresh form.
    form = SubjectAccessForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        export = records.person_records_export(
            person=person,
            by=request.user,
            purpose=form.cleaned_data["purpose"],
            path=request.path,
        )
        response = HttpResponse(export.content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
    access_log_record(
        user=request.user,
        person=person,
        action=AccessEvent.Action.VIEW_PERSON,
        path=request.path,
        detail={"page": "export"},
    )
    context = {
        "form": form,
        "person": person,
        "title": f"Export everything held about {person.full_name}",
        "button": "Download the export",
        "back_url": person.get_absolute_url(),
        "back_label": f"Back to {person.full_name}",
    }
    return render(request, "dsr/person_export.html", context)


@require_GET
@role_required(*SEE_RETENTION)
def retention_runs(request: HttpRequest) -> HttpResponse:
    """The latest runs of the retention schedule: when, which rule, what each removed."""
    context = {
        "runs": records.retention_runs_recent(),
        "title": "Records retention",
        "settings_years": {
            "closed": settings.DSR_RETENTION_CLOSED_RECORD_YEARS,
            "declined": settings.DSR_RETENTION_DECLINED_REFERRAL_YEARS,
            "access_log": settings.DSR_RETENTION_ACCESS_LOG_YEARS,
            "outbox_days": settings.DSR_RETENTION_OUTBOX_DAYS,
        },
    }
    return render(request, "dsr/retention_runs.html", context)
