"""Error pages in the NHS.UK style, which never show a stack trace or settings; and the error
reports Django mails to ADMINS, which never show what a user typed or a person's details."""

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its security token (an old page, cookies blocked, or a forged
    request): an NHS.UK page, which Django's own (with an inline style) is not."""
    return render(request, "errors/csrf.html", status=403)


def request_too_large(request: HttpRequest) -> HttpResponse:
    """What someone sees when what they sent is over the size the service accepts: a page of its
    own, rendered without the request context, as it is answered before sessions and sign-in."""
    from dsr.nhsuk.uploads import MAX_BYTES, MAX_FILES

    context = {
        **_standalone_context(request),
        "max_files": MAX_FILES,
        "max_file_mb": MAX_BYTES // (1024 * 1024),
    }
    return render(None, "errors/413.html", context, status=413)


def server_error(request: HttpRequest) -> HttpResponse:
    """The generic error page. It shows the request's correlation id (RELIABILITY E-7), which is
    also on the logged error record, so a user can quote it and the record can be found."""
    # Rendered without the request context: whatever failed may be in it.
    return render(None, "errors/500.html", _standalone_context(request), status=500)


def _standalone_context(request: HttpRequest) -> dict[str, Any]:
    """What errors/standalone.html shows: the request's id and the ICB's name, from settings,
    never from the request's session, user or database."""
    return {"request_id": getattr(request, "id", None), "icb_name": settings.ICB_NAME}


class ErrorReportFilter(SafeExceptionReporterFilter):
    """What an error report may show once DEBUG is off: no form values and no variables (any of
    them may hold a person's details), no session or CSRF cookie."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|COOKIE|SESSION|CSRF", flags=re.IGNORECASE
    )

    def get_post_parameters(self, request: Any) -> Any:
        if request is None or not self.is_active(request):
            return super().get_post_parameters(request)
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]


class ErrorReporter(ExceptionReporter):
    """Django's error report, naming the user by id and hiding query and file names."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if self.request is not None and self.filter.is_active(self.request):
            user = getattr(self.request, "user", None)
            data["user_str"] = f"user {getattr(user, 'pk', None)}"
            hidden = self.filter.cleansed_substitute
            data["request_GET_items"] = [(k, hidden) for k in self.request.GET]
            data["request_FILES_items"] = [(k, hidden) for k in self.request.FILES]
            data["request_insecure_uri"] = self.request.path
        return data
