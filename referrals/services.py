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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from dsr import services as register
from dsr.deadlines import age_on, decision_due_for
from dsr.history import set_change_reason
from dsr.models import RAG, Consent, Notification, Person, RegisterEntry, User
from dsr.notifications import deliver_after_commit
from dsr.queries import responsible_icb_for, same_person
from referrals.models import (
    Referral,
    ReferralAttachment,
    ReferralContact,
    ReferralTransition,
)

logger = logging.getLogger(__name__)

RegisterError = register.RegisterError
SUBJECT = "referrals.referral"


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


# --- Who is told the outcome (DOMAIN 5) ------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    key: str
    name: str
    role: str
    email: str
    address: str
    accessible_format: str
    prefers_letter: bool

    @property
    def channel(self) -> str:
        if self.address and (self.prefers_letter or not self.email):
            return Notification.Channel.LETTER
        return Notification.Channel.EMAIL

    @property
    def reachable(self) -> bool:
        return bool(self.email or self.address)


def _rule_includes(
    contact: ReferralContact, referral: Referral, age: int, has_representative: bool
) -> bool:
    best_interests = referral.consent_basis == Consent.Basis.BEST_INTERESTS
    if contact.role == ReferralContact.Role.PERSON:
        can_be_told = age >= 16 or referral.consent_basis == Consent.Basis.GILLICK
        return can_be_told and not (best_interests and has_representative)
    if contact.role == ReferralContact.Role.REPRESENTATIVE:
        return best_interests
    if age < 18 and contact.has_parental_responsibility:
        return True
    return contact.named_by_person


def outcome_recipients(referral: Referral, *, on: date | None = None) -> list[Recipient]:
    """Who is told the outcome, by DOMAIN.md section 5:

    - the person, at 16 or over or a Gillick-competent child, unless a best-interests decision
      names a representative, who is told instead;
    - every contact with parental responsibility while the person is under 18;
    - any contact the person (or the best-interests decision) names;
    - the referrer, when a professional or when the person agreed they may be told;
    - then staff's additions and removals, each with its reason.
    Someone listed twice (the same email or address) is told once.
    """
    age = age_on(referral.date_of_birth, on or timezone.localdate())
    formats = referral.accessible_formats or []
    person_format = (
        "easy_read"
        if "easy_read" in formats
        else ("large_print" if "large_print" in formats else "standard")
    )
    chosen: list[Recipient] = []
    contacts = list(referral.contacts.all())
    has_representative = any(c.role == ReferralContact.Role.REPRESENTATIVE for c in contacts)
    for contact in contacts:
        include = _rule_includes(contact, referral, age, has_representative)
        if contact.override:
            include = contact.override == "include"
        if include:
            chosen.append(
                Recipient(
                    key=f"contact-{contact.pk}",
                    name=contact.name,
                    role=contact.get_role_display(),
                    email=contact.email,
                    address=contact.address,
                    accessible_format=person_format
                    if contact.role == ReferralContact.Role.PERSON
                    else contact.preferred_format,
                    prefers_letter=contact.prefers_letter,
                )
            )
    if not any(c.role == ReferralContact.Role.PERSON for c in contacts) and referral.address:
        # Entered on paper or by phone without a contact for the person: they are still told,
        # at the address on the referral, on the same rule as a contact.
        best_interests_rep = referral.consent_basis == Consent.Basis.BEST_INTERESTS and (
            has_representative
        )
        if (age >= 16 or referral.consent_basis == Consent.Basis.GILLICK) and not (
            best_interests_rep
        ):
            chosen.append(
                Recipient(
                    key="person",
                    name=referral.full_name,
                    role=ReferralContact.Role.PERSON.label,
                    email="",
                    address=referral.address,
                    accessible_format=person_format,
                    prefers_letter=True,
                )
            )
    referrer_told = (
        referral.referrer_kind == Referral.ReferrerKind.PROFESSIONAL or referral.outcome_to_referrer
    )
    referrer = None
    if referrer_told and (referral.referrer_email or referral.referrer_address):
        referrer = Recipient(
            key="referrer",
            name=referral.referrer_name,
            role="Referrer",
            email=referral.referrer_email,
            address=referral.referrer_address,
            accessible_format=person_format
            if referral.referrer_kind == Referral.ReferrerKind.SELF
            else "standard",
            prefers_letter=False,
        )
    # The same contact listed twice (same name and the same way to reach them) is told once;
    # people sharing a home address are each told. The referrer is left out when they are
    # already on the list by the same email or address (a person referring themselves).
    unique: dict[tuple[str, str], Recipient] = {}
    for recipient in chosen:
        where = (recipient.email or recipient.address).strip().lower()
        unique.setdefault((recipient.name.strip().lower(), where), recipient)
    recipients = list(unique.values())
    if referrer is not None:
        reach = {r.email.lower() for r in recipients if r.email} | {
            r.address.strip().lower() for r in recipients if r.address
        }
        if not (
            (referrer.email and referrer.email.lower() in reach)
            or (referrer.address and referrer.address.strip().lower() in reach)
        ):
            recipients.append(referrer)
    return recipients


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


