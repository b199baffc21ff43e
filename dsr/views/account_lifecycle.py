"""Account lifecycle pages: administrators invite people and review who has access; invitees
accept; signed-in users keep their session alive from the idle-timeout warning.

Administrators hold `manage_accounts` (ACCESS.md: "invite, deactivate and review accounts").
The DSR lead is not given the review: ACCESS.md gives account work to administrators only.
"""

import csv
import logging
from collections.abc import Iterable, Iterator

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from dsr.accounts import (
    InvitationError,
    account_review_list,
    get_invitation_by_token,
    invitation_accept,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    invitation_state_of,
    invitations_waiting,
)
from dsr.accounts.forms import AccountReviewFilterForm, InvitationForm, InvitationPasswordForm
from dsr.models import Invitation, User
from dsr.nhsuk.form_page import form_page
from dsr.roles import Role
from dsr.security.access import password_step, public, role_required
from dsr.security.spreadsheets import neutralise

logger = logging.getLogger(__name__)

MANAGE_ACCOUNTS = "dsr.manage_accounts"


def _posted(request: HttpRequest):
    """The POST data to bind a form to (even when empty, so that it shows its errors)."""
    return request.POST if request.method == "POST" else None


# --- Invitations (administrators) --------------------------------------------------------------


@require_GET
@role_required(MANAGE_ACCOUNTS)
def invitation_list(request: HttpRequest) -> HttpResponse:
    """Invitations waiting to be accepted, the expired ones marked, each with "send again" and
    "withdraw"."""
    now = timezone.now()
    rows = [
        {
            "invitation": invitation,
            "expired": invitation.is_expired(now),
            "roles": [Role(role).label for role in invitation.roles],
        }
        for invitation in invitations_waiting()
    ]
    return render(request, "dsr/invitation_list.html", {"rows": rows})


