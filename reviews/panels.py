"""The reviews section of the person page and the actions panel of the staff dashboard
(registered with dsr.panels in ReviewsConfig.ready)."""

from datetime import date

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from dsr.caching import kept_for_a_while
from dsr.models import AccessEvent, Person
from dsr.panels import Panel
from dsr.security.audit import access_log_people
from reviews.models import Action, Meeting
from reviews.permissions import CHANGE, READ
from reviews.queries import person_records

DASHBOARD_LIST = 10


def person_reviews_panel(request: HttpRequest, person: Person, today: date) -> Panel:
    """Open actions, the latest closed ones, C(E)TRs and the latest oversight visits, from the
    rows the page already read. Senior managers see the actions and C(E)TRs of the people they
    may see (ACCESS.md)."""
    records = person_records(person)
    return Panel(
        "reviews/includes/person_reviews.html",
        {
            "person": person,
            "open_actions": records.open_actions,
            "closed_actions": records.closed_actions,
            "closed_count": records.closed_count,
            "closed_more": records.closed_count - len(records.closed_actions),
            "cetrs": records.cetrs,
            "visits": records.visits,
            "today": today,
            "can_change": request.user.has_perm(CHANGE),
            "can_read_cetrs": request.user.has_perm(READ),
            "user_id": request.user.pk,
        },
    )


def dashboard_actions_panel(request: HttpRequest, today: date) -> Panel | None:
    """Overdue actions and the next meetings, for the register team: four queries, and one
    more for the access-log rows of the people named when any are."""
    if not request.user.has_perm(READ):
        return None
    overdue = Action.objects.visible_to(request.user).overdue(today)
    rows = list(
        overdue.select_related("person", "owner__organisation").order_by("due_on", "id")[
            :DASHBOARD_LIST
        ]
    )
    if rows:
        access_log_people(
            user=request.user,
            people_ids=sorted({action.person_id for action in rows}),
            action=AccessEvent.Action.LIST_REGISTER,
            path=request.path,
            detail={"page": "dashboard overdue actions"},
        )
    return Panel(
        "reviews/includes/dashboard_actions.html",
        {
            # Counted over the whole register: kept with the dashboard's other counts.
            "overdue_count": kept_for_a_while(
                "overdue actions",
                request.user,
                (today,),
                overdue.count,
                settings.DSR_DASHBOARD_CACHE_SECONDS,
            )[0],
            "overdue": rows,
            "meetings": list(
                Meeting.objects.visible_to(request.user)
                .filter(status=Meeting.Status.PLANNED, held_at__gte=timezone.now())
                .order_by("held_at", "id")[:3]
            ),
            "today": today,
        },
    )
