"""Writes for referrals: submit, move through the review, decide, and owe everyone the outcome.

Rules enforced here (DOMAIN.md 3 to 5; rules 1 to 3): a decision is due 28 days after receipt
and the clock never pauses; a decision to add or turn down follows a review with education and
social care; every decision, "not eligible" included, writes one outcome message per recipient
into the outbox in the same transaction; a second live referral for the same person is linked
to the first; the same submission sent twice makes one referral.
"""

import logging
import secrets
import uuid
from datetime import date, datetime
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from dsr import services as register
from dsr.deadlines import decision_due_for
from dsr.history import set_change_reason
from dsr.models import RAG, Person, RegisterEntry, User
from dsr.queries import responsible_icb_for, same_person
from referrals.models import (
    Referral,
    ReferralAttachment,
    ReferralContact,
    ReferralTransition,
)
from referrals.notifications import notify_referral_outcome
from referrals.recipients import reachable_recipients

logger = logging.getLogger(__name__)

RegisterError = register.RegisterError


class InvalidTransition(RegisterError):
    """The transition table does not allow this move."""


# --- Submission --------------------------------------------------------------------------------


def _new_reference(year: int) -> str:
    # Random, not sequential: a reference must not give away how many referrals there are or
    # let anyone guess another. Uniqueness is the database's job (the save retries).
    return f"DSR-{year}-{secrets.randbelow(900_000) + 100_000}"


def _live_match(fields: dict[str, Any]) -> Referral | None:
    """The first live referral for the same person (DOMAIN 3: one person, one live referral)."""
    same = same_person(
        nhs_number=fields.get("nhs_number") or "",
        given_name=fields["given_name"],
        family_name=fields["family_name"],
        date_of_birth=fields["date_of_birth"],
    )
    return (
        Referral.objects.live()
        .filter(same, duplicate_of__isnull=True)
        .order_by("received_at", "id")
        .first()
    )


def referral_submit(
    *,
    fields: dict[str, Any],
    contacts: list[dict[str, Any]],
    source: str,
    referrer_kind: str,
    submission_token: uuid.UUID,
    attachments: list[UploadedFile] | None = None,
    submitted_by: User | None = None,
    entered_by: User | None = None,
    received_at: datetime | None = None,
) -> Referral:
    """Save a referral with its contacts and attachments, all or nothing.

    The same `submission_token` twice (a double click, a resubmitted page, two requests at
    once) returns the first referral and writes nothing more. A referral for someone who already
    has a live one is saved and linked to it (`duplicate_of`), so nothing entered is lost.
    """
    existing = Referral.objects.filter(submission_token=submission_token).first()
    if existing is not None:
        return existing
    received_at = received_at or timezone.now()
    for _ in range(5):
        saved_files: list[str] = []
        try:
            with transaction.atomic():
                referral = Referral(
                    **fields,
                    reference=_new_reference(timezone.localdate(received_at).year),
                    submission_token=submission_token,
                    source=source,
                    referrer_kind=referrer_kind,
                    received_at=received_at,
                    decision_due=decision_due_for(received_at),
                    submitted_by=submitted_by,
                    entered_by=entered_by,
                    duplicate_of=_live_match(fields),
                )
                set_change_reason(referral, "Referral received", by=entered_by or submitted_by)
                referral.save()
                ReferralTransition.objects.create(
                    referral=referral,
                    from_status="",
                    to_status=Referral.Status.RECEIVED,
                    by=entered_by or submitted_by,
                    reason=f"Received: {referral.get_source_display().lower()}",
                )
                for fields in contacts:
                    contact = ReferralContact(referral=referral, **fields)
                    set_change_reason(contact, "Referral received", by=entered_by or submitted_by)
                    contact.save()
                for upload in attachments or []:
                    saved_files.append(_attach(referral, upload).file.name)
        except IntegrityError as exc:
            for name in saved_files:  # the rows rolled back: their files go too
                default_storage.delete(name)
            existing = Referral.objects.filter(submission_token=submission_token).first()
            if existing is not None:
                return existing
            if "reference" not in str(exc):
                logger.warning("referral refused by a database rule: %s", type(exc).__name__)
                raise RegisterError(
                    "The referral could not be saved: check every contact has a way to reach "
                    "them, then send it again."
                ) from exc
            continue  # the random reference was taken: draw another
        logger.info("referral received referral=%s source=%s", referral.pk, source)
        return referral
    raise RuntimeError("Could not allocate a referral reference after 5 attempts.")


