"""Writes for the register. Every change to people, entries, consent, ratings and admissions goes
through one of these functions: keyword-only arguments, the actor as `by`, one transaction.

Rules enforced here (DOMAIN.md section 12): 1 (no open entry without a consent basis), 4 (one
current rating with a date and rationale; history append-only), 5 (Blue only while admitted;
admission forces Blue; discharge forces a new rating, Red by default), 16 (withdrawal closes the
entry). Each raises RegisterError, whose message is shown to the user as it is.
"""

import logging
from datetime import date, timedelta
from typing import Any

from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.utils import timezone
from log_request_id import local as request_id_local

from dsr.deadlines import (
    age_on,
    birthday,
    consent_review_due,
    discharge_red_until,
    rating_review_due,
)
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import (
    RAG,
    AccessEvent,
    Admission,
    CetrException,
    Consent,
    Heartbeat,
    Person,
    PersonContact,
    PersonNeed,
    Rating,
    RegisterEntry,
    User,
)

logger = logging.getLogger(__name__)


# --- Housekeeping ----------------------------------------------------------------------------


def heartbeat_record(*, name: str) -> Heartbeat:
    """Record that `name` ran now. Bookkeeping only: not audited, no side effects."""
    beat, _ = Heartbeat.objects.update_or_create(
        name=name, defaults={"last_seen_at": timezone.now()}
    )
    return beat


def sessions_purge_expired() -> int:
    """Delete sessions past their expiry; returns how many went."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    logger.info("purged expired sessions count=%s", deleted)
    return deleted


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
            for name, value in fields.items():
                setattr(current, name, value)
            set_change_reason(current, "Details changed", by=by)
            current.save(update_fields=[*fields, "updated_at"])
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


def _check_consent_basis(person: Person, basis: str, given_on: date, **detail: Any) -> None:
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
    _check_consent_basis(
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
        _close(entry, RegisterEntry.ClosureReason.CONSENT_WITHDRAWN, withdrawn_on, note, by)
    logger.info("consent withdrawn person=%s by=%s", person.pk, by.pk)


# --- Register entries and ratings (rules 1, 4, 5) --------------------------------------------


def open_entry(person: Person) -> RegisterEntry | None:
    """The person's open register entry, if they are on the register (the other apps use it)."""
    return RegisterEntry.objects.filter(person=person, status=RegisterEntry.Status.OPEN).first()


def open_admission(person: Person) -> Admission | None:
    """The person's current stay in hospital, if any."""
    return Admission.objects.filter(person=person, discharged_on__isnull=True).first()


def _check_blue_only_in_hospital(person: Person, rating: str) -> None:
    """Rule 5: Blue exactly while admitted. Admissions and discharges change it; nothing else."""
    in_hospital = open_admission(person) is not None
    if rating == RAG.BLUE and not in_hospital:
        raise RegisterError("Blue is only for someone in hospital: record the admission first.")
    if in_hospital and rating != RAG.BLUE:
        raise RegisterError(
            "This person is in hospital, so their rating is blue: record their discharge to "
            "change it."
        )


def _write_rating(
    entry: RegisterEntry,
    *,
    rating: str,
    rationale: str,
    effective_from: date,
    by: User,
    risk_factors: list[str] | None = None,
    risk_notes: str = "",
    first: bool = False,
    meeting: Any = None,
) -> Rating:
    """Append a Rating row and copy it onto the entry. Callers hold the person's row lock.
    `first` marks the entry's opening rating, which has no previous rating."""
    rationale = rationale.strip()
    if not rationale:
        raise RegisterError("Give the reason for this rating.")
    if effective_from > timezone.localdate():
        raise RegisterError("The rating cannot start in the future.")
    if not first and effective_from < entry.rating_since:
        raise RegisterError(
            f"The rating cannot start before the current one ({entry.rating_since:%d %B %Y})."
        )
    row = Rating.objects.create(
        entry=entry,
        rating=rating,
        previous_rating="" if first else entry.rating,
        effective_from=effective_from,
        rationale=rationale,
        risk_factors=list(risk_factors or []),
        risk_notes=risk_notes,
        set_by=by,
        meeting=meeting,
    )
    if first or rating != entry.rating:
        entry.rating = rating
        entry.rating_since = effective_from
    entry.rating_reviewed_on = effective_from
    entry.rating_review_due = rating_review_due(rating, effective_from)
    set_change_reason(entry, f"Rated {rating.lower()}", by=by)
    entry.save()
    return row


