"""Writes for people, their contacts and needs, and their consent (rules 1 and 16)."""

import logging
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dsr.deadlines import (
    age_on,
    birthday,
    consent_review_due,
)
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import (
    Consent,
    Person,
    PersonContact,
    PersonNeed,
    RegisterEntry,
    User,
)
from dsr.queries import open_entry
from dsr.register_changes import people_changed
from dsr.services.register import close_entry

logger = logging.getLogger(__name__)


# --- People ----------------------------------------------------------------------------------


def person_create(*, by: User, **fields: Any) -> Person:
    """Create a person (not yet on the register). Fields are validated by the form."""
    person = Person(**fields)
    set_change_reason(person, "Person recorded", by=by)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:
        raise RegisterError("Someone with this NHS number is already recorded.") from exc
    logger.debug("person created person=%s by=%s", person.pk, by.pk)
    return person


def person_update(*, person: Person, by: User, **fields: Any) -> Person:
    """Change some of a person's details; every change is kept in the history. Only the named
    fields are written, under a row lock, so two people editing different details at once do
    not overwrite each other."""
    try:
        with transaction.atomic():
            current = Person.objects.select_for_update().get(pk=person.pk)
            if current.placements.filter(ended_on__isnull=True).exists():
                # Where the person lives comes from their open placement then
                # (dsr.services.admissions.PLACEMENT_COPIED): a detail form or an import
                # does not change it.
                fields = {
                    n: v for n, v in fields.items() if n not in ("placement_type", "out_of_area")
                }
            for name, value in fields.items():
                setattr(current, name, value)
            set_change_reason(current, "Details changed", by=by)
            current.save(update_fields=[*fields, "updated_at"])
            if "local_authority" in fields or "local_authority_id" in fields:
                people_changed([current.pk])
    except IntegrityError as exc:
        raise RegisterError("Someone with this NHS number is already recorded.") from exc
    for name, value in fields.items():
        setattr(person, name, value)  # the caller's copy shows what was saved
    return current


@transaction.atomic
def contact_save(*, contact: PersonContact, by: User) -> PersonContact:
    """Add or change one of the people around someone."""
    Person.objects.select_for_update().get(pk=contact.person_id)
    if contact.has_parental_responsibility and contact.role != PersonContact.Role.PARENT_CARER:
        raise RegisterError("Only a parent or carer can have parental responsibility.")
    set_change_reason(contact, "Contact saved", by=by)
    contact.save()
    return contact


def _words(text: str) -> str:
    return " ".join(text.split()).casefold()


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def _same_contact(one: PersonContact, other: PersonContact) -> bool:
    """The same name (ignoring case and spacing) and the same email or phone number; for two
    reached only by post, the same address."""
    if _words(one.name) != _words(other.name):
        return False
    same_email = bool(one.email) and one.email.casefold() == other.email.casefold()
    same_phone = bool(_digits(one.phone)) and _digits(one.phone) == _digits(other.phone)
    by_post = not (one.email or one.phone or other.email or other.phone)
    return same_email or same_phone or (by_post and _words(one.address) == _words(other.address))


@transaction.atomic
def contacts_add(
    *, person: Person, contacts: list[PersonContact], reason: str, by: User
) -> list[PersonContact]:
    """Add people around someone that another record already holds (a referral's family and
    referrer), skipping anyone the person already has: the same name with the same email or
    phone number. Returns the contacts added, each saved with `reason` in its history. Raises
    RegisterError, and adds none, if one has parental responsibility but is not a parent or
    carer."""
    Person.objects.select_for_update().get(pk=person.pk)
    kept = list(PersonContact.objects.filter(person=person))
    added = []
    for contact in contacts:
        if contact.has_parental_responsibility and contact.role != PersonContact.Role.PARENT_CARER:
            raise RegisterError("Only a parent or carer can have parental responsibility.")
        if any(_same_contact(contact, other) for other in kept):
            continue
        contact.person = person
        set_change_reason(contact, reason, by=by)
        contact.save()
        kept.append(contact)
        added.append(contact)
    logger.debug("contacts added person=%s count=%s by=%s", person.pk, len(added), by.pk)
    return added


def contact_remove(*, contact: PersonContact, by: User) -> None:
    """Remove a contact. The history table keeps what it said."""
    set_change_reason(contact, "Contact removed", by=by)
    contact.delete()


@transaction.atomic
def needs_note(
    *, person: Person, needs: list[str], by: User, source: str, close_others: bool = False
) -> list[PersonNeed]:
    """Note unmet needs for a person (one open row per kind: a need already open stays as it
    is). With `close_others`, open needs not in `needs` are marked met today: the register's
    own form says what is unmet now; a meeting only adds."""
    Person.objects.select_for_update().get(pk=person.pk)
    today = timezone.localdate()
    open_needs = {n.need: n for n in PersonNeed.objects.filter(person=person, met_on__isnull=True)}
    noted = []
    for need in needs:
        if need not in open_needs:
            row = PersonNeed(person=person, need=need, source=source, noted_on=today, noted_by=by)
            set_change_reason(row, "Need noted", by=by)
            row.save()
            noted.append(row)
    if close_others:
        for need, row in open_needs.items():
            if need not in needs:
                row.met_on = today
                row.met_by = by
                set_change_reason(row, "Need met", by=by)
                row.save()
    return noted


