"""People and meetings for the review tests, made through the real services."""

import datetime

import pytest
from django.utils import timezone

from dsr.models import Admission
from dsr.roles import Role
from dsr.services import admission_record
from tests.dsr.factories import PersonFactory, UserFactory, on_register


@pytest.fixture
def clerk(organisations):
    return UserFactory(organisation=organisations["icb"], roles=[Role.REGISTER_STAFF])


@pytest.fixture
def make_person(organisations, areas, clerk):
    """make_person("RED", area="north", opened_on=..., **person fields) -> a person on the
    register (a 30-year-old adult unless date_of_birth says otherwise)."""

    def make(rating="GREEN", *, area="north", opened_on=datetime.date(2026, 1, 5), **fields):
        person = PersonFactory(
            local_authority=areas[area], responsible_icb=organisations["icb"], **fields
        )
        on_register(person, rating=rating, by=clerk, opened_on=opened_on)
        return person

    return make


@pytest.fixture
def admit(clerk):
    def admit(person, on, *, community_cetr=False, secure=False):
        return admission_record(
            person=person,
            hospital_name="Riverside Hospital",
            hospital_ods_code="RMY01",
            cqc_rating=Admission.CqcRating.GOOD,
            admitted_on=on,
            ward_security=Admission.WardSecurity.MEDIUM
            if secure
            else Admission.WardSecurity.GENERAL,
            community_cetr_before_admission=community_cetr,
            by=clerk,
        )

    return admit


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    """An aware London date and time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
