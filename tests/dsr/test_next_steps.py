"""Required next steps (DOMAIN rules 6, 7, 8, 15 and the review cadence)."""

from datetime import date, timedelta

import pytest
import time_machine

from dsr.models import RAG, Admission, Consent, PersonContact
from dsr.queries import person_page
from dsr.services import (
    admission_record,
    cetr_exception_record,
    consent_record,
    keyworker_referral_record,
    rating_change,
)
from tests.dsr.factories import PersonFactory, UserFactory, on_register

pytestmark = pytest.mark.django_db


def steps(person, today):
    return {step.kind: step for step in person_page(person, today).next_steps}


@pytest.fixture
def staff(db):
    return UserFactory()


def test_red_needs_a_community_cetr_or_a_recorded_exception(staff, frozen_now):
    person = PersonFactory(date_of_birth=date(1980, 1, 1))
    entry = on_register(person, by=staff, opened_on=date(2026, 3, 1))
    rating_change(entry=entry, rating=RAG.RED, rationale="Crisis.", by=staff)
    today = date(2026, 3, 10)
    assert "community CTR" in steps(person, today)["community_cetr"].text

    cetr_exception_record(
        person=person, meeting_kind="blue_light", held_on=today, reason="No panel free.", by=staff
    )

    assert "community_cetr" not in steps(person, today)


def test_an_exception_from_an_earlier_red_spell_does_not_count(staff, frozen_now):
    person = PersonFactory(date_of_birth=date(1980, 1, 1))
    entry = on_register(person, by=staff, opened_on=date(2026, 3, 1), rating=RAG.RED)
    cetr_exception_record(
        person=person, meeting_kind="laep", held_on=date(2026, 3, 2), reason="x", by=staff
    )
    rating_change(
        entry=entry,
        rating=RAG.GREEN,
        rationale="Settled.",
        by=staff,
        effective_from=date(2026, 3, 5),
    )
    rating_change(entry=entry, rating=RAG.RED, rationale="Crisis again.", by=staff)

    assert "community_cetr" in steps(person, date(2026, 3, 10))


@pytest.mark.parametrize(
    ("born", "rating", "expected"),
    [
        (date(2001, 3, 11), RAG.AMBER, True),  # 24 on 10 March 2026
        (date(2000, 3, 11), RAG.RED, True),  # 25: still within 0 to 25
        (date(2000, 3, 10), RAG.RED, False),  # 26 today
        (date(2010, 1, 1), RAG.GREEN, False),  # green needs no key worker referral
    ],
)
def test_red_or_amber_up_to_25_needs_a_key_worker_referral(
    staff, frozen_now, born, rating, expected
):
    person = PersonFactory(date_of_birth=born)
    on_register(person, by=staff, opened_on=date(2026, 3, 1), rating=rating)

    assert ("keyworker_referral" in steps(person, date(2026, 3, 10))) is expected


def test_a_key_worker_or_a_referral_satisfies_the_key_worker_step(staff, frozen_now):
    person = PersonFactory(date_of_birth=date(2005, 6, 1))
    on_register(person, by=staff, opened_on=date(2026, 3, 1), rating=RAG.AMBER)
    today = date(2026, 3, 10)
    assert "keyworker_referral" in steps(person, today)

    keyworker_referral_record(person=person, referred_on=today, by=staff)
    assert "keyworker_referral" not in steps(person, today)

    other = PersonFactory(date_of_birth=date(2005, 6, 1))
    on_register(other, by=staff, opened_on=date(2026, 3, 1), rating=RAG.AMBER)
    PersonContact.objects.create(person=other, role="key_worker", name="Jo Key")
    assert "keyworker_referral" not in steps(other, today)


def _admit(person, staff, on, *, community_cetr):
    return admission_record(
        person=person,
        hospital_name="Hospital",
        hospital_ods_code="RMY01",
        cqc_rating=Admission.CqcRating.GOOD,
        admitted_on=on,
        ward_security=Admission.WardSecurity.GENERAL,
        community_cetr_before_admission=community_cetr,
        by=staff,
    )


@time_machine.travel("2026-12-30 12:00:00+00:00", tick=False)
def test_a_child_admitted_without_a_community_cetr_needs_one_in_10_working_days(staff):
    person = PersonFactory(date_of_birth=date(2012, 5, 5))
    on_register(person, by=staff, opened_on=date(2026, 12, 1), rating=RAG.RED)

    _admit(person, staff, date(2026, 12, 21), community_cetr=False)

    step = steps(person, date(2026, 12, 30))["post_admission_cetr"]
    # Working days after Monday 21 December 2026: 22, 23, 24 (25 Christmas, 26-27 weekend,
    # 28 Boxing Day substitute), 29, 30, 31 (1 January bank holiday, 2-3 weekend), 4, 5, 6, 7.
    assert step.due == date(2027, 1, 7)
    assert "post-admission CETR" in step.text
    assert not step.overdue


@time_machine.travel("2026-12-30 12:00:00+00:00", tick=False)
def test_an_adult_admitted_without_a_community_ctr_needs_one_in_28_days(staff):
    person = PersonFactory(date_of_birth=date(1990, 5, 5))
    on_register(person, by=staff, opened_on=date(2026, 11, 1), rating=RAG.RED)

    _admit(person, staff, date(2026, 11, 20), community_cetr=False)

    step = steps(person, date(2026, 12, 30))["post_admission_cetr"]
    assert step.due == date(2026, 12, 18)
    assert step.overdue


@time_machine.travel("2026-12-30 12:00:00+00:00", tick=False)
def test_no_post_admission_cetr_when_a_community_one_came_first(staff):
    person = PersonFactory(date_of_birth=date(2012, 5, 5))
    on_register(person, by=staff, opened_on=date(2026, 12, 1), rating=RAG.RED)

    _admit(person, staff, date(2026, 12, 21), community_cetr=True)

    found = steps(person, date(2026, 12, 30))
    assert "post_admission_cetr" not in found
    assert found["inpatient_cetr"].due == date(2027, 3, 21)  # a child: every 3 months


def test_consent_review_and_rating_review_are_due_on_their_dates(staff, frozen_now):
    person = PersonFactory(date_of_birth=date(1990, 5, 5))
    on_register(person, by=staff, opened_on=date(2026, 2, 1), rating=RAG.AMBER)

    found = steps(person, date(2026, 3, 10))

    assert found["consent_review"].due == date(2027, 2, 1)
    assert found["rating_review"].due == date(2026, 2, 15)
    assert found["rating_review"].overdue


def test_consent_is_reassessed_at_16_and_renewed_at_18(staff):
    person = PersonFactory(date_of_birth=date(2010, 3, 1))
    with time_machine.travel("2025-06-01 12:00:00+00:00", tick=False):
        consent_record(
            person=person, basis=Consent.Basis.GILLICK, given_on=date(2025, 6, 1), by=staff
        )
        from dsr.services import register_open

        register_open(person=person, rating=RAG.GREEN, rationale="x", by=staff)

    with time_machine.travel("2026-03-02 12:00:00+00:00", tick=False):
        found = steps(person, date(2026, 3, 2))
    assert found["consent_at_16"].due == date(2026, 3, 1)
    assert "consent_at_18" not in found

    day_before = date(2028, 2, 29)
    assert "consent_at_18" not in steps(person, day_before)
    assert steps(person, day_before + timedelta(days=1))["consent_at_18"].due == date(2028, 3, 1)


def test_no_next_steps_off_the_register(staff, frozen_now):
    person = PersonFactory()

    assert person_page(person, date(2026, 3, 10)).next_steps == []
