"""The decision: added to the register, not eligible or withdrawn, and the outcome owed to
everyone the rule names, linked referrals decided with it."""

import logging
from datetime import date

from django.db import transaction
from django.utils import timezone

from dsr import services as register
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import RAG, Person, PersonContact, RegisterEntry, User
from dsr.queries import responsible_icb_for, same_person
from referrals.models import (
    Referral,
    ReferralContact,
)
from referrals.notifications import OUTCOME_NEXT_STEPS, notify_referral_outcome
from referrals.recipients import Recipient, not_told_yet, reachable_recipients, reached_at
from referrals.services.review import InvalidTransition, referral_transition

logger = logging.getLogger(__name__)


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


# Who a referral names becomes, on the register: the person themselves is not a contact.
CONTACT_ROLES = {
    ReferralContact.Role.PARENT_CARER: PersonContact.Role.PARENT_CARER,
    ReferralContact.Role.REPRESENTATIVE: PersonContact.Role.REPRESENTATIVE,
    ReferralContact.Role.OTHER: PersonContact.Role.OTHER,
}
# And who referred: a professional as the referrer, a family member as a parent or carer
# (as the public form records them); someone referring themselves is the person.
REFERRER_ROLES = {
    Referral.ReferrerKind.PROFESSIONAL: PersonContact.Role.REFERRER,
    Referral.ReferrerKind.FAMILY: PersonContact.Role.PARENT_CARER,
}


def _keep_contacts(referral: Referral, person: Person, *, by: User) -> None:
    """What the referral (and each live referral linked to it as a duplicate, decided with it)
    knew about the people around the person becomes the person's contacts: its family and
    carers, then its referrer. Nobody the person already has is added again, so a family
    referrer the referral also names as a contact is kept once, as the contact (with their
    parental responsibility)."""
    referrals = [
        referral,
        *Referral.objects.filter(duplicate_of=referral, status__in=Referral.LIVE).order_by("id"),
    ]
    contacts = [
        PersonContact(
            role=CONTACT_ROLES[named.role],
            name=named.name,
            relationship=named.relationship,
            phone=named.phone,
            email=named.email,
            address=named.address,
            has_parental_responsibility=(
                named.has_parental_responsibility
                and named.role == ReferralContact.Role.PARENT_CARER
            ),
        )
        for named in ReferralContact.objects.filter(
            referral__in=referrals, role__in=CONTACT_ROLES
        ).order_by("referral_id", "id")
    ]
    contacts += [
        PersonContact(
            role=REFERRER_ROLES[each.referrer_kind],
            name=each.referrer_name,
            organisation=each.referrer_organisation,
            relationship=each.referrer_role,
            phone=each.referrer_phone,
            email=each.referrer_email,
            address=each.referrer_address,
        )
        for each in referrals
        if each.referrer_kind in REFERRER_ROLES and each.referrer_name.strip()
    ]
    register.contacts_add(
        person=person, contacts=contacts, reason=f"From referral {referral.reference}", by=by
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
    _keep_contacts(referral, person, by=by)
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
    "reasons_told_how",
    "next_steps",
    "decided_at",
    "decided_by",
]


def _decide_linked(referral: Referral, recipients: list[Recipient], *, by: User) -> None:
    """Live referrals linked to this one as duplicates take its decision, and everyone each of
    them names is told the outcome too, once: a second referral never waits unanswered, and
    someone named on both is not told twice."""
    told = set().union(*(reached_at(r) for r in recipients))
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
        others = not_told_yet(reachable_recipients(duplicate), told)
        notify_referral_outcome(duplicate, others)
        told = told.union(*(reached_at(r) for r in others))


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
    reasons_told_how: str = "",
) -> Referral:
    """Decide a referral and owe everyone the outcome, all in one transaction.

    - added: the person is put on (or re-rated on) the register through the register's
      services, with the referral's consent basis; needs a rating and its rationale;
    - not eligible: needs the reason and where else to get help, and someone the rule names to
      post the reasons to (emails never carry them), or how the team told them instead;
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
    recipients = reachable_recipients(referral)
    if decision == Referral.Status.NOT_ELIGIBLE:
        referral.reasons_told_how = reasons_told_how.strip()
        if not (referral.reasons_told_how or any(r.can_post for r in recipients)):
            raise RegisterError(
                "The reasons go only in a letter, and nobody who would be told has a postal "
                "address with a postcode. Add one, or record how the team told them the reasons."
            )
    referral.next_steps = next_steps.strip() or OUTCOME_NEXT_STEPS[decision]
    referral.decided_at = timezone.now()
    referral.decided_by = by
    set_change_reason(referral, f"Decided: {decision}", by=by)
    referral.save()
    referral = referral_transition(referral, to=decision, by=by, reason=reason or rationale)
    notify_referral_outcome(referral, recipients)
    _decide_linked(referral, recipients, by=by)
    logger.info("referral decided referral=%s decision=%s by=%s", referral.pk, decision, by.pk)
    return referral
