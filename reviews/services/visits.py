"""Writes for oversight visits to people in hospital out of area (rule 12)."""

import logging
from datetime import date

from django.db import transaction
from django.utils import timezone

from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import Person, User
from dsr.queries import open_admission
from reviews.models import (
    OversightVisit,
)

logger = logging.getLogger(__name__)


@transaction.atomic
def visit_record(
    *, person: Person, visited_on: date, visited_by: str, findings: str, concerns: bool, by: User
) -> OversightVisit:
    """Record an on-site oversight visit to someone in hospital out of area (rule 12)."""
    Person.objects.select_for_update().get(pk=person.pk)
    admission = open_admission(person)
    if admission is None or not person.out_of_area:
        raise RegisterError("Oversight visits are for people in hospital out of area.")
    if visited_on > timezone.localdate() or visited_on < admission.admitted_on:
        raise RegisterError("The visit date must be during the admission and not in the future.")
    visit = OversightVisit(
        person=person,
        admission=admission,
        visited_on=visited_on,
        visited_by=visited_by,
        findings=findings,
        concerns=concerns,
        recorded_by=by,
    )
    set_change_reason(visit, "Oversight visit recorded", by=by)
    visit.save()
    return visit
