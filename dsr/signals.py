"""Session bookkeeping at sign-in (infrastructure, not domain flow)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

SESSION_STARTED_AT = "dsr_session_started_at"


@receiver(user_logged_in, dispatch_uid="dsr_session_started_at")
def record_session_start(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED_AT] = timezone.now().timestamp()
