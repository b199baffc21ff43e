"""The Assuring Transformation (AT) extract: one row for each person in hospital (rated Blue) in
the reader's areas, laid out by AT data item, for the register team to key into, or load to,
NHS England's AT collection. The one person-level file of this app: register staff and the DSR
lead only (dsr.export_register), after the second factor, with an access-log row per person in
it (ACCESS.md). See docs/assuring-transformation.md for the mapping, the items the register does
not hold, and why.

People who object to their data being shared with the collection (Person.at_objection) stay in
the file, counted, with their identifiers (NHS number, date of birth, postcode) left blank and
the objection item set: the AT collection counts every inpatient, and an objection withholds
who they are, not that they are there (docs/assuring-transformation.md cites the guidance).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery

from dsr.models import Admission, RegisterEntry
from dsr.security.scoping import local_authority_ids_for
from reviews.models import Cetr

WITHHELD_FOR_OBJECTION = ""  # an identifier of someone who objects: left blank


@dataclass(frozen=True)
class Item:
    """One AT data item: its name as the file's column heading, whether it identifies the
    person (withheld for an objection), and how the register fills it from an admission."""

    name: str
    value: Callable[[Admission], str]
    identifier: bool = False


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Y" if value else "N")


ITEMS: list[Item] = [
    Item("NHS number", lambda a: a.person.nhs_number or "", identifier=True),
    Item("Date of birth", lambda a: _iso(a.person.date_of_birth), identifier=True),
    Item("Postcode of usual address", lambda a: a.person.postcode, identifier=True),
    Item("Gender (stated gender code)", lambda a: a.person.sex),
    Item("Ethnic category", lambda a: a.person.ethnicity),
    Item("GP practice code", lambda a: a.person.gp_practice_code),
    Item("Local authority of residence (GSS code)", lambda a: a.person.local_authority.gss_code),
    Item(
        "Responsible commissioner (ODS code)",
        lambda a: a.person.responsible_icb.ods_code if a.person.responsible_icb else "",
    ),
    Item("Learning disability, autism or both", lambda a: a.person.get_diagnosis_display()),
    Item("Diagnosed or clinically understood", lambda a: a.person.get_diagnosis_status_display()),
    Item("Hospital site (ODS code)", lambda a: a.hospital_ods_code),
    Item("Hospital name", lambda a: a.hospital_name),
    Item("Date of admission", lambda a: _iso(a.admitted_on)),
    Item("Ward security level", lambda a: a.get_ward_security_display()),
    Item("Mental Health Act legal status", lambda a: a.mha_status),
    Item(
        "Community C(E)TR before admission",
        lambda a: _yes_no(a.community_cetr_before_admission),
    ),
    Item(
        "On the dynamic support register before admission",
        lambda a: _yes_no(a.known_before),
    ),
    Item("Date of the most recent C(E)TR", lambda a: _iso(a.last_cetr_on)),
    Item("Date the next C(E)TR is due", lambda a: _iso(a.next_cetr_due_on)),
    Item("Planned discharge date", lambda a: _iso(a.planned_discharge_on)),
    Item("Patient objects to sharing identifiable data", lambda a: _yes_no(a.person.at_objection)),
]

# AT items the register does not hold (docs/assuring-transformation.md).
NOT_HELD = [
    "Where the person was admitted from (source of admission)",
    "Hospital bed type (learning disability or mental health bed; specialised or not)",
    "Commissioner type (ICB, NHS England specialised commissioning, provider collaborative)",
    "Delayed discharge, and the reason for the delay",
    "Discharge or transfer destination, and the planned destination",
    "Distance from home to the hospital",
    "Whether the person has a care coordinator and a discharge plan",
    "Whether the person has had a Care and Treatment Review in the last six or twelve months "
    "(derived by the collection; the register gives the dates)",
]


def inpatients_for(user: Any) -> QuerySet[Admission]:
    """The open admissions (people rated Blue) in the user's areas, with what the extract needs
    beyond the admission and its person: whether they were on the register before the day of
    admission, and their latest C(E)TR held and the next one due. One query."""
    before = RegisterEntry.objects.filter(
        person=OuterRef("person"), opened_on__lt=OuterRef("admitted_on")
    )
    held = Cetr.objects.filter(person=OuterRef("person"), status=Cetr.Status.COMPLETED)
    next_due = (
        Cetr.objects.filter(person=OuterRef("person"), status=Cetr.Status.COMPLETED)
        .exclude(next_due_on__isnull=True)
        .order_by("-held_on", "-id")
        .values("next_due_on")[:1]
    )
    return (
        Admission.objects.filter(
            Q(discharged_on__isnull=True),
            person__local_authority__in=local_authority_ids_for(user),
        )
        .select_related("person__local_authority", "person__responsible_icb")
        .annotate(
            known_before=Exists(before),
            last_cetr_on=Subquery(
                held.values("person").annotate(last=Max("held_on")).values("last")[:1]
            ),
            next_cetr_due_on=Subquery(next_due),
        )
        .order_by("hospital_ods_code", "admitted_on", "id")
    )


def at_row(admission: Admission) -> list[str]:
    """The AT items of one inpatient, in ITEMS order; identifiers blank for an objection."""
    objects = admission.person.at_objection
    return [
        WITHHELD_FOR_OBJECTION if item.identifier and objects else item.value(admission)
        for item in ITEMS
    ]


def at_header() -> list[str]:
    return [item.name for item in ITEMS]