def _write_outcome(referral: Referral, recipients: list[Recipient]) -> list[Notification]:
    context = {
        "reference": referral.reference,
        "outcome": referral.status,
        "outcome_label": referral.get_status_display(),
        "person_first_name": referral.given_name,
        "next_steps": referral.next_steps,
        "reason": referral.ineligible_reason or referral.withdrawn_reason,
        "signposting": referral.signposting,
        "decided_on": timezone.localdate(referral.decided_at).isoformat(),
    }
    rows = []
    for recipient in recipients:
        rows.append(
            Notification.objects.create(
                subject_type=SUBJECT,
                subject_id=referral.pk,
                local_authority_id=referral.local_authority_id,
                kind="referral_outcome",
                recipient_key=recipient.key,
                recipient_name=recipient.name,
                recipient_role=recipient.role,
                channel=recipient.channel,
                email=recipient.email if recipient.channel == "email" else "",
                postal_address=recipient.address if recipient.channel == "letter" else "",
                accessible_format=recipient.accessible_format,
                context={**context, "recipient_name": recipient.name},
            )
        )
    deliver_after_commit(len(rows))
    return rows


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


def _reachable_recipients(referral: Referral) -> list[Recipient]:
    """Everyone the rule says to tell, refusing the decision if anyone cannot be reached: no
    one is dropped from the outcome without staff deciding so."""
    recipients = outcome_recipients(referral)
    if not recipients:
        raise RegisterError(
            "Nobody would be told this outcome. Add someone to tell before deciding."
        )
    unreachable = [r.name for r in recipients if not r.reachable]
    if unreachable:
        raise RegisterError(
            f"No email or postal address for {', '.join(unreachable)}: add one, or take them "
            "off the list with a reason, before deciding."
        )
    return recipients


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
        _write_outcome(duplicate, _reachable_recipients(duplicate))


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
    _write_outcome(referral, _reachable_recipients(referral))
    _decide_linked(referral, by=by)
    logger.info("referral decided referral=%s decision=%s by=%s", referral.pk, decision, by.pk)
    return referral


# --- The four-week deadline sweep (STYLE point 6) -------------------------------------------

# Reminder stages: (stage, days before the decision is due, the next stage's days before).
# A stage is due from its day until the next stage's day; a missed sweep never hides a breach,
# because the breach stage has no end and "overdue" is always worked out from the due date.
STAGES = [("day14", 14, 7), ("day21", 7, 1), ("day27", 1, 0), ("breach", -1, None)]

_LIVE = "('received', 'under_review', 'more_info')"


def _stage_window(stage_from: int, stage_to: int | None, today: date) -> tuple[str, list]:
    """SQL for "the decision is due within this stage's window", with its parameters."""
    if stage_to is None:
        return "r.decision_due < %s", [today]
    return "r.decision_due <= %s AND r.decision_due > %s", [
        today + timedelta(days=stage_from),
        today + timedelta(days=stage_to),
    ]


