"""Who may do what with reviews (ACCESS.md), beyond the role checks on each view.

The register team (dsr.view_register, dsr.change_register) works on every meeting, action and
C(E)TR in its areas. A panel member reads only the pack of a C(E)TR they sit on, only once its
consent evidence is recorded (DOMAIN rule 10), only while the person is on the register, and
only until PACK_DAYS_AFTER_REPORT days after the report is sent (or after the review, when no
report date is recorded); anything else answers 404, so its existence is not revealed. An
action's owner may record it done.
"""

from datetime import date, timedelta
from typing import Any

from django.db.models import Q

from dsr.security.scoping import get_object_for_user
from reviews.models import Action, Cetr

READ = "dsr.view_register"
CHANGE = "dsr.change_register"
SIT_ON_PANELS = "dsr.sit_on_panels"
PACK_DAYS_AFTER_REPORT = 30


def packs_for(user: Any, today: date) -> Any:
    """The C(E)TRs whose pack the user may read as a panel member."""
    if not user.has_perm(SIT_ON_PANELS):
        return Cetr.objects.none()
    closes_after = today - timedelta(days=PACK_DAYS_AFTER_REPORT)
    return (
        Cetr.objects.filter(
            panel__user=user,
            consent_recorded_on__isnull=False,
            person__register_entries__status="open",
        )
        .exclude(status=Cetr.Status.CANCELLED)
        .filter(
            Q(report_sent_on__gte=closes_after)
            | Q(report_sent_on__isnull=True, held_on__isnull=True)
            | Q(report_sent_on__isnull=True, held_on__gte=closes_after)
        )
        .distinct()
    )


def get_pack_for_user(user: Any, pk: int, today: date) -> Cetr:
    from django.http import Http404

    try:
        return packs_for(user, today).select_related("person", "admission").get(pk=pk)
    except Cetr.DoesNotExist as exc:
        raise Http404 from exc


def get_cetr_for_findings(user: Any, pk: int, today: date) -> Cetr:
    """Register staff in scope, or a panel member with the pack open to them."""
    if user.has_perm(CHANGE):
        return get_object_for_user(Cetr.objects.select_related("person"), user, pk=pk)
    return get_pack_for_user(user, pk, today)


def get_action_for_user(user: Any, pk: int) -> Action:
    return get_object_for_user(
        Action.objects.select_related("person", "owner__organisation", "cetr", "agenda_item"),
        user,
        pk=pk,
    )


def can_close(user: Any, action: Action) -> bool:
    return user.has_perm(CHANGE) or action.owner_id == user.pk
