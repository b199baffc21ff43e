"""The moves of a referral's review, for staff: start the review, ask for more information,
record the review with education and social care, assign, set the area, decide, and who is told."""

import logging
from collections.abc import Callable
from typing import Any

from django.db.models.query import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods

from dsr.forms import ConfirmForm
from dsr.nhsuk.edits import EditGuard
from dsr.nhsuk.form_page import form_page
from dsr.queries import local_authorities_for
from dsr.security.access import role_required
from referrals import queries, services
from referrals.forms.staff_review import (
    AreaForm,
    AssignForm,
    DecisionForm,
    RecipientAddForm,
    RecipientChangeForm,
    RequestInformationForm,
    ReviewForm,
)
from referrals.models import Referral, ReferralContact
from referrals.queries import get_referral_for_user
from referrals.recipients import outcome_messages, outcome_recipients
from referrals.views.staff import MANAGE, posted

logger = logging.getLogger(__name__)


def _referral_action(
    request: HttpRequest,
    referral: Referral,
    *,
    form: Any,
    title: str,
    button: str,
    done: str,
    act: Callable[[dict[str, Any]], Any],
    intro: str = "",
    extra: dict[str, Any] | None = None,
    guard: EditGuard | None = None,
) -> HttpResponse:
    """A referral's action page: the shared single-form page (dsr.nhsuk.form_page), back to
    the referral with a confirmation, in the referral's own layout."""
    return form_page(
        request,
        form=form,
        title=title,
        act=act,
        done=done,
        back_url=referral.get_absolute_url(),
        back_label=f"Back to referral {referral.reference}",
        intro=intro,
        button=button,
        extra={"referral": referral, **(extra or {})},
        template="referrals/staff_action.html",
        guard=guard,
    )


@require_http_methods(["GET", "POST"])
@role_required(MANAGE)
def start_review(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk)
    return _referral_action(
        request,
        referral,
        form=ConfirmForm(posted(request)),
        title="Start the review",
        button="Start the review",
        done="Review started.",
        intro="The referral moves to 'under review'.",
        act=lambda d: services.referral_start_review(referral, by=request.user),
    )


@require_http_methods(["GET", "POST"])
@role_required(MANAGE)
def request_information(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk)
    return _referral_action(
        request,
        referral,
        form=RequestInformationForm(posted(request)),
        title="Ask for more information",
        button="Record the request",
        done="Request for more information recorded.",
        intro="The four-week clock keeps running while you wait: the decision is still due by "
        f"{date_format(referral.decision_due, 'j F Y')}.",
        act=lambda d: services.referral_request_information(
            referral, request=d["request"], by=request.user
        ),
    )


@require_http_methods(["GET", "POST"])
@role_required(MANAGE)
def record_review(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk)
    initial = {
        "held_on": referral.review_held_on or timezone.localdate(),
        "education_participant": referral.education_participant,
        "education_absent_reason": referral.education_absent_reason,
        "social_care_participant": referral.social_care_participant,
        "social_care_absent_reason": referral.social_care_absent_reason,
        "notes": referral.review_notes,
    }
    return _referral_action(
        request,
        referral,
        form=ReviewForm(posted(request), initial=initial),
        title="Record the review with education and social care",
        button="Save the review",
        done="Review recorded.",
        intro="Name who took part from education and from social care, or say why nobody "
        "could. A decision to add someone to the register, or that they are not eligible, "
        "needs this review first.",
        act=lambda d: services.referral_record_review(referral, by=request.user, **d),
        guard=EditGuard(
            referral,
            writes=lambda d: {
                "review_held_on": d["held_on"],
                "education_participant": d["education_participant"],
                "education_absent_reason": d["education_absent_reason"],
                "social_care_participant": d["social_care_participant"],
                "social_care_absent_reason": d["social_care_absent_reason"],
                "review_notes": d["notes"],
            },
        ),
    )


