"""Actions: each user's own open actions, and changing or closing one.

"My actions" is for anyone who may own an action with an account (the register team and senior
managers). Changing an action needs dsr.change_register; recording it done or cancelled needs
that, or to be its owner (403 otherwise). An action is fetched only through
`get_action_for_user`, so one about a person out of the user's scope answers 404.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from dsr.forms import ConfirmForm
from dsr.models import AccessEvent
from dsr.nhsuk.edits import EditGuard
from dsr.nhsuk.form_page import form_page
from dsr.queries import get_person_for_user
from dsr.security.access import role_required
from dsr.security.audit import access_log_people, access_log_record
from reviews import services
from reviews.forms import staff as forms
from reviews.models import Action, AgendaItem, Meeting
from reviews.permissions import CHANGE, READ, can_close, get_action_for_user
from reviews.queries import PERSON_ACTIONS_SHOWN, partner_links
from reviews.queries import my_actions as my_actions_for
from reviews.queries import person_actions as person_actions_for
from reviews.views.meetings import action_fields, action_owners

CAN_OWN = (READ, "dsr.view_escalation_queue")


# Who reads a person's actions: whoever reads the person page (dsr.views.people).
CAN_READ_PERSON = ("dsr.view_register", "dsr.view_escalation_queue", "dsr.view_escalation_summary")


@require_GET
@role_required(*CAN_READ_PERSON)
def person_actions(request: HttpRequest, pk: int) -> HttpResponse:
    """Every action about one person, open ones by due date and then the latest closed: the
    person page shows only the first open ones."""
    person = get_person_for_user(request.user, pk)
    today = timezone.localdate()
    actions = person_actions_for(person, limit=PERSON_ACTIONS_SHOWN)
    access_log_record(
        user=request.user,
        person=person,
        action=AccessEvent.Action.VIEW_PERSON,
        path=request.path,
        detail={"page": "actions"},
    )
    context = {
        "person": person,
        "actions": actions,
        "shown": PERSON_ACTIONS_SHOWN,
        "today": today,
        "can_change": request.user.has_perm(CHANGE),
    }
    return render(request, "reviews/person_actions.html", context)


@require_GET
@role_required(*CAN_OWN)
def my_actions(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    actions = my_actions_for(request.user, today)
    access_log_people(
        user=request.user,
        people_ids=sorted({a.person_id for a in actions}),
        action=AccessEvent.Action.LIST_REGISTER,
        path=request.path,
        detail={"page": "my actions"},
    )
    context = {
        "actions": actions,
        "overdue": [a for a in actions if a.is_overdue(today)],
        "today": today,
        "can_change": request.user.has_perm(CHANGE),
    }
    return render(request, "reviews/my_actions.html", context)


def _back(request: HttpRequest, action: Action) -> tuple[str, str]:
    """Back to the person's page, or to their discussion at a meeting when the page was opened
    from it (`?item=`: an agenda item of the same person in a meeting the user may see)."""
    item_pk = request.GET.get("item", "")
    if item_pk.isdigit():
        item = (
            AgendaItem.objects.filter(
                pk=int(item_pk),
                person_id=action.person_id,
                meeting__in=Meeting.objects.visible_to(request.user),
            )
            .only("pk", "meeting_id")
            .first()
        )
        if item is not None:
            url = reverse(
                "reviews:item-discuss", kwargs={"pk": item.meeting_id, "item_pk": item.pk}
            )
            return url, f"Back to {action.person.full_name}'s discussion"
    return action.person.get_absolute_url(), f"Back to {action.person.full_name}"


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def action_update(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_action_for_user(request.user, pk)
    initial = {
        "description": action.description,
        "owner": action.owner_id,
        "owner_name": action.owner_name,
        "owner_organisation": action.owner_organisation,
        "owner_email": action.owner_email,
        "agency": action.agency,
        "due_on": action.due_on,
    }
    form = forms.ActionForm(
        request.POST or None,
        initial=initial,
        owners=action_owners(action.person),
        due_on=action.due_on,
    )
    back_url, back_label = _back(request, action)
    return form_page(
        request,
        form=form,
        title="Change the action",
        caption=action.person.full_name,
        act=lambda d: services.action_change(action=action, by=request.user, **action_fields(d)),
        done="Action saved.",
        back_url=back_url,
        back_label=back_label,
        person=action.person,
        log_detail={"action": action.pk},
        guard=EditGuard(action, writes=_action_writes),
        template="reviews/action_form.html",
        extra={"action": action, **partner_links(action)},
    )


def _action_writes(data: dict) -> dict:
    """The Action fields a change writes (reviews.services.action_change)."""
    owner = data["owner"]
    return {
        "description": data["description"],
        "owner": owner,
        "owner_name": "" if owner else data["owner_name"],
        "owner_organisation": "" if owner else data["owner_organisation"],
        "owner_email": "" if owner else data["owner_email"],
        "agency": data["agency"],
        "due_on": data["due_on"],
    }


@require_http_methods(["GET", "POST"])
@role_required(*CAN_OWN)
def action_close(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_action_for_user(request.user, pk)
    if not can_close(request.user, action):
        # The function check (role_required) answered 403 already; this is the object check,
        # so another owner's action answers 404, as a missing one does (ACCESS.md "Scope").
        raise Http404
    back_url, back_label = _back(request, action)
    if not request.user.has_perm(READ):
        back_url, back_label = reverse("reviews:my-actions"), "Back to my actions"
    if action.status != Action.Status.OPEN:
        # Nothing to record: say how it was closed, and offer no form.
        context = {"action": action, "back_url": back_url, "back_label": back_label}
        return render(request, "reviews/action_closed.html", context)
    return form_page(
        request,
        form=forms.ActionCloseForm(request.POST or None),
        title="Record the action as done or cancelled",
        caption=action.person.full_name,
        intro=f"{action.description} (due {action.due_on:%-d %B %Y}, owner {action.owner_label})",
        act=lambda d: services.action_close(
            action=action, status=d["status"], note=d["note"], by=request.user
        ),
        done="Action closed.",
        back_url=back_url,
        back_label=back_label,
        person=action.person,
        log_detail={"action": action.pk},
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def action_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_action_for_user(request.user, pk)
    back_url, back_label = _back(request, action)
    return form_page(
        request,
        form=ConfirmForm(request.POST or None),
        title="Reopen the action",
        caption=action.person.full_name,
        intro=action.description,
        act=lambda d: services.action_reopen(action=action, by=request.user),
        done="Action reopened.",
        back_url=back_url,
        back_label=back_label,
        button="Reopen",
        person=action.person,
        log_detail={"action": action.pk},
    )
