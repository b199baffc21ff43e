"""Writes for register entries and ratings (rules 1, 4, 5)."""

import logging
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from dsr.deadlines import (
    rating_review_due,
)
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import (
    RAG,
    Consent,
    Person,
    Rating,
    RegisterEntry,
    User,
)
from dsr.queries import open_admission, open_entry
from dsr.register_changes import people_changed

logger = logging.getLogger(__name__)


# --- Register entries and ratings (rules 1, 4, 5) --------------------------------------------


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


def write_rating(
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
    people_changed([entry.person_id])
    return row


@transaction.atomic
def register_open(
    *,
    person: Person,
    rating: str,
    rationale: str,
    by: User,
    opened_on: date | None = None,
    rated_on: date | None = None,
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
    rated_on = rated_on or opened_on
    if rated_on < opened_on:
        raise RegisterError("The rating cannot start before the person was added.")
    entry = RegisterEntry(
        person=person,
        opened_on=opened_on,
        opened_by=by,
        consent=consent,
        rating=rating,
        rating_since=rated_on,
    )
    set_change_reason(entry, "Added to the register", by=by)
    entry.save()
    write_rating(
        entry,
        rating=rating,
        rationale=rationale,
        effective_from=rated_on,
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
    return write_rating(
        entry,
        rating=rating,
        rationale=rationale,
        effective_from=effective_from or timezone.localdate(),
        by=by,
        risk_factors=risk_factors,
        risk_notes=risk_notes,
        meeting=meeting,
    )


def close_entry(
    entry: RegisterEntry, reason: str, closed_on: date, note: str, by: User
) -> RegisterEntry:
    entry.status = RegisterEntry.Status.CLOSED
    entry.closed_on = closed_on
    entry.closed_by = by
    entry.closure_reason = reason
    entry.closure_note = note
    set_change_reason(entry, "Closed", by=by)
    entry.save()
    people_changed([entry.person_id])
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
    return close_entry(entry, reason, closed_on, note, by)
