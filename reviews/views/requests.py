"""C(E)TR requests: a public form anyone may use (the person, their family, carer, advocate or
the team supporting them), its confirmation, and triage by the register team.

The public pages are `@public` and `never_cache`, as they show what someone typed. They use the
public forms' shared kit (dsr.nhsuk.intake): their POSTs are rate limited per address and refuse a
filled honeypot; the form carries a submission token issued to this session, so a double click
makes one request (`cetr_request_submit` returns the first for a token); and the confirmation
shows only the reference of the request this session sent, read by an id kept in the session.

Triage: roles with dsr.manage_referrals (register staff and the DSR lead); every other role gets
403. A request out of the user's areas answers 404 (`get_request_for_user`). Reading a request
writes an access-log row, and so does showing the people on the register who match it.
"""

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from dsr.exceptions import RegisterError
from dsr.models import AccessEvent, Person
from dsr.nhsuk.intake import Intake, submission_token
from dsr.nhsuk.validators import format_nhs_number
from dsr.queries import local_authorities_for
from dsr.security.access import public, role_required
from dsr.security.audit import access_log_people, access_log_record
from reviews.forms import public as forms
from reviews.models import CetrRequest
from reviews.queries import get_request_for_user, request_candidates
from reviews.services import cetr_request_arrange, cetr_request_decline, cetr_request_submit

logger = logging.getLogger(__name__)

MANAGE = "dsr.manage_referrals"
TOKEN = "cetr_request_token"  # noqa: S105  (a session key, not a password)
SUBMITTED = "cetr_request_submitted"
RECENTLY_TRIAGED = 50
WAITING_LIMIT = 200


INTAKE = Intake(
    noun="request",
    logger=logger,
    log_name="C(E)TR request",
    post_scope="cetr-request-post",
    post_setting="CETR_REQUEST_POSTS_PER_HOUR",
    submit_scope="cetr-request-submit",
    submit_setting="CETR_REQUEST_SUBMISSIONS_PER_HOUR",
    draft_key=TOKEN,
    sent_key=SUBMITTED,
    confirmation="reviews:request-confirmation",
    templates="reviews/requests/",
)


# --- The public form ---------------------------------------------------------------------------


def _form_page(request: HttpRequest, form: forms.PublicCetrRequestForm) -> HttpResponse:
    return render(request, "reviews/requests/public_form.html", {"form": form})


def _send(
    form: forms.PublicCetrRequestForm, token: str, saved: Callable[[CetrRequest], None]
) -> CetrRequest | None:
    """Save the request, or None with the service's refusal on the form. `saved` writes the
    visitor's session in the request's transaction (dsr.nhsuk.intake)."""
    try:
        cetr_request = cetr_request_submit(
            fields=form.request_fields(),
            channel=CetrRequest.Channel.ONLINE,
            submission_token=uuid.UUID(token),
            saved=saved,
        )
    except RegisterError as exc:
        form.add_error(None, str(exc))
        return None
    logger.info("public C(E)TR request submitted request=%s", cetr_request.pk)
    return cetr_request


@public
@never_cache
@require_http_methods(["GET", "POST"])
def public_request(request: HttpRequest) -> HttpResponse:
    """Ask for a C(E)TR. Nothing is written until the whole form is valid. The submission token
    is issued to this session when the form is first shown."""
    if request.method != "POST":
        token = submission_token(request.session, TOKEN)
        return _form_page(request, forms.PublicCetrRequestForm(initial={"submission_token": token}))
    if not INTAKE.posts_allowed(request):
        return INTAKE.too_many(request)
    if (sent := INTAKE.resent(request)) is not None:
        return sent
    form = forms.PublicCetrRequestForm(request.POST)

    def changed(token: str) -> HttpResponse:
        # Not the token this session was given (an old tab, an expired session): show the
        # answers again with this session's token, so sending once more makes one request.
        data = request.POST.copy()
        data["submission_token"] = token
        return _form_page(request, forms.PublicCetrRequestForm(data))

    return INTAKE.submit(
        request,
        form,
        token=lambda: submission_token(request.session, TOKEN),
        send=lambda token, saved: _send(form, token, saved),
        again=lambda: _form_page(request, form),
        changed=changed,
    )


@public
@never_cache
@require_GET
def public_confirmation(request: HttpRequest) -> HttpResponse:
    """The reference only: no name, no date of birth. Shows the request this session just sent;
    without one, a page saying there is nothing to show."""
    return INTAKE.confirmation_page(request, CetrRequest.objects.all(), "reference", "received_at")


# --- Triage by the register team ---------------------------------------------------------------


