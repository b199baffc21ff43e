"""Pages of the service that belong to no single workflow: public pages, home and health."""

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from dsr.access import public
from dsr.celery import app as celery_app
from dsr.models import Heartbeat
from dsr.roles import ROLE_SUMMARIES

logger = logging.getLogger(__name__)


@public
def start(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/start.html")


@public
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/privacy.html")


@public
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/accessibility.html")


@public
def cookies(request: HttpRequest) -> HttpResponse:
    context = {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "idle_minutes": int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60),
    }
    return render(request, "pages/cookies.html", context)


def home(request: HttpRequest) -> HttpResponse:
    """Each signed-in user's home: who they are, what their roles let them do, and where to go."""
    user = request.user
    organisation = user.organisation
    local_authorities = list(organisation.local_authorities.all()) if organisation else []
    roles = [{"label": role.label, "summary": ROLE_SUMMARIES[role]} for role in user.roles]
    context = {
        "organisation": organisation,
        "local_authorities": local_authorities,
        "roles": roles,
        "can_manage_accounts": user.has_perm("dsr.manage_accounts"),
    }
    return render(request, "home/home.html", context)


HEARTBEAT_STALE_AFTER_SECONDS = 300


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_broker() -> str:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


@public
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database and the broker answer, 503 otherwise. The scheduler's
    last heartbeat is reported too, so a stopped worker or beat shows on the same page."""
    checks: dict[str, str] = {}
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            checks[name] = check()
        except Exception:  # noqa: BLE001  (any failure means "not ready"; details go to the log)
            logger.exception("health check failed: %s", name)
            checks[name] = "unavailable"

    scheduler: dict[str, object] = {"status": "unknown", "last_heartbeat": None}
    if checks["database"] == "ok":
        beat = Heartbeat.objects.filter(name="scheduler").first()
        if beat:
            age = (timezone.now() - beat.last_seen_at).total_seconds()
            scheduler = {
                "status": "ok" if age <= HEARTBEAT_STALE_AFTER_SECONDS else "stale",
                "last_heartbeat": beat.last_seen_at.isoformat(),
            }
    healthy = all(value == "ok" for value in checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": checks,
        "scheduler": scheduler,
        "broker_transport": celery_app.conf.broker_url.split(":", 1)[0],
    }
    return JsonResponse(body, status=200 if healthy else 503)