def _attach(referral: Referral, upload: UploadedFile) -> ReferralAttachment:
    attachment = ReferralAttachment(
        referral=referral,
        stored_name=uuid.uuid4().hex,
        original_name=(upload.name or "attachment")[:200],
        content_type=getattr(upload, "checked_content_type", "") or upload.content_type or "",
        size=upload.size or 0,
    )
    attachment.file.save(attachment.stored_name, upload, save=False)
    attachment.save()
    return attachment


# --- The transition table --------------------------------------------------------------------


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


@transaction.atomic
def referral_start_review(referral: Referral, *, by: User) -> Referral:
    return referral_transition(referral, to=Referral.Status.UNDER_REVIEW, by=by)


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


# --- The decision ------------------------------------------------------------------------------


OUTCOME_NEXT_STEPS = {
    Referral.Status.ADDED: (
        "The person is now on the dynamic support register. A member of the DSR team will "
        "contact them to explain what this means and to arrange their first review with the "
        "people who support them."
    ),
    Referral.Status.NOT_ELIGIBLE: (
        "The person is not being added to the register. You can ask us to look again if "
        "things change, and you can get help from the services listed below."
    ),
    Referral.Status.WITHDRAWN: (
        "The referral has been withdrawn, so we will take no further action. You can refer "
        "again at any time."
    ),
}


def _register_person(referral: Referral, by: User) -> Person:
    """The register's Person for this referral: the one already linked, or matched by NHS
    number, or name and date of birth, or a new one made from the referral."""
    if referral.person_id:
        return referral.person
    match = (
        Person.objects.visible_to(by)
        .filter(
            same_person(
                nhs_number=referral.nhs_number,
                given_name=referral.given_name,
                family_name=referral.family_name,
                date_of_birth=referral.date_of_birth,
            )
        )
        .order_by("id")
        .first()
    )
    if match is not None:
        return match
    if referral.local_authority is None:
        raise RegisterError("Set the local authority the person lives in before deciding.")
    icb = responsible_icb_for(referral.local_authority)
    if icb is None:
        raise RegisterError("No ICB covers the person's local authority.")
    return register.person_create(
        by=by,
        given_name=referral.given_name,
        family_name=referral.family_name,
        date_of_birth=referral.date_of_birth,
        nhs_number=referral.nhs_number or None,
        address=referral.address,
        postcode=referral.postcode,
        local_authority=referral.local_authority,
        responsible_icb=icb,
        gp_practice_name=referral.gp_practice_name,
        diagnosis=referral.diagnosis,
        diagnosis_status=referral.diagnosis_status,
        co_occurring=referral.co_occurring,
        communication_needs=referral.communication_needs,
        accessible_formats=referral.accessible_formats,
        interpreter_language=referral.interpreter_language,
        has_ehcp=referral.has_ehcp == Referral.YesNoUnsure.YES,
        education_setting=referral.education_setting,
    )


def _add_to_register(
    referral: Referral,
    *,
    rating: str,
    rationale: str,
    by: User,
    decision_maker: str = "",
    capacity_assessed_on: date | None = None,
) -> Person:
    """Open (or update) the register entry through the register's own services (rule 1). A
    best-interests consent needs its decision maker and the date capacity was assessed, which
    the decision supplies (the referral form does not ask the public for them)."""
    if not referral.consent_to_referral:
        raise RegisterError("Nobody goes on the register without consent: the referral has none.")
    if rating not in (RAG.RED, RAG.AMBER, RAG.GREEN):
        raise RegisterError("Choose red, amber or green. Blue follows an admission.")
    person = _register_person(referral, by)
    if not person.consents.filter(ended_on__isnull=True).exists():
        register.consent_record(
            person=person,
            basis=referral.consent_basis,
            given_on=timezone.localdate(referral.received_at),
            given_by=referral.consent_given_by,
            decision_maker=decision_maker,
            capacity_assessed_on=capacity_assessed_on,
            notes=f"Consent given with referral {referral.reference}.",
            by=by,
        )
    entry = RegisterEntry.objects.filter(person=person, status=RegisterEntry.Status.OPEN).first()
    reason = f"{rationale} (referral {referral.reference})"
    risk_factors = referral.risk_factors
    if entry is None:
        register.register_open(
            person=person, rating=rating, rationale=reason, risk_factors=risk_factors, by=by
        )
    else:
        register.rating_change(
            entry=entry, rating=rating, rationale=reason, risk_factors=risk_factors, by=by
        )
    return person


