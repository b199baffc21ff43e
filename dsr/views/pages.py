"""Pages of the service that belong to no single workflow: public pages, home and health."""

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from dsr import queries
from dsr.celery import app as celery_app
from dsr.models import Heartbeat
from dsr.models.team import YOUNG_PEOPLE_GUIDE_DEFAULT
from dsr.panels import home_panels
from dsr.roles import ROLE_SUMMARIES
from dsr.security.access import public, role_required

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


def _young_people_guide_url() -> str:
    """The link to NHS England's guides for young people as the DSR lead set it (empty for
    none), or the default before the team's details are saved."""
    contact = queries.team_contact()
    return contact.young_people_guide_url if contact else YOUNG_PEOPLE_GUIDE_DEFAULT


@public
def deciding(request: HttpRequest) -> HttpResponse:
    """Deciding whether to be on the register: what it means, C(E)TRs, who sees the
    information and how to say no or leave, in plain words."""
    return render(
        request, "pages/deciding.html", {"young_people_guide_url": _young_people_guide_url()}
    )


@public
def deciding_easy_read(request: HttpRequest) -> HttpResponse:
    """The same, in easy read."""
    return render(
        request,
        "pages/deciding_easy_read.html",
        {"young_people_guide_url": _young_people_guide_url()},
    )


@public
def next_easy_read(request: HttpRequest) -> HttpResponse:
    """What happens after a referral, in easy read (linked from the easy-read confirmation)."""
    return render(request, "pages/next_easy_read.html")


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
        "panels": home_panels(request, timezone.localdate()),
    }
    return render(request, "home/home.html", context)


# A heartbeat older than this means its process has stopped (both run every minute).
HEARTBEAT_STALE_AFTER_SECONDS = 300
# The background processes, each by the heartbeat it writes: the scheduler (Celery beat) when it
# sends a scheduled task, a worker every minute on its own timer (dsr.celery.WorkerHeartbeat).
BACKGROUND = {"worker": "a worker", "scheduler": "the scheduler"}


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_broker() -> str:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


def _readiness() -> dict[str, str]:
    checks: dict[str, str] = {}
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001  (any failure means "not ready")
            logger.warning("health check failed: %s (%s)", name, type(exc).__name__)
            checks[name] = "unavailable"
    return checks


def _background() -> dict[str, dict[str, object]]:
    """Each background process's last heartbeat and whether it is fresh ("ok"), "stale" or
    never seen ("unknown")."""
    seen = dict(Heartbeat.objects.filter(name__in=BACKGROUND).values_list("name", "last_seen_at"))
    now = timezone.now()
    report: dict[str, dict[str, object]] = {}
    for name in BACKGROUND:
        last = seen.get(name)
        if last is None:
            report[name] = {"status": "unknown", "last_heartbeat": None}
        else:
            fresh = (now - last).total_seconds() <= HEARTBEAT_STALE_AFTER_SECONDS
            report[name] = {"status": "ok" if fresh else "stale", "last_heartbeat": last}
    return report


def _shows_details(request: HttpRequest) -> bool:
    """The checks behind a status code are for the register team and administrators only."""
    user = request.user
    return (
        user.is_authenticated
        and user.is_verified()
        and (user.has_perm("dsr.view_register") or user.has_perm("dsr.manage_accounts"))
    )


def _health_response(request: HttpRequest, healthy: bool, details: dict) -> JsonResponse:
    body: dict[str, object] = {"status": "ok" if healthy else "unavailable"}
    if _shows_details(request):
        body.update(details)
    return JsonResponse(body, status=200 if healthy else 503)


@public
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Readiness, for the web container's own check: 200 when the database and the broker
    answer, 503 otherwise. A stopped worker or scheduler does not make the web container
    unready; `health_background` reports them."""
    checks = _readiness()
    details: dict[str, object] = {
        "checks": checks,
        "broker_transport": celery_app.conf.broker_url.split(":", 1)[0],
    }
    if checks["database"] == "ok":
        details["background"] = _background()
    return _health_response(request, all(v == "ok" for v in checks.values()), details)


@public
@never_cache
def health_background(request: HttpRequest) -> JsonResponse:
    """For a monitoring probe: 200 while a worker and the scheduler have each written a
    heartbeat in the last five minutes, 503 when either has stopped or was never seen."""
    try:
        background = _background()
    except Exception as exc:  # noqa: BLE001  (no database: nothing can be said to be running)
        logger.warning("background health check failed (%s)", type(exc).__name__)
        return _health_response(request, False, {"checks": {"database": "unavailable"}})
    healthy = all(item["status"] == "ok" for item in background.values())
    return _health_response(request, healthy, {"background": background})


@role_required("dsr.view_register", "dsr.manage_accounts")
@never_cache
def service_status(request: HttpRequest) -> HttpResponse:
    """The register team's and administrators' view of the service's own health."""
    checks = _readiness()
    background = _background() if checks["database"] == "ok" else {}
    rows = [
        {"name": f"The {name}", "status": status}
        for name, status in (("database", checks["database"]), ("message broker", checks["broker"]))
    ] + [
        {
            "name": label[0].upper() + label[1:],
            "status": background.get(name, {}).get("status", "unknown"),
            "last_heartbeat": background.get(name, {}).get("last_heartbeat"),
        }
        for name, label in BACKGROUND.items()
    ]
    return render(
        request,
        "pages/service_status.html",
        {"rows": rows, "stale_after_minutes": HEARTBEAT_STALE_AFTER_SECONDS // 60},
    )