@transaction.atomic
def register_open(
    *,
    person: Person,
    rating: str,
    rationale: str,
    by: User,
    opened_on: date | None = None,
    risk_factors: list[str] | None = None,
    risk_notes: str = "",
) -> RegisterEntry:
    """Put a person on the register with their first rating.

    Raises RegisterError when the person is already on it (also under concurrent requests: the
    person's row is locked, and a partial unique index backs it), when there is no active
    consent (rule 1), or when the rating is Blue without an open admission (rule 5).
    """
    person = Person.objects.select_for_update().get(pk=person.pk)
    if open_entry(person) is not None:
        raise RegisterError("This person is already on the register.")
    consent = Consent.objects.filter(person=person, ended_on__isnull=True).first()
    if consent is None:
        raise RegisterError("Record a consent basis before adding this person to the register.")
    _check_blue_only_in_hospital(person, rating)
    opened_on = opened_on or timezone.localdate()
    entry = RegisterEntry(
        person=person,
        opened_on=opened_on,
        opened_by=by,
        consent=consent,
        rating=rating,
        rating_since=opened_on,
    )
    set_change_reason(entry, "Added to the register", by=by)
    entry.save()
    _write_rating(
        entry,
        rating=rating,
        rationale=rationale,
        effective_from=opened_on,
        by=by,
        risk_factors=risk_factors,
        risk_notes=risk_notes,
        first=True,
    )
    logger.debug("register entry opened entry=%s person=%s by=%s", entry.pk, person.pk, by.pk)
    return entry


@transaction.atomic
def rating_change(
    *,
    entry: RegisterEntry,
    rating: str,
    rationale: str,
    by: User,
    effective_from: date | None = None,
    risk_factors: list[str] | None = None,
    risk_notes: str = "",
    early_step_down: bool = False,
    meeting: Any = None,
) -> Rating:
    """Change or confirm the current rating of an open entry (a confirmation is a review).

    `meeting` is the multi-agency meeting that decided it, if one did (the Reviews app passes
    its Meeting); the rating row links it.

    Blue comes only from recording an admission, and leaving Blue only from a discharge
    (rule 5); both refusals raise RegisterError. After a discharge the rating stays Red until
    `red_until` unless the change says it is an early step-down (and gives its rationale).
    """
    Person.objects.select_for_update().get(pk=entry.person_id)
    entry = RegisterEntry.objects.get(pk=entry.pk)
    if not entry.is_open:
        raise RegisterError("This register entry is closed.")
    _check_blue_only_in_hospital(entry.person, rating)
    on = effective_from or timezone.localdate()
    if entry.red_until and on <= entry.red_until and rating != RAG.RED and not early_step_down:
        raise RegisterError(
            f"After the discharge the rating stays red until {entry.red_until:%d %B %Y}. To "
            "change it sooner, tick the early step-down box and give the reason."
        )
    return _write_rating(
        entry,
        rating=rating,
        rationale=rationale,
        effective_from=effective_from or timezone.localdate(),
        by=by,
        risk_factors=risk_factors,
        risk_notes=risk_notes,
        meeting=meeting,
    )


def _close(
    entry: RegisterEntry, reason: str, closed_on: date, note: str, by: User
) -> RegisterEntry:
    entry.status = RegisterEntry.Status.CLOSED
    entry.closed_on = closed_on
    entry.closed_by = by
    entry.closure_reason = reason
    entry.closure_note = note
    set_change_reason(entry, "Closed", by=by)
    entry.save()
    return entry


@transaction.atomic
def register_close(
    *, entry: RegisterEntry, reason: str, by: User, note: str = "", closed_on: date | None = None
) -> RegisterEntry:
    """Take someone off the register with a reason. Withdrawn consent goes through
    consent_withdraw, which also ends the consent."""
    Person.objects.select_for_update().get(pk=entry.person_id)
    entry = RegisterEntry.objects.get(pk=entry.pk)
    if not entry.is_open:
        raise RegisterError("This register entry is already closed.")
    if reason == RegisterEntry.ClosureReason.CONSENT_WITHDRAWN:
        raise RegisterError("Record the withdrawal of consent instead: it closes the entry.")
    closed_on = closed_on or timezone.localdate()
    if closed_on > timezone.localdate() or closed_on < entry.opened_on:
        raise RegisterError("The closing date must be between the date added and today.")
    admission = open_admission(entry.person)
    if admission is not None:
        if reason != RegisterEntry.ClosureReason.DIED:
            raise RegisterError("This person is in hospital: record their discharge first.")
        admission.discharged_on = max(closed_on, admission.admitted_on)
        admission.discharged_by = by
        set_change_reason(admission, "Ended: the person died", by=by)
        admission.save()
    return _close(entry, reason, closed_on, note, by)