def _apply_decision(
    referral: Referral,
    decision: str,
    *,
    by: User,
    reason: str,
    signposting: str,
    rating: str,
    rationale: str,
    decision_maker: str = "",
    capacity_assessed_on: date | None = None,
) -> None:
    """Check what each decision needs and copy it onto the referral (not yet saved)."""
    if decision == Referral.Status.ADDED:
        if not rationale.strip():
            raise RegisterError("Give the reason for the rating.")
        referral.person = _add_to_register(
            referral,
            rating=rating,
            rationale=rationale,
            by=by,
            decision_maker=decision_maker,
            capacity_assessed_on=capacity_assessed_on,
        )
        referral.initial_rating = rating
    elif decision == Referral.Status.NOT_ELIGIBLE:
        if not (reason.strip() and signposting.strip()):
            raise RegisterError("Give the reason and where else the person can get help.")
        referral.ineligible_reason = reason
        referral.signposting = signposting
    else:
        if not reason.strip():
            raise RegisterError("Give the reason the referral was withdrawn.")
        referral.withdrawn_reason = reason


DECISION_FIELDS = [
    "review_held_on",
    "education_participant",
    "education_absent_reason",
    "social_care_participant",
    "social_care_absent_reason",
    "person",
    "initial_rating",
    "ineligible_reason",
    "signposting",
    "withdrawn_reason",
    "next_steps",
    "decided_at",
    "decided_by",
]


def _decide_linked(referral: Referral, *, by: User) -> None:
    """Live referrals linked to this one as duplicates take its decision, and everyone each of
    them names is told the outcome too: a second referral never waits unanswered."""
    for duplicate in Referral.objects.select_for_update().filter(
        duplicate_of=referral, status__in=Referral.LIVE
    ):
        for name in DECISION_FIELDS:
            setattr(duplicate, name, getattr(referral, name))
        set_change_reason(duplicate, f"Decided with {referral.reference}", by=by)
        duplicate.save()
        duplicate = referral_transition(
            duplicate,
            to=referral.status,
            by=by,
            reason=f"Decided with referral {referral.reference}, the first for this person.",
        )
        notify_referral_outcome(duplicate, reachable_recipients(duplicate))


@transaction.atomic
def referral_decide(
    referral: Referral,
    *,
    decision: str,
    by: User,
    next_steps: str = "",
    reason: str = "",
    signposting: str = "",
    rating: str = "",
    rationale: str = "",
    decision_maker: str = "",
    capacity_assessed_on: date | None = None,
) -> Referral:
    """Decide a referral and owe everyone the outcome, all in one transaction.

    - added: the person is put on (or re-rated on) the register through the register's
      services, with the referral's consent basis; needs a rating and its rationale;
    - not eligible: needs the reason and where else to get help;
    - withdrawn: needs the reason.
    Added and not eligible need the review with education and social care first. One outbox
    row per recipient of the DOMAIN 5 rule; raises RegisterError (or InvalidTransition) and
    writes nothing when a rule refuses.
    """
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if decision not in Referral.DECISIONS:
        raise RegisterError("Choose a decision.")
    if not referral.can_transition(decision):
        raise InvalidTransition("This referral has already been decided.")
    if decision != Referral.Status.WITHDRAWN and referral.review_held_on is None:
        raise RegisterError("Record the review with education and social care first.")
    _apply_decision(
        referral,
        decision,
        by=by,
        reason=reason,
        signposting=signposting,
        rating=rating,
        rationale=rationale,
        decision_maker=decision_maker,
        capacity_assessed_on=capacity_assessed_on,
    )
    referral.next_steps = next_steps.strip() or OUTCOME_NEXT_STEPS[decision]
    referral.decided_at = timezone.now()
    referral.decided_by = by
    set_change_reason(referral, f"Decided: {decision}", by=by)
    referral.save()
    referral = referral_transition(referral, to=decision, by=by, reason=reason or rationale)
    notify_referral_outcome(referral, reachable_recipients(referral))
    _decide_linked(referral, by=by)
    logger.info("referral decided referral=%s decision=%s by=%s", referral.pk, decision, by.pk)
    return referral


# --- The four-week deadline sweep (STYLE point 6) -------------------------------------------