@require_GET
@role_required(MANAGE)
def request_list(request: HttpRequest) -> HttpResponse:
    """Requests waiting to be triaged, oldest first, then the most recently triaged. The same
    number of queries whatever the number of requests."""
    visible = CetrRequest.objects.visible_to(request.user).only(
        "reference",
        "received_at",
        "relationship",
        "status",
        "given_name",
        "family_name",
        "person_id",
        "triaged_at",
    )
    waiting = list(
        visible.filter(status=CetrRequest.Status.RECEIVED).order_by("received_at", "id")[
            :WAITING_LIMIT
        ]
    )
    triaged = list(
        visible.exclude(status=CetrRequest.Status.RECEIVED).order_by("-triaged_at", "-id")[
            :RECENTLY_TRIAGED
        ]
    )
    access_log_people(
        user=request.user,
        people_ids=sorted({r.person_id for r in triaged if r.person_id}),
        action=AccessEvent.Action.LIST_REGISTER,
        path=request.path,
        detail={"page": "C(E)TR requests"},
    )
    context = {"waiting": waiting, "triaged": triaged, "waiting_limit": WAITING_LIMIT}
    return render(request, "reviews/requests/list.html", context)


def _is_icb(user: Any) -> bool:
    organisation = getattr(user, "organisation", None)
    return organisation is not None and organisation.kind == "icb"


@require_http_methods(["GET", "POST"])
@role_required(MANAGE)
def request_create(request: HttpRequest) -> HttpResponse:
    """Enter a request taken by phone (or by letter or email) on the requester's behalf. The
    hidden submission token makes a second post of the same page return the first request."""
    form = forms.CetrRequestForm(
        request.POST if request.method == "POST" else None,
        local_authorities=local_authorities_for(request.user),
        # Only ICB staff see requests whose area is not known yet (CetrRequest.visible_to).
        area_not_known=_is_icb(request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            cetr_request = cetr_request_submit(
                fields=form.request_fields(),
                channel=CetrRequest.Channel.STAFF,
                submission_token=form.cleaned_data["submission_token"],
                entered_by=request.user,
            )
        except RegisterError as exc:
            form.add_error(None, str(exc))
        else:
            logger.info(
                "C(E)TR request entered by staff request=%s user=%s",
                cetr_request.pk,
                request.user.pk,
            )
            messages.success(request, f"Request {cetr_request.reference} recorded.")
            return redirect(cetr_request)
    return render(request, "reviews/requests/create.html", {"form": form})


def _triage(request: HttpRequest, cetr_request: CetrRequest, data: dict[str, Any]) -> str:
    """Call the service for the decision; returns the confirmation to show."""
    if data["decision"] == forms.ARRANGE:
        cetr_request_arrange(
            request=cetr_request, person=data["person"], kind=data["kind"], by=request.user
        )
        return f"C(E)TR arranged for request {cetr_request.reference}. We have told the requester."
    cetr_request_decline(
        request=cetr_request, reason=data["reason"], person=data.get("person"), by=request.user
    )
    return f"Request {cetr_request.reference} declined. We have told the requester why."


@require_http_methods(["GET", "POST"])
@role_required(MANAGE)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The request and, while it waits, the triage form: arrange a C(E)TR for a matching person
    on the register, or decline with a reason written for the requester."""
    cetr_request = get_request_for_user(request.user, pk)
    waiting = cetr_request.status == CetrRequest.Status.RECEIVED
    form = None
    candidates: list[Person] = []
    if waiting:
        matches = request_candidates(request.user, cetr_request)
        form = forms.TriageForm(
            request.POST if request.method == "POST" else None, candidates=matches
        )
        if request.method == "POST" and form.is_valid():
            try:
                done = _triage(request, cetr_request, form.cleaned_data)
            except RegisterError as exc:
                logger.info(
                    "C(E)TR request triage refused request=%s user=%s",
                    cetr_request.pk,
                    request.user.pk,
                )
                form.add_error(None, str(exc))
            else:
                messages.success(request, done)
                return redirect("reviews:request-list")
        candidates = list(matches)
    elif request.method == "POST":
        messages.info(request, "This request has already been triaged.")
        return redirect(cetr_request)
    access_log_record(
        user=request.user,
        person=cetr_request.person,
        action=AccessEvent.Action.VIEW_PERSON,
        path=request.path,
        detail={"cetr_request": cetr_request.pk},
    )
    if candidates:
        access_log_people(
            user=request.user,
            people_ids=[p.pk for p in candidates],
            action=AccessEvent.Action.SEARCH_REGISTER,
            path=request.path,
            detail={"cetr_request": cetr_request.pk},
        )
    context = {
        "cetr_request": cetr_request,
        "form": form,
        "candidates": candidates,
        "nhs_number": format_nhs_number(cetr_request.nhs_number),
    }
    return render(request, "reviews/requests/detail.html", context)
