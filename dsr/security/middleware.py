"""Request gates that every page passes through: session lifetime, access rule, headers."""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.shortcuts import resolve_url
from django.utils import timezone
from log_request_id.middleware import RequestIDMiddleware

from dsr.nhsuk.uploads import RequestTooLarge
from dsr.security.access import PASSWORD_STEP, PUBLIC, access_rule_of
from dsr.security.audit import record_refusal
from dsr.security.errors import request_too_large
from dsr.security.logs import REQUEST_ID_PATTERN
from dsr.security.sessions import renew_if_due
from dsr.signals import SESSION_STARTED_AT

logger = logging.getLogger(__name__)

GetResponse = Callable[[HttpRequest], HttpResponse]


class RequestSizeLimitMiddleware:
    """Refuses a request over settings.DSR_MAX_REQUEST_BYTES with 413 before it is read, on
    every route, whatever a proxy in front allows. Django limits form fields
    (DATA_UPLOAD_MAX_MEMORY_SIZE) but not files, so a large upload was read in full before the
    form refused it.

    It goes before every middleware that may read the body (sessions, CSRF and all after them).
    A request declaring more than the limit (Content-Length) is refused without a byte read. A
    form with files is then read here, through `dsr.nhsuk.uploads.RequestSizeUploadHandler`, which
    counts the bytes actually received and stops at the limit, whatever the declared length.
    (Under WSGI Django reads at most Content-Length bytes, and none of a body sent without it,
    chunked; the count guards a server that hands over more.)
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DSR_MAX_REQUEST_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # as Django reads it: no body at all
        if declared > limit:
            return self._refuse(request, f"declared={declared}")
        if request.method == "POST" and request.content_type == "multipart/form-data":
            try:
                request.POST  # noqa: B018 (read now, through the counting upload handler)
            except RequestTooLarge:
                return self._refuse(request, "received=over")
            except UnreadablePostError:
                pass  # the client went away mid-form; later code sees an empty form, as before
        return self.get_response(request)

    def _refuse(self, request: HttpRequest, size: str) -> HttpResponse:
        logger.warning(
            "request refused as too large %s limit=%s method=%s path=%s",
            size,
            settings.DSR_MAX_REQUEST_BYTES,
            request.method,
            request.path,
        )
        return request_too_large(request)


class SessionLifetimeMiddleware:
    """Ends a signed-in session at its absolute lifetime, however active it has been, and moves
    a session's idle expiry on when it is due (`dsr.security.sessions.renew_if_due`).

    The idle timeout is the session's age, moved on by a request at most once every
    SESSION_RENEW_EVERY rather than written on every request; an idle session is read as ended
    (dsr.security.sessions) and the user arrives anonymous. ASVS v5.0.0-7.3.2 asks for both
    limits.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        renew_if_due(request.session)
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_AT)
            limit = settings.SESSION_ABSOLUTE_LIFETIME.total_seconds()
            if started is None or timezone.now().timestamp() - started > limit:
                logger.info("session ended at absolute lifetime user=%s", request.user.pk)
                logout(request)
                messages.info(request, "You have been signed out. Sign in again to continue.")
                return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
        return self.get_response(request)


class AccessRuleMiddleware:
    """Closed by default: a view is served only to a user with a verified second factor,
    unless it is marked `@public` or `@password_step` (see dsr.security.access)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        rule = access_rule_of(view_func)
        if rule == PUBLIC:
            return None
        user = request.user
        if not user.is_authenticated:
            return _refused_to(request, settings.LOGIN_URL)
        if rule == PASSWORD_STEP:
            return None
        if not user.is_verified():
            return _refused_to(request, "accounts:verify")
        return None


def _refused_to(request: HttpRequest, url_name: str) -> HttpResponse:
    """A redirect to a sign-in step, marked as a refusal for RefusalLogMiddleware."""
    response = redirect_to_login(request.get_full_path(), resolve_url(url_name))
    response.dsr_refused = True  # type: ignore[attr-defined]
    return response


class RefusalLogMiddleware:
    """One audit record for every refusal (RELIABILITY E-2): a 403 (`role_required`, the admin,
    CSRF), a 404 (an object out of scope from a `get_<thing>_for_user` helper, or no such page)
    and a redirect to a sign-in step from AccessRuleMiddleware. Responses from every view and
    every `process_view` pass through here, so this is the one place that sees them all."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in (403, 404) or getattr(response, "dsr_refused", False):
            record_refusal(request, response.status_code)
        return response


class RequestIdMiddleware(RequestIDMiddleware):
    """A correlation id for each request (RELIABILITY E-7), from django-log-request-id: taken
    from the trusted header when settings.LOG_REQUEST_ID_HEADER names one, otherwise generated.
    It goes in the X-Request-ID response header, in every log record (the RequestIDFilter of
    settings.LOGGING), in access-log rows and on the error page."""

    def _get_request_id(self, request: HttpRequest) -> str:
        request_id = super()._get_request_id(request)
        if REQUEST_ID_PATTERN.fullmatch(request_id):
            return request_id
        return self._generate_id()


class SensitivePageHeadersMiddleware:
    """Headers Django does not set itself: no caching of signed-in pages (ASVS 14.3.2), and a
    Permissions-Policy that switches off device features the service never uses."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if request.user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
        return response