@require_http_methods(["GET", "POST"])
@role_required(MANAGE)
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk)
    form = AssignForm(
        posted(request),
        reviewers=queries.reviewers_for(request.user),
        initial={"reviewer": referral.assigned_to_id},
    )
    return _referral_action(
        request,
        referral,
        form=form,
        title="Choose a reviewer",
        button="Save",
        done="Reviewer saved.",
        intro="Choose someone in your organisation who reviews referrals.",
        act=lambda d: services.referral_assign(referral, to=d["reviewer"], by=request.user),
        guard=EditGuard(referral, writes=lambda d: {"assigned_to": d["reviewer"]}),
    )


@require_http_methods(["GET", "POST"])
@role_required(MANAGE)
def set_area(request: HttpRequest, pk: int) -> HttpResponse:
    """Say which local authority the person lives in, when the referrer did not know."""
    referral = get_referral_for_user(request.user, pk)
    form = AreaForm(
        posted(request),
        local_authorities=local_authorities_for(request.user),
        initial={"local_authority": referral.local_authority_id},
    )
    return _referral_action(
        request,
        referral,
        form=form,
        title="Which local authority does the person live in?",
        button="Save",
        done="Local authority saved.",
        intro="It decides which teams and senior managers can see this referral.",
        act=lambda d: services.referral_set_area(
            referral, local_authority=d["local_authority"], by=request.user
        ),
        guard=EditGuard(referral, writes=lambda d: {"local_authority": d["local_authority"]}),
    )


@require_http_methods(["GET", "POST"])
@role_required(MANAGE)
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the decision. Everyone the rule names is owed the outcome: the service writes
    one outbox message each, in the same transaction, or nothing at all."""
    referral = get_referral_for_user(request.user, pk)
    prefetch_related_objects([referral], "contacts")
    who_gets_what = _who_gets_what(referral)
    form = DecisionForm(
        posted(request),
        best_interests=referral.consent_basis == Referral.ConsentBasis.BEST_INTERESTS,
        first_name=referral.given_name,
        to_the_person=any(r.is_person for r in who_gets_what["recipients"]),
    )
    return _referral_action(
        request,
        referral,
        form=form,
        title="Record the decision",
        button="Record the decision and tell everyone",
        done="Decision recorded. The outcome messages are waiting to be sent.",
        intro="Adding someone to the register or deciding they are not eligible needs the "
        "review with education and social care first.",
        extra=who_gets_what,
        act=lambda d: services.referral_decide(
            referral, by=request.user, **form.service_arguments()
        ),
    )


def _who_gets_what(referral: Referral) -> dict[str, Any]:
    """For the decision page: the messages each decision would send, to whom and how, and who
    the rule names but cannot be reached."""
    recipients = outcome_recipients(referral)
    reachable = [r for r in recipients if r.reachable]
    return {
        "recipients": recipients,
        "unreachable": [r for r in recipients if not r.reachable],
        "can_post": any(r.can_post for r in reachable),
        "plans": [
            (Referral.Status(decision).label, decision, outcome_messages(reachable, decision))
            for decision in Referral.DECISIONS
        ],
    }


@require_http_methods(["GET", "POST"])
@role_required(MANAGE)
def recipient_add(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk)
    return _referral_action(
        request,
        referral,
        form=RecipientAddForm(posted(request)),
        title="Add someone to tell the outcome",
        button="Add",
        done="They will be told the outcome.",
        act=lambda d: services.referral_contact_add(referral, by=request.user, **d),
    )


@require_http_methods(["GET", "POST"])
@role_required(MANAGE)
def recipient_change(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk)
    try:
        contact = queries.get_contact_for_referral(referral, contact_pk)
    except ReferralContact.DoesNotExist as exc:
        raise Http404 from exc
    return _referral_action(
        request,
        referral,
        form=RecipientChangeForm(posted(request)),
        title=f"Change whether {contact.name} is told the outcome",
        button="Save",
        done="Outcome list saved.",
        intro="The rule decides who is told. Change it for this person only with a reason.",
        act=lambda d: services.referral_contact_override(
            contact, include=d["include"], reason=d["reason"], by=request.user
        ),
        guard=EditGuard(
            contact,
            writes=lambda d: {
                "override": "include" if d["include"] else "exclude",
                "override_reason": d["reason"],
            },
        ),
    )