@role_required(MANAGE_ACCOUNTS)
def invitation_new(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(_posted(request))

    def act(data: dict) -> Invitation:
        return invitation_create(
            email=data["email"],
            full_name=data["full_name"],
            job_title=data["job_title"],
            organisation=data["organisation"],
            roles=data["roles"],
            by=request.user,
        )

    email = form.data.get("email", "") if form.is_bound else ""
    return form_page(
        request,
        form=form,
        title="Invite someone to use the register",
        intro=(
            "They will get an email with a link to choose a password and set up an "
            "authenticator app. The link works once, for the number of days set for the service."
        ),
        act=act,
        done=f"An invitation has been sent to {email}.",
        button="Send the invitation",
        back_url=reverse("dsr:invitation-list"),
        back_label="Invitations",
        next_url=reverse("dsr:invitation-list"),
    )


def _waiting_invitation(pk: int) -> Invitation:
    return get_object_or_404(Invitation, pk=pk, status=Invitation.Status.PENDING)


@role_required(MANAGE_ACCOUNTS)
@require_POST
def invitation_send_again(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _waiting_invitation(pk)
    try:
        invitation = invitation_resend(invitation=invitation, by=request.user)
    except InvitationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"The invitation to {invitation.email} has been sent again. The earlier link no "
            "longer works.",
        )
    return redirect("dsr:invitation-list")


@role_required(MANAGE_ACCOUNTS)
def invitation_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _waiting_invitation(pk)
    return form_page(
        request,
        form=forms.Form(_posted(request)),
        title=f"Withdraw the invitation to {invitation.full_name}",
        intro=(
            f"The link sent to {invitation.email} will stop working. You can invite them again "
            "later."
        ),
        act=lambda _: invitation_revoke(invitation=invitation, by=request.user),
        done=f"The invitation to {invitation.email} has been withdrawn.",
        button="Withdraw the invitation",
        back_url=reverse("dsr:invitation-list"),
        back_label="Invitations",
    )


# --- Accepting an invitation (the invitee, not yet signed in) ----------------------------------

_CLOSED_STATUS = {"expired": 410, "accepted": 410, "revoked": 410}


@public
@sensitive_post_parameters("new_password1", "new_password2")
def invitation_respond(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the invitation email: choose a password, then set up the authenticator app.

    An unknown link answers 404; a used, withdrawn or expired one 410, each with a page saying
    what to do. Signing in here is the password step only: the set-up page comes next, and no
    other page opens before the second factor is verified.
    """
    invitation = get_invitation_by_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_closed.html", {"state": "unknown"}, status=404)
    state = invitation.state(timezone.now())
    if state != Invitation.Status.PENDING:
        return _closed(request, state)

    account = User(email=invitation.email, full_name=invitation.full_name)
    form = InvitationPasswordForm(account, _posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(
                invitation=invitation, password=form.cleaned_data["new_password1"]
            )
        except InvitationError as exc:
            invitation.refresh_from_db()
            state = invitation.state(timezone.now())
            if state != Invitation.Status.PENDING:
                return _closed(request, state)
            form.add_error(None, str(exc))
        else:
            login(request, user, backend="dsr.security.signed_in.KeptUserBackend")
            messages.success(request, "Your password is saved. Now set up your authenticator app.")
            next_query = f"?next={reverse('dsr:home')}"
            return redirect(reverse("accounts:setup") + next_query)
    context = {
        "form": form,
        "invitation": invitation,
        "roles": [Role(role).label for role in invitation.roles],
    }
    return render(request, "accounts/invitation_accept.html", context)


def _closed(request: HttpRequest, state: str) -> HttpResponse:
    return render(
        request, "accounts/invitation_closed.html", {"state": state}, status=_CLOSED_STATUS[state]
    )


# --- Staying signed in -------------------------------------------------------------------------


@require_POST
@password_step
def session_extend(request: HttpRequest) -> HttpResponse:
    """The warning's "Stay signed in": the session's idle clock starts again.
    204, no body. The absolute lifetime still applies
    (dsr.security.middleware.SessionLifetimeMiddleware).
    Signed out, the access rule answers with the sign-in page instead."""
    request.session.modified = True
    return HttpResponse(status=204)


# --- The access review (administrators) --------------------------------------------------------


def _review_filters(request: HttpRequest) -> tuple[AccountReviewFilterForm, dict | None]:
    form = AccountReviewFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, {
        "role": form.cleaned_data["role"],
        "organisation": form.cleaned_data["organisation"],
    }


def _review_row(user: User) -> dict:
    return {
        "user": user,
        "organisation": user.organisation.name if user.organisation else "None",
        "roles": [role.label for role in user.roles],
        "last_login": user.last_login,
        "second_factor": user.has_second_factor,
        "invitation": invitation_state_of(user),
    }


@require_GET
@role_required(MANAGE_ACCOUNTS)
def account_review(request: HttpRequest) -> HttpResponse:
    """Every active account, filterable by role and organisation, with a CSV of the same rows.
    A fixed number of queries whatever the number of accounts."""
    form, filters = _review_filters(request)
    rows = []
    csv_url = ""
    if filters is not None:
        rows = [_review_row(user) for user in account_review_list(**filters)]
        query = request.GET.urlencode()
        csv_url = reverse("dsr:account-review-csv") + (f"?{query}" if query else "")
    context = {"form": form, "rows": rows, "valid": filters is not None, "csv_url": csv_url}
    return render(request, "dsr/account_review.html", context)


CSV_HEADER = [
    "Name",
    "Email address",
    "Organisation",
    "Roles",
    "Last signed in",
    "Authenticator app set up",
    "Invitation",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so that Excel reads the file as UTF-8
    yield writer.writerow(CSV_HEADER)
    for row in rows:
        user = row["user"]
        last = timezone.localtime(user.last_login).isoformat() if user.last_login else "Never"
        cells = [
            user.full_name,
            user.email,
            row["organisation"],
            "; ".join(row["roles"]),
            last,
            "Yes" if row["second_factor"] else "No",
            row["invitation"],
        ]
        yield writer.writerow([neutralise(cell) for cell in cells])


@require_GET
@role_required(MANAGE_ACCOUNTS)
def account_review_csv(request: HttpRequest) -> HttpResponse:
    """The review's rows for the same filters as a CSV; invalid filters answer 400."""
    _, filters = _review_filters(request)
    if filters is None:
        return HttpResponseBadRequest(
            "The filters are not valid. Go back to the access review and check them.",
            content_type="text/plain; charset=utf-8",
        )
    rows = [_review_row(user) for user in account_review_list(**filters)]
    logger.info("access review downloaded user=%s rows=%s", request.user.pk, len(rows))
    response = HttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    today = timezone.localdate()
    response["Content-Disposition"] = f'attachment; filename="dsr-accounts-{today:%Y-%m-%d}.csv"'
    return response