def referral_deadline_sweep(*, today: date | None = None) -> dict[str, int]:
    """Insert, set-based, the reminders that have come due for live referrals, their outbox
    rows (the DSR team mailbox and the assigned reviewer), and at breach an escalation for the
    DSR lead, all in one transaction. Unique keys make a second run, or two at once, add
    nothing. Cost grows with batches of SQL, never with rows: no row is loaded into Python.
    Returns the rows inserted, by kind.
    """
    from django.conf import settings
    from django.db import connection

    from dsr.notifications import SQL_INSERT_COLUMNS
    from escalation import rules as escalation_rules
    from escalation.services import write_raised_rows

    today = today or timezone.localdate()
    now = timezone.now()
    team = settings.DSR_TEAM_EMAIL
    counts = {"reminders": 0, "notifications": 0, "escalations": 0}
    live = f"r.status IN {_LIVE} AND r.duplicate_of_id IS NULL"
    base = f"FROM referrals_referral r WHERE {live}"
    with_reviewer = (
        f"FROM referrals_referral r JOIN dsr_user u ON u.id = r.assigned_to_id WHERE {live}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for stage, stage_from, stage_to in STAGES:
            window, params = _stage_window(stage_from, stage_to, today)
            where = f"{base} AND {window}"
            cursor.execute(
                "INSERT INTO dsr_reminder (subject_type, subject_id, kind, stage, due_on,"
                " created_at) SELECT %s, r.id, 'referral_decision', %s, r.decision_due, %s "
                f"{where} ON CONFLICT (subject_type, subject_id, kind, stage) DO NOTHING",
                [SUBJECT, stage, now, *params],
            )
            counts["reminders"] += cursor.rowcount
            # Staff reminders carry the reference and the dates only: no personal details.
            cursor.execute(
                f"INSERT INTO dsr_notification ({SQL_INSERT_COLUMNS}) SELECT %s, r.id,"
                " r.local_authority_id, %s, 'team',"
                " 'DSR team', 'DSR team', 'email', %s, '', 'standard', '{}', 'pending', %s, %s,"
                f" 0, '', '', '' {where}"
                " ON CONFLICT (subject_type, subject_id, kind, recipient_key) DO NOTHING",
                [SUBJECT, f"referral_{stage}", team, now, now, *params],
            )
            counts["notifications"] += cursor.rowcount
            cursor.execute(
                f"INSERT INTO dsr_notification ({SQL_INSERT_COLUMNS}) SELECT %s, r.id,"
                " r.local_authority_id, %s, 'reviewer',"
                " u.full_name, 'Reviewer', 'email', u.email, '', 'standard', '{}', 'pending',"
                f" %s, %s, 0, '', '', '' {with_reviewer} AND {window}"
                " ON CONFLICT (subject_type, subject_id, kind, recipient_key) DO NOTHING",
                [SUBJECT, f"referral_{stage}", now, now, *params],
            )
            counts["notifications"] += cursor.rowcount
        rule = escalation_rules.rule("referral_overdue")
        if rule.on:
            window, params = _stage_window(-1, None, today)
            cursor.execute(
                "INSERT INTO escalation_escalation (reason, trigger_type, trigger_id, person_id,"
                " local_authority_id, level, status, raised_at, note) SELECT 'referral_overdue',"
                " %s, r.id, r.person_id, r.local_authority_id, %s, 'open', %s,"
                f" 'Raised by the four-week deadline sweep.' {base} AND {window}"
                " ON CONFLICT (reason, trigger_type, trigger_id) DO NOTHING",
                [SUBJECT, rule.level, now, *params],
            )
            counts["escalations"] = cursor.rowcount
            # Their clocks start, and their owners hear, at the next escalation ladder sweep.
            write_raised_rows(cursor, now)
    if counts["notifications"]:
        deliver_after_commit(counts["notifications"])
    logger.info("referral deadline sweep %s", counts)
    return counts
