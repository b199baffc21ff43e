from functools import partial

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from dsr import queries
from dsr.navigation import navigation_for
from dsr.security.access import PUBLIC, access_rule_of
from dsr.security.sessions import seconds_left


def is_public_page(request: HttpRequest) -> bool:
    """Whether the page is one anyone may open (`@public`), other than the account pages (signing
    in, a password reset, an invitation), which are for staff."""
    match = getattr(request, "resolver_match", None)
    return bool(match) and access_rule_of(match.func) == PUBLIC and match.namespace != "accounts"


def service(request: HttpRequest) -> dict:
    """The service name, the role-aware navigation for the header and the DSR team's
    contact details, which every public page shows (templates/includes/footer.html)."""
    return {
        "service_name": settings.SERVICE_NAME,
        "icb_name": settings.ICB_NAME,
        "navigation": navigation_for(request),
        # The DSR team's contact details (templates/includes/team_contact.html): read only by a
        # page that shows them, once however often it does.
        "team_contact": SimpleLazyObject(queries.team_contact),
        "public_page": is_public_page(request),
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        # The time left before the idle timeout as the server enforces it (the session's age,
        # moved on at most once a minute: dsr.security.sessions), and how long before it
        # signed-in pages warn. Worked out only by a page that shows it.
        "session_idle_seconds": partial(seconds_left, getattr(request, "session", None)),
        "session_warning_seconds": int(settings.SESSION_IDLE_WARNING.total_seconds()),
        "session_warning_minutes": int(settings.SESSION_IDLE_WARNING.total_seconds() // 60),
    }