def keyworker_referral_record(*, person: Person, referred_on: date, by: User) -> Person:
    """Record that a key worker referral was made (DOMAIN rule 6, ages 0 to 25)."""
    if referred_on > timezone.localdate():
        raise RegisterError("The referral date must be today or in the past.")
    return person_update(person=person, by=by, keyworker_referred_on=referred_on)


# --- Consent (rules 1 and 16) ----------------------------------------------------------------


def consent_basis_check(person: Person, basis: str, given_on: date, **detail: Any) -> None:
    """The register's consent rules (DOMAIN rules 1 and 16): whether `basis` fits the person's
    age on `given_on`, and a best-interests decision names its decision maker and the date
    capacity was assessed (`detail`). Raises RegisterError. A C(E)TR's consent evidence is
    checked by these same rules (reviews.services.cetr_consent_record), and so is each row of a
    spreadsheet import's dry run; `person` needs only its date of birth."""
    if given_on > timezone.localdate():
        raise RegisterError("The date consent was given must be today or in the past.")
    if given_on < person.date_of_birth:
        raise RegisterError("The date consent was given must be after the date of birth.")
    age = age_on(person.date_of_birth, given_on)
    if basis == Consent.Basis.BEST_INTERESTS and not (
        detail.get("decision_maker") and detail.get("capacity_assessed_on")
    ):
        raise RegisterError(
            "A best-interests decision needs the decision maker and the date capacity was assessed."
        )
    if basis == Consent.Basis.BEST_INTERESTS and age < 16:
        raise RegisterError(
            "The Mental Capacity Act applies from 16. For a younger child, record consent from "
            "someone with parental responsibility, or the child's own if Gillick competent."
        )
    if basis == Consent.Basis.GILLICK and age >= 16:
        raise RegisterError(
            "Gillick competence applies to children under 16. From 16 the Mental Capacity Act "
            "applies: record the person's own consent or a best-interests decision."
        )
    if basis == Consent.Basis.PARENTAL_RESPONSIBILITY and age >= 18:
        raise RegisterError(
            "Parental responsibility ends at 18. Record the person's own consent or a "
            "best-interests decision."
        )
    if basis == Consent.Basis.OWN_CONSENT and age < 16:
        raise RegisterError(
            "A child under 16 consents through Gillick competence or someone with parental "
            "responsibility."
        )


def _consent_review_due(person: Person, basis: str, given_on: date) -> date:
    """The yearly check, brought forward to the day the basis stops applying: a child's consent
    is re-assessed at 16 under the Mental Capacity Act, and parental responsibility ends at 18
    (DOMAIN rule 15)."""
    due = consent_review_due(given_on)
    age = age_on(person.date_of_birth, given_on)
    if age < 16:
        due = min(due, birthday(person.date_of_birth, 16))
    if basis == Consent.Basis.PARENTAL_RESPONSIBILITY:
        due = min(due, birthday(person.date_of_birth, 18))
    return due


@transaction.atomic
def consent_record(
    *,
    person: Person,
    basis: str,
    given_on: date,
    by: User,
    given_by: str = "",
    decision_maker: str = "",
    capacity_assessed_on: date | None = None,
    notes: str = "",
) -> Consent:
    """Record a consent basis. Any active consent ends as renewed, and an open register entry
    moves onto the new one. The review date comes from the deadlines module (default: a year)."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    consent_basis_check(
        person,
        basis,
        given_on,
        decision_maker=decision_maker,
        capacity_assessed_on=capacity_assessed_on,
    )
    today = timezone.localdate()
    for previous in Consent.objects.filter(person=person, ended_on__isnull=True):
        previous.ended_on = today
        previous.end_reason = Consent.EndReason.RENEWED
        previous.ended_by = by
        set_change_reason(previous, "Consent renewed", by=by)
        previous.save()
    consent = Consent(
        person=person,
        basis=basis,
        given_on=given_on,
        given_by=given_by,
        decision_maker=decision_maker,
        capacity_assessed_on=capacity_assessed_on,
        notes=notes,
        review_due=_consent_review_due(person, basis, given_on),
        recorded_by=by,
    )
    set_change_reason(consent, "Consent recorded", by=by)
    consent.save()
    entry = open_entry(person)
    if entry is not None:
        entry.consent = consent
        set_change_reason(entry, "Consent renewed", by=by)
        entry.save(update_fields=["consent", "updated_at"])
    return consent


@transaction.atomic
def consent_withdraw(*, person: Person, withdrawn_on: date, note: str, by: User) -> None:
    """Withdraw the active consent and close the register entry it supports (rule 16)."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    consent = Consent.objects.filter(person=person, ended_on__isnull=True).first()
    if consent is None:
        raise RegisterError("There is no active consent to withdraw.")
    if withdrawn_on > timezone.localdate() or withdrawn_on < consent.given_on:
        raise RegisterError("The withdrawal date must be between the consent date and today.")
    entry = open_entry(person)
    if entry is not None and withdrawn_on < entry.opened_on:
        raise RegisterError(
            f"The withdrawal date cannot be before the person joined the register "
            f"({entry.opened_on:%d %B %Y})."
        )
    consent.ended_on = withdrawn_on
    consent.end_reason = Consent.EndReason.WITHDRAWN
    consent.ended_by = by
    consent.notes = "\n".join(filter(None, [consent.notes, note]))
    set_change_reason(consent, "Consent withdrawn", by=by)
    consent.save()
    if entry is not None:
        close_entry(entry, RegisterEntry.ClosureReason.CONSENT_WITHDRAWN, withdrawn_on, note, by)
    logger.info("consent withdrawn person=%s by=%s", person.pk, by.pk)
