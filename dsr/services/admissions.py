"""Writes for admissions (rule 5) and C(E)TR exceptions (rule 6)."""

import logging
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from dsr.deadlines import (
    discharge_red_until,
)
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import (
    RAG,
    Admission,
    CetrException,
    Person,
    Placement,
    Rating,
    User,
)
from dsr.queries import open_admission, open_entry
from dsr.services.register import register_open, write_rating

logger = logging.getLogger(__name__)


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
    planned_discharge_on: date | None = None,
    weekly_cost: Decimal | None = None,
    funder: str = "",
    register_opened_on: date | None = None,
) -> Admission:
    """Record an admission to hospital. The person's rating becomes Blue at once. The planned
    discharge date, weekly cost and funder are optional (planning figures, the Assuring
    Transformation extract).

    With `register_opened_on`, someone already in hospital is put on the register (a register
    brought across from a spreadsheet): the entry opens that day rated Blue (rule 5) from the
    later of that day and the day they were admitted. The rating before the admission is not
    known, so none is written: never invented. Refused, writing nothing, as `register_open`
    refuses (already on the register, no consent basis)."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    entry = open_entry(person)
    if register_opened_on is not None and entry is not None:
        raise RegisterError("This person is already on the register.")
    if register_opened_on is None and entry is None:
        raise RegisterError("Add this person to the register before recording an admission.")
    if open_admission(person) is not None:
        raise RegisterError("This person already has an open admission.")
    if admitted_on > timezone.localdate():
        raise RegisterError("The admission date must be today or in the past.")
    if entry is not None and admitted_on < entry.opened_on:
        raise RegisterError(
            "The admission date cannot be before the person joined the register "
            f"({entry.opened_on:%d %B %Y})."
        )
    admission = _admission_save(
        person=person,
        hospital_name=hospital_name,
        hospital_ods_code=hospital_ods_code,
        cqc_rating=cqc_rating,
        admitted_on=admitted_on,
        ward_security=ward_security,
        mha_status=mha_status,
        community_cetr_before_admission=community_cetr_before_admission,
        recorded_by=by,
        planned_discharge_on=planned_discharge_on,
        weekly_cost=weekly_cost,
        funder=funder,
    )
    rationale = f"{_admitted(admission)} {notes}".strip()
    if entry is None:
        register_open(
            person=person,
            rating=RAG.BLUE,
            rationale=rationale,
            opened_on=register_opened_on,
            rated_on=max(register_opened_on, admitted_on),
            by=by,
        )
    else:
        write_rating(
            entry,
            rating=RAG.BLUE,
            rationale=rationale,
            effective_from=max(admitted_on, entry.rating_since or admitted_on),
            by=by,
        )
    return admission


def _admission_save(*, hospital_ods_code: str, weekly_cost: Decimal | None, **fields) -> Admission:
    _check_cost(weekly_cost)
    admission = Admission(
        hospital_ods_code=hospital_ods_code.upper(), weekly_cost=weekly_cost, **fields
    )
    set_change_reason(admission, "Admission recorded", by=fields["recorded_by"])
    admission.save()
    return admission


def _admitted(admission: Admission) -> str:
    return f"Admitted to {admission.hospital_name} on {admission.admitted_on:%d %B %Y}."


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
    row = write_rating(
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


# --- Placements and care packages (planning figures) -----------------------------------------


def _check_cost(weekly_cost: Decimal | None) -> None:
    if weekly_cost is not None and weekly_cost < 0:
        raise RegisterError("The weekly cost cannot be less than zero.")


# What the person page and the register's snapshot call "where they live" (the person's
# placement_type and out_of_area) is, while a placement is open, a copy of the newest open
# placement, written here and nowhere else (person_update leaves the two alone then). With no
# open placement the person's own details hold it (someone at home with no package recorded).
# The planning figures read the placements themselves, for their dates and costs.
PLACEMENT_COPIED = ("placement_type", "out_of_area")


def current_placement(person: Person) -> Placement | None:
    """The person's newest open placement, if any."""
    return Placement.objects.filter(person=person, ended_on__isnull=True).first()


def _copy_current_placement(person: Person, by: User) -> None:
    """Keep the person's placement details the same as their newest open placement."""
    placement = current_placement(person)
    if placement is None:
        return
    person = Person.objects.select_for_update().get(pk=person.pk)
    changed = [n for n in PLACEMENT_COPIED if getattr(person, n) != getattr(placement, n)]
    if not changed:
        return
    for name in changed:
        setattr(person, name, getattr(placement, name))
    set_change_reason(person, "Where they live: from the current placement", by=by)
    person.save(update_fields=[*changed, "updated_at"])


def _check_end(started_on: date, ended_on: date) -> None:
    if ended_on > timezone.localdate() or ended_on < started_on:
        raise RegisterError("The end date must be between the start date and today.")


@transaction.atomic
def placement_record(
    *,
    person: Person,
    placement_type: str,
    started_on: date,
    by: User,
    out_of_area: bool = False,
    provider_name: str = "",
    ended_on: date | None = None,
    weekly_cost: Decimal | None = None,
    funder: str = "",
) -> Placement:
    """Record a placement or care package over a span of dates, with its weekly cost and funder
    where the ICB records them. An open one becomes where the person lives."""
    Person.objects.select_for_update().get(pk=person.pk)
    if started_on > timezone.localdate():
        raise RegisterError("The start date must be today or in the past.")
    if ended_on is not None:
        _check_end(started_on, ended_on)
    _check_cost(weekly_cost)
    placement = Placement(
        person=person,
        placement_type=placement_type,
        out_of_area=out_of_area,
        provider_name=provider_name,
        started_on=started_on,
        ended_on=ended_on,
        weekly_cost=weekly_cost,
        funder=funder,
        recorded_by=by,
    )
    set_change_reason(placement, "Placement recorded", by=by)
    placement.save()
    _copy_current_placement(person, by)
    return placement


@transaction.atomic
def placement_end(*, placement: Placement, ended_on: date, by: User) -> Placement:
    """End a placement on a day, between its start and today, as a discharge is (its history
    row keeps the open span). Another open placement, if any, becomes where the person lives."""
    person = Person.objects.select_for_update().get(pk=placement.person_id)
    placement = Placement.objects.get(pk=placement.pk)
    if placement.ended_on is not None:
        raise RegisterError("This placement has already ended.")
    _check_end(placement.started_on, ended_on)
    placement.ended_on = ended_on
    set_change_reason(placement, "Placement ended", by=by)
    placement.save(update_fields=["ended_on", "updated_at"])
    _copy_current_placement(person, by)
    return placement
