"""Issuing and withdrawing the read feed's tokens: administrators only (ACCESS.md).

A token is shown once, on the page that issues it, and only its digest is kept. Withdrawing
it refuses its next call at once. Each token's history (who issued and withdrew it) is kept with
django-simple-history, and its calls in `ApiCall`.
"""

import logging
from datetime import timedelta

from django import forms
from django.db import transaction
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from dsr.history import set_change_reason
from dsr.models import Organisation, User
from dsr.nhsuk.form_page import form_page
from dsr.nhsuk.forms import choose_from_list
from dsr.security.access import role_required
from reports.api.auth import new_token
from reports.models import ApiToken

logger = logging.getLogger(__name__)

MANAGE_ACCOUNTS = "dsr.manage_accounts"
LIFETIMES = [("90", "3 months"), ("182", "6 months"), ("365", "1 year")]


def token_issue(
    *, name: str, organisation: Organisation, days: int, by: User
) -> tuple[ApiToken, str]:
    """A new token for `organisation`'s figures, usable for `days`, and the token itself (to
    show once)."""
    secret, prefix, digest = new_token()
    now = timezone.now()
    token = ApiToken(
        name=name,
        organisation=organisation,
        prefix=prefix,
        digest=digest,
        issued_by=by,
        issued_at=now,
        expires_at=now + timedelta(days=days),
    )
    set_change_reason(token, "Token issued", by=by)
    token.save()
    logger.info("api token issued token=%s by=%s", token.pk, by.pk)
    return token, secret


def token_withdraw(*, token: ApiToken, by: User) -> ApiToken:
    """Stop the token working, from its next call. Withdrawing twice changes nothing."""
    with transaction.atomic():
        current = ApiToken.objects.select_for_update().get(pk=token.pk)
        if current.withdrawn_at is not None:
            return current
        current.withdrawn_at = timezone.now()
        current.withdrawn_by = by
        set_change_reason(current, "Token withdrawn", by=by)
        current.save(update_fields=["withdrawn_at", "withdrawn_by"])
    logger.info("api token withdrawn token=%s by=%s", current.pk, by.pk)
    return current


class TokenForm(forms.Form):
    name = forms.CharField(
        label="What the token is for",
        max_length=100,
        help_text="For example, Power BI dashboard for the commissioning team.",
        error_messages={"required": "Enter what the token is for."},
    )
    organisation = forms.ModelChoiceField(
        label="Whose figures it reads",
        queryset=Organisation.objects.order_by("name"),
        empty_label="Select an organisation",
        help_text="It reads the figures of the areas this organisation covers, as its planning "
        "commissioners see them.",
        error_messages={
            "required": "Select the organisation whose figures the token reads.",
            **choose_from_list("an organisation"),
        },
    )
    lifetime = forms.ChoiceField(
        label="How long it works",
        choices=LIFETIMES,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select how long the token works.",
            **choose_from_list("how long the token works"),
        },
    )


@require_GET
@role_required(MANAGE_ACCOUNTS)
def token_list(request: HttpRequest) -> HttpResponse:
    """Every token, newest first, with its organisation, status and last call."""
    tokens = (
        ApiToken.objects.select_related("organisation", "issued_by", "withdrawn_by")
        .annotate(last_call=Max("calls__at"), call_count=Count("calls"))
        .order_by("-issued_at", "-id")
    )
    return render(request, "reports/api/token_list.html", {"tokens": tokens})


@role_required(MANAGE_ACCOUNTS)
def token_new(request: HttpRequest) -> HttpResponse:
    """The form; once it is valid, the page showing the new token, once."""
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        token, secret = token_issue(
            name=data["name"],
            organisation=data["organisation"],
            days=int(data["lifetime"]),
            by=request.user,
        )
        return render(request, "reports/api/token_issued.html", {"token": token, "secret": secret})
    context = {
        "form": form,
        "title": "Issue a token for a BI tool",
        "intro": (
            "A BI tool (Power BI, Tableau, Excel) with the token can read the published report "
            "figures of one organisation's areas, never anything about a person. The token is "
            "shown once."
        ),
        "button": "Issue the token",
        "back_url": reverse("reports:api-tokens"),
        "back_label": "Tokens for BI tools",
    }
    return render(request, "form_page.html", context)


@role_required(MANAGE_ACCOUNTS)
def token_withdraw_page(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, withdrawn_at__isnull=True)
    return form_page(
        request,
        form=forms.Form(request.POST if request.method == "POST" else None),
        title=f"Withdraw the token {token.name}",
        intro="Its next call will be refused. A BI tool using it stops getting figures.",
        act=lambda _: token_withdraw(token=token, by=request.user),
        done=f"The token {token.name} has been withdrawn.",
        button="Withdraw the token",
        back_url=reverse("reports:api-tokens"),
        back_label="Tokens for BI tools",
    )
