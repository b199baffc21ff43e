"""The fix for each escalation: where on the register its cause is put right, by its reason and
the event that raised it (escalation.triggers: a rating row, an admission, an action or a
referral). A senior manager sees the escalation; the fix is the register team's work, so the
link is given only to those who may follow it (reviews.permissions.CHANGE for meetings, C(E)TRs
and actions; dsr.manage_referrals for referrals)."""

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from escalation.models import Escalation

CHANGE = "dsr.change_register"
REFERRALS = "dsr.manage_referrals"

Reason = Escalation.Reason

# The reasons a meeting's agenda puts right (the rating is reviewed there), and those a C(E)TR
# does (rule 7: a community C(E)TR before admission, or one for someone rated Red).
_MEETING = {
    Reason.RED_RATING,
    Reason.AMBER_UNREVIEWED,
    Reason.RATING_REVIEW_OVERDUE,
    Reason.INADEQUATE_HOSPITAL,
    Reason.BY_HAND,
}
_CETR = {Reason.RED_WITHOUT_CETR, Reason.ADMISSION_WITHOUT_CETR}


@dataclass(frozen=True)
class Fix:
    label: str
    url: str


def fix_for(escalation: Escalation, user: Any) -> Fix | None:
    """The link to the fix, or None when the user may not follow it (or it needs a person the
    escalation is not linked to yet). No query: everything comes from the escalation's row."""
    reason = escalation.reason
    if reason == Reason.REFERRAL_OVERDUE and escalation.trigger_type == "referrals.referral":
        if not user.has_perm(REFERRALS):
            return None
        return Fix(
            "Open the referral", reverse("referrals:detail", kwargs={"pk": escalation.trigger_id})
        )
    if not user.has_perm(CHANGE):
        return None
    if reason == Reason.OVERDUE_ACTION and escalation.trigger_type == "reviews.action":
        return Fix(
            "Open the action",
            reverse("reviews:action-update", kwargs={"pk": escalation.trigger_id}),
        )
    if escalation.person_id is None:
        return None
    if reason in _CETR:
        return Fix(
            "Plan a C(E)TR", reverse("reviews:cetr-create", kwargs={"pk": escalation.person_id})
        )
    if reason in _MEETING:
        return Fix(
            "Add to a meeting",
            reverse("reviews:person-agenda-add", kwargs={"pk": escalation.person_id}),
        )
    return None