# --- Admissions (rule 5) ---------------------------------------------------------------------


@transaction.atomic
def admission_record(
    *,
    person: Person,
    hospital_name: str,
    hospital_ods_code: str,
    cqc_rating: str,
    admitted_on: date,
    ward_security: str,
    community_cetr_before_admission: bool,
    by: User,
    mha_status: str = "",
    notes: str = "",
) -> Admission:
    """Record an admission to hospital. The person's rating becomes Blue at once."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    entry = open_entry(person)
    if entry is None:
        raise RegisterError("Add this person to the register before recording an admission.")
    if open_admission(person) is not None:
        raise RegisterError("This person already has an open admission.")
    if admitted_on > timezone.localdate():
        raise RegisterError("The admission date must be today or in the past.")
    if admitted_on < entry.opened_on:
        raise RegisterError(
            "The admission date cannot be before the person joined the register "
            f"({entry.opened_on:%d %B %Y})."
        )
    admission = Admission(
        person=person,
        hospital_name=hospital_name,
        hospital_ods_code=hospital_ods_code.upper(),
        cqc_rating=cqc_rating,
        admitted_on=admitted_on,
        ward_security=ward_security,
        mha_status=mha_status,
        community_cetr_before_admission=community_cetr_before_admission,
        recorded_by=by,
    )
    set_change_reason(admission, "Admission recorded", by=by)
    admission.save()
    rationale = f"Admitted to {hospital_name} on {admitted_on:%d %B %Y}."
    _write_rating(
        entry,
        rating=RAG.BLUE,
        rationale=f"{rationale} {notes}".strip(),
        effective_from=max(admitted_on, entry.rating_since or admitted_on),
        by=by,
    )
    return admission


@transaction.atomic
def admission_discharge(
    *,
    admission: Admission,
    discharged_on: date,
    by: User,
    rating: str = RAG.RED,
    rationale: str = "",
    risk_factors: list[str] | None = None,
) -> Rating | None:
    """Record a discharge and the rating that follows it. Red is the default, for at least
    DSR_DISCHARGE_RED_DAYS; any other rating needs a rationale (rule 5)."""
    Person.objects.select_for_update().get(pk=admission.person_id)
    admission = Admission.objects.get(pk=admission.pk)
    if not admission.is_open:
        raise RegisterError("This admission has already ended.")
    if rating == RAG.BLUE:
        raise RegisterError("Choose the rating that follows the discharge: red, amber or green.")
    if discharged_on > timezone.localdate() or discharged_on < admission.admitted_on:
        raise RegisterError("The discharge date must be between the admission date and today.")
    rationale = rationale.strip()
    if rating != RAG.RED and not rationale:
        raise RegisterError(
            "Give the reason for not rating red: after a discharge the rating is red for at "
            f"least {(discharge_red_until(discharged_on) - discharged_on).days} days."
        )
    if not rationale:
        rationale = (
            f"Discharged from {admission.hospital_name} on {discharged_on:%d %B %Y}: red until "
            f"at least {discharge_red_until(discharged_on):%d %B %Y} after discharge."
        )
    admission.discharged_on = discharged_on
    admission.discharged_by = by
    set_change_reason(admission, "Discharged", by=by)
    admission.save()
    entry = open_entry(admission.person)
    if entry is None:
        # Off the register (consent withdrawn while in hospital): record the discharge only.
        return None
    row = _write_rating(
        entry,
        rating=rating,
        rationale=rationale,
        effective_from=max(discharged_on, entry.rating_since or discharged_on),
        by=by,
        risk_factors=[*(risk_factors or []), "recent_discharge"],
    )
    entry.red_until = discharge_red_until(discharged_on) if rating == RAG.RED else None
    entry.save(update_fields=["red_until", "updated_at"])
    return row


@transaction.atomic
def admission_rca_record(*, admission: Admission, completed_on: date, by: User) -> Admission:
    """Record that the root-cause analysis of an admission without a community C(E)TR was
    completed (DOMAIN rule 7)."""
    admission = Admission.objects.select_for_update().get(pk=admission.pk)
    if admission.community_cetr_before_admission:
        raise RegisterError("A community C(E)TR came before this admission: no analysis is due.")
    if completed_on > timezone.localdate() or completed_on < admission.admitted_on:
        raise RegisterError("The date must be between the admission and today.")
    admission.rca_completed_on = completed_on
    set_change_reason(admission, "Root-cause analysis completed", by=by)
    admission.save(update_fields=["rca_completed_on", "updated_at"])
    return admission


# --- C(E)TR exceptions (rule 6) --------------------------------------------------------------


@transaction.atomic
def cetr_exception_record(
    *, person: Person, meeting_kind: str, held_on: date, reason: str, by: User
) -> CetrException:
    """Record why a Red person has an urgent LAEP or Blue Light meeting instead of a community
    C(E)TR (rule 6). Only for someone on the register rated Red."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    entry = open_entry(person)
    if entry is None or entry.rating != RAG.RED:
        raise RegisterError("An exception is recorded only for someone on the register rated red.")
    if not reason.strip():
        raise RegisterError("Give the reason a community C(E)TR could not be held.")
    if held_on > timezone.localdate():
        raise RegisterError("The meeting date must be today or in the past.")
    exception = CetrException(
        person=person, meeting_kind=meeting_kind, held_on=held_on, reason=reason, recorded_by=by
    )
    set_change_reason(exception, "C(E)TR exception recorded", by=by)
    exception.save()
    return exception


