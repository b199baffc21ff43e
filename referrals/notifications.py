"""What referral messages say: the plain values their templates read at send time."""

from typing import Any

from django.conf import settings
from django.urls import reverse

from referrals.models import Referral


def referral_context(referral_id: int) -> dict[str, Any]:
    """Reference, dates and status for a staff reminder: no personal details."""
    referral = Referral.objects.select_related("assigned_to").get(pk=referral_id)
    return {
        "reference": referral.reference,
        "decision_due": f"{referral.decision_due:%-d %B %Y}",
        "status": referral.get_status_display().lower(),
        "assigned_to": referral.assigned_to.full_name if referral.assigned_to else "",
        "url": settings.SITE_URL + reverse("referrals:detail", kwargs={"pk": referral.pk}),
    }
