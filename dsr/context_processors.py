from django.conf import settings
from django.http import HttpRequest

from dsr.navigation import navigation_for


def service(request: HttpRequest) -> dict:
    """The service name and the role-aware navigation for the header."""
    return {
        "service_name": settings.SERVICE_NAME,
        "icb_name": settings.ICB_NAME,
        "navigation": navigation_for(request),
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        # The idle timeout as the server enforces it (the session cookie's age, renewed on
        # every request), and how long before it signed-in pages warn.
        "session_idle_seconds": settings.SESSION_COOKIE_AGE,
        "session_warning_seconds": int(settings.SESSION_IDLE_WARNING.total_seconds()),
        "session_warning_minutes": int(settings.SESSION_IDLE_WARNING.total_seconds() // 60),
    }
