"""Links for partners who own an action without an account (ACCESS.md "Action owner by link").

The register team sends and withdraws a link from the action's page (dsr.change_register). The
partner's page is public, and the token is the key: an unknown token, or one for another
action, answers 404 ("This link is not valid"); an expired or withdrawn one 410. It shows only
the short external summary, the due date and the team's contact details (reviews.services.links
checked the summary for the person's identifiers); never the person, nor the action's own text.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from dsr.exceptions import RegisterError
from dsr.forms import ConfirmForm
from dsr.nhsuk.form_page import form_page
from dsr.security import ratelimit
from dsr.security.access import public, role_required
from reviews.forms import staff as forms
from reviews.models import Action, ActionLink
from reviews.permissions import CHANGE, get_action_for_user
from reviews.services import links as services


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def action_link_send(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_action_for_user(request.user, pk)
    back_url = reverse("reviews:action-update", kwargs={"pk": action.pk})
    form = forms.ActionLinkForm(request.POST or None, initial={"email": action.owner_email})
    return form_page(
        request,
        form=form,
        title="Send the owner a link to this action",
        caption=action.person.full_name,
        intro=(
            f"{action.owner_label} has no account. The link lets them mark this action done, or "
            "say what is in the way, without signing in. Their page shows only the summary you "
            "write here, the due date and the team's contact details. Sending a new link stops "
            "the old one."
        ),
        act=lambda d: services.action_link_send(
            action=action, summary=d["summary"], email=d["email"], by=request.user
        ),
        done="The link has been sent.",
        button="Send the link",
        back_url=back_url,
        back_label="Back to the action",
        person=action.person,
        log_detail={"action": action.pk},
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def action_link_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_action_for_user(request.user, pk)
    back_url = reverse("reviews:action-update", kwargs={"pk": action.pk})

    def act(data: dict) -> int:
        withdrawn = services.action_link_withdraw(action=action, by=request.user)
        if not withdrawn:
            raise RegisterError("No link is working for this action.")
        return withdrawn

    return form_page(
        request,
        form=ConfirmForm(request.POST or None),
        title="Withdraw the owner's link",
        caption=action.person.full_name,
        intro="The link stops working at once. You can send a new one later.",
        act=act,
        done="The link has been withdrawn.",
        button="Withdraw the link",
        back_url=back_url,
        back_label="Back to the action",
        person=action.person,
        log_detail={"action": action.pk},
    )


PAGES_PER_HOUR = "ACTION_LINK_PAGES_PER_HOUR"
_CLOSED = {"expired": 410, ActionLink.Status.WITHDRAWN: 410, "unknown": 404}


def _closed(request: HttpRequest, state: str) -> HttpResponse:
    return render(
        request, "reviews/action_link_closed.html", {"state": state}, status=_CLOSED[state]
    )


@never_cache
@require_http_methods(["GET", "POST"])
@public
def action_link(request: HttpRequest, token: str) -> HttpResponse:
    """The partner's page for their action. Each use is an ActionLinkUse row. Past the hourly
    limit for the address or session (ACTION_LINK_PAGES_PER_HOUR) it answers "too many" (429),
    looking nothing up and writing nothing."""
    if not ratelimit.within_limit(request, scope="action-link", setting=PAGES_PER_HOUR):
        return ratelimit.too_many(request, "reviews/action_link_too_many.html")
    link = services.get_action_link(token)
    if link is None:
        return _closed(request, "unknown")
    form = forms.PartnerActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.action_link_report(
                link=link, done=data["outcome"] == "done", note=data["note"]
            )
        except RegisterError as exc:
            link.refresh_from_db()
            state = link.state_now()
            if state != ActionLink.Status.ACTIVE:
                return _closed(request, state)
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                "Thank you: the action is recorded as done."
                if data["outcome"] == "done"
                else "Thank you: the DSR team has been told what is in the way.",
            )
            return redirect(request.path)
    else:
        # Opened, or sent with a mistake (shown with its errors): the use is recorded.
        state = services.action_link_open(link=link)
        if state != ActionLink.Status.ACTIVE:
            return _closed(request, state)
    action = Action.objects.only("due_on", "status", "closed_on").get(pk=link.action_id)
    context = {
        "link": link,
        "action": action,
        "is_open": action.status == Action.Status.OPEN,
        "form": form,
        "expires": services.expiry_of(link),
    }
    return render(request, "reviews/action_link.html", context)