# --- Access log ------------------------------------------------------------------------------


def access_log_record(
    *,
    user: User,
    action: str,
    path: str,
    person: Person | None = None,
    detail: dict[str, Any] | None = None,
) -> AccessEvent:
    """Write one access-log row. `detail` holds filter names and counts, never personal data."""
    return AccessEvent.objects.create(
        user=user,
        person=person,
        action=action,
        path=path[:300],
        detail=detail or {},
        request_id=_request_id(),
    )


def access_log_people(
    *,
    user: User,
    action: str,
    path: str,
    people_ids: list[int],
    detail: dict[str, Any] | None = None,
) -> None:
    """One access-log row per person shown on a list or in search results, in one insert; one
    row without a person when nobody was shown (the search itself is still logged)."""
    fields = {"action": action, "path": path[:300], "detail": detail or {}}
    fields["request_id"] = _request_id()
    rows = [AccessEvent(user=user, person_id=pk, **fields) for pk in people_ids] or [
        AccessEvent(user=user, **fields)
    ]
    AccessEvent.objects.bulk_create(rows)


def _request_id() -> str:
    """The current request's correlation id (RELIABILITY E-7), so an access-log row and the log
    records of one request can be matched; blank outside a request."""
    return getattr(request_id_local, "request_id", "")


# --- Review and consent reminders (STYLE point 6) -------------------------------------------

CONSENT_REMINDER_DAYS = 30


def register_review_sweep(*, today: date | None = None) -> dict[str, int]:
    """Insert, set-based, a reminder and a DSR team email for each open entry whose rating
    review has come due (one per due date, so every cycle of the cadence gets its own), and for
    each active consent whose yearly check is within CONSENT_REMINDER_DAYS. Unique keys make a
    second run add nothing; no row is loaded into Python."""
    from django.db import connection

    from dsr.notifications import notify_register_reminder

    today = today or timezone.localdate()
    now = timezone.now()
    counts = {"reminders": 0, "notifications": 0}
    sources = [
        # (subject type, kind, FROM ... WHERE ..., the due-date column, parameters)
        (
            "dsr.registerentry",
            "rating_review_due",
            "FROM dsr_registerentry s JOIN dsr_person p ON p.id = s.person_id"
            " WHERE s.status = 'open' AND s.rating_review_due <= %s",
            "s.rating_review_due",
            [today],
        ),
        (
            "dsr.consent",
            "consent_review_due",
            "FROM dsr_consent s JOIN dsr_person p ON p.id = s.person_id"
            " WHERE s.ended_on IS NULL AND s.review_due <= %s AND EXISTS (SELECT 1 FROM"
            " dsr_registerentry e WHERE e.person_id = s.person_id AND e.status = 'open')",
            "s.review_due",
            [today + timedelta(days=CONSENT_REMINDER_DAYS)],
        ),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for subject, kind, source, due, params in sources:
            cursor.execute(
                "INSERT INTO dsr_reminder (subject_type, subject_id, kind, stage, due_on,"
                f" created_at) SELECT %s, s.id, %s, CAST({due} AS VARCHAR(20)), {due}, %s"
                f" {source} ON CONFLICT (subject_type, subject_id, kind, stage) DO NOTHING",
                [subject, kind, now, *params],
            )
            counts["reminders"] += cursor.rowcount
            counts["notifications"] += notify_register_reminder(
                cursor, subject=subject, kind=kind, due=due, source=source, params=params
            )
    logger.info("register review sweep %s", counts)
    return counts
