"""A referral through its review: the transition table, assignment, area, the review with
education and social care, and who is told."""

import logging
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import User
from referrals.models import (
    Referral,
    ReferralContact,
    ReferralTransition,
)

logger = logging.getLogger(__name__)


class InvalidTransition(RegisterError):
    """The transition table does not allow this move."""


def referral_transition(referral: Referral, *, to: str, by: User, reason: str = "") -> Referral:
    """Move a referral to `to` if the table allows it: lock the row, return unchanged if it is
    already there, raise InvalidTransition otherwise, and write the transition row. Callers
    hold a transaction."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.status == to:
        return referral
    if not referral.can_transition(to):
        raise InvalidTransition(
            f"A referral that is {referral.get_status_display().lower()} cannot be moved to "
            f"{Referral.Status(to).label.lower()}."
        )
    previous = referral.status
    referral.status = to
    set_change_reason(referral, f"Status: {to}", by=by)
    referral.save()
    ReferralTransition.objects.create(
        referral=referral, from_status=previous, to_status=to, by=by, reason=reason
    )
    return referral


def _take_on(referral: Referral, by: User) -> bool:
    """Whoever starts or records the review of a referral nobody was given becomes its
    reviewer, so the queue and the page name who has it (on a locked row; the caller saves)."""
    if referral.assigned_to_id is not None or not by.has_perm("dsr.manage_referrals"):
        return False
    referral.assigned_to = by
    return True


@transaction.atomic
def referral_start_review(referral: Referral, *, by: User) -> Referral:
    referral = referral_transition(referral, to=Referral.Status.UNDER_REVIEW, by=by)
    if _take_on(referral, by):
        set_change_reason(referral, "Reviewer assigned", by=by)
        referral.save(update_fields=["assigned_to"])
    return referral


@transaction.atomic
def referral_request_information(referral: Referral, *, request: str, by: User) -> Referral:
    """Record what more is needed. The four-week clock keeps running (DOMAIN 4)."""
    if not request.strip():
        raise RegisterError("Say what information is needed.")
    # The request first, then the move: a referral waiting for information always says what
    # it waits for (a database constraint).
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    referral.more_info_request = request
    set_change_reason(referral, "More information requested", by=by)
    referral.save(update_fields=["more_info_request"])
    return referral_transition(referral, to=Referral.Status.MORE_INFO, by=by, reason=request)


@transaction.atomic
def referral_assign(referral: Referral, *, to: User | None, by: User) -> Referral:
    """Give the referral a reviewer from the team that handles referrals (or none)."""
    if to is not None and not (to.is_active and to.has_perm("dsr.manage_referrals")):
        raise RegisterError("Choose someone who reviews referrals.")
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    referral.assigned_to = to
    set_change_reason(referral, "Reviewer assigned", by=by)
    referral.save(update_fields=["assigned_to"])
    return referral


@transaction.atomic
def referral_set_area(referral: Referral, *, local_authority: Any, by: User) -> Referral:
    """Record the local authority the person lives in (the referrer may not have known)."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if not referral.is_live:
        raise RegisterError("This referral has been decided.")
    referral.local_authority = local_authority
    set_change_reason(referral, "Local authority set", by=by)
    referral.save(update_fields=["local_authority"])
    return referral


@transaction.atomic
def referral_record_review(
    referral: Referral,
    *,
    held_on: date,
    by: User,
    education_participant: str = "",
    education_absent_reason: str = "",
    social_care_participant: str = "",
    social_care_absent_reason: str = "",
    notes: str = "",
) -> Referral:
    """Record the review with education and social care: who took part from each, or why they
    could not (DOMAIN 4)."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if not referral.is_live:
        raise RegisterError("This referral has been decided.")
    if held_on > timezone.localdate() or held_on < timezone.localdate(referral.received_at):
        raise RegisterError("The review date must be between the date received and today.")
    for agency, who, why in (
        ("education", education_participant, education_absent_reason),
        ("social care", social_care_participant, social_care_absent_reason),
    ):
        if not who.strip() and not why.strip():
            raise RegisterError(f"Name who took part from {agency}, or say why nobody could.")
    referral.review_held_on = held_on
    referral.education_participant = education_participant
    referral.education_absent_reason = education_absent_reason
    referral.social_care_participant = social_care_participant
    referral.social_care_absent_reason = social_care_absent_reason
    referral.review_notes = notes
    _take_on(referral, by)
    set_change_reason(referral, "Review recorded", by=by)
    referral.save()
    if referral.status == Referral.Status.RECEIVED:
        referral = referral_transition(referral, to=Referral.Status.UNDER_REVIEW, by=by)
    return referral


@transaction.atomic
def referral_contact_override(
    contact: ReferralContact, *, include: bool, reason: str, by: User
) -> ReferralContact:
    """Staff add someone to, or take someone off, the outcome list, with a reason."""
    if not reason.strip():
        raise RegisterError("Give the reason for changing who is told.")
    if not contact.referral.is_live:
        raise RegisterError("The outcome has already been sent.")
    contact.override = "include" if include else "exclude"
    contact.override_reason = reason
    set_change_reason(contact, "Outcome list changed", by=by)
    contact.save()
    return contact


@transaction.atomic
def referral_contact_add(
    referral: Referral, *, reason: str, by: User, **fields: Any
) -> ReferralContact:
    """Add someone to be told the outcome who was not on the referral."""
    if not referral.is_live:
        raise RegisterError("The outcome has already been sent.")
    if not reason.strip():
        raise RegisterError("Give the reason for telling this person.")
    if not (fields.get("email") or fields.get("address")):
        raise RegisterError("Give an email address or a postal address.")
    contact = ReferralContact(
        referral=referral,
        role=ReferralContact.Role.OTHER,
        override="include",
        override_reason=reason,
        added_by=by,
        **fields,
    )
    set_change_reason(contact, "Added to the outcome list", by=by)
    contact.save()
    return contact
