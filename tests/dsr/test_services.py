"""The register's rules, each enforced in a service and each tested failing without it."""

import threading
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from dsr.models import RAG, Admission, Consent, Person, Rating, RegisterEntry
from dsr.services import (
    RegisterError,
    admission_discharge,
    admission_record,
    cetr_exception_record,
    consent_record,
    consent_withdraw,
    rating_change,
    register_close,
    register_open,
)
from tests.dsr.factories import PersonFactory, UserFactory, on_register

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 10)  # the frozen_now fixture's London date


@pytest.fixture
def staff(db):
    return UserFactory()


@pytest.fixture
def person(db):
    return PersonFactory()


def admit(person, by, *, on=date(2026, 3, 2), community_cetr=False, **more):
    return admission_record(
        person=person,
        hospital_name="Hellesdon Hospital",
        hospital_ods_code="RMY01",
        cqc_rating=Admission.CqcRating.GOOD,
        admitted_on=on,
        ward_security=Admission.WardSecurity.GENERAL,
        community_cetr_before_admission=community_cetr,
        by=by,
        **more,
    )


# --- Rule 1: no entry without a consent basis -------------------------------------------------


def test_no_one_goes_on_the_register_without_a_consent_basis(person, staff, frozen_now):
    with pytest.raises(RegisterError, match="Record a consent basis before adding this person"):
        register_open(person=person, rating=RAG.AMBER, rationale="Crisis at home.", by=staff)

    assert not RegisterEntry.objects.exists()


def test_with_consent_the_person_goes_on_with_their_first_rating(person, staff, frozen_now):
    consent_record(person=person, basis=Consent.Basis.OWN_CONSENT, given_on=TODAY, by=staff)

    entry = register_open(person=person, rating=RAG.AMBER, rationale="Crisis at home.", by=staff)

    assert entry.is_open and entry.rating == RAG.AMBER and entry.rating_since == TODAY
    assert entry.consent.basis == Consent.Basis.OWN_CONSENT
    assert entry.rating_review_due == TODAY + timedelta(days=14)
    row = Rating.objects.get(entry=entry)
    assert (row.previous_rating, row.rating, row.set_by) == ("", RAG.AMBER, staff)


def test_the_database_refuses_an_open_entry_without_consent(person, staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        RegisterEntry.objects.create(
            person=person, opened_on=TODAY, opened_by=staff, rating=RAG.RED, rating_since=TODAY
        )


def test_a_best_interests_decision_needs_its_decision_maker_and_assessment(
    person, staff, frozen_now
):
    with pytest.raises(RegisterError, match="needs the decision maker and the date capacity"):
        consent_record(person=person, basis=Consent.Basis.BEST_INTERESTS, given_on=TODAY, by=staff)

    consent = consent_record(
        person=person,
        basis=Consent.Basis.BEST_INTERESTS,
        given_on=TODAY,
        decision_maker="Dr A Patel",
        capacity_assessed_on=TODAY - timedelta(days=3),
        by=staff,
    )
    assert consent.review_due == date(2027, 3, 10)


@pytest.mark.parametrize(
    ("age", "basis", "allowed"),
    [
        (15, Consent.Basis.GILLICK, True),
        (16, Consent.Basis.GILLICK, False),
        (17, Consent.Basis.PARENTAL_RESPONSIBILITY, True),
        (18, Consent.Basis.PARENTAL_RESPONSIBILITY, False),
        (15, Consent.Basis.OWN_CONSENT, False),
        (16, Consent.Basis.OWN_CONSENT, True),
    ],
)
def test_consent_bases_follow_the_age_rules(staff, frozen_now, age, basis, allowed):
    person = PersonFactory(date_of_birth=date(2026 - age, 1, 1))

    if allowed:
        consent_record(person=person, basis=basis, given_on=TODAY, by=staff)
        assert Consent.objects.filter(person=person, basis=basis).exists()
    else:
        with pytest.raises(RegisterError):
            consent_record(person=person, basis=basis, given_on=TODAY, by=staff)
        assert not Consent.objects.filter(person=person).exists()


def test_recording_consent_again_renews_it_and_the_entry_follows(person, staff, frozen_now):
    entry = on_register(person, by=staff)
    first = entry.consent

    second = consent_record(
        person=person, basis=Consent.Basis.OWN_CONSENT, given_on=TODAY, by=staff
    )

    first.refresh_from_db()
    entry.refresh_from_db()
    assert first.end_reason == Consent.EndReason.RENEWED and first.ended_on == TODAY
    assert entry.consent == second
    assert Consent.objects.filter(person=person, ended_on__isnull=True).count() == 1


# --- Rule 16: withdrawal closes the entry -----------------------------------------------------


def test_withdrawing_consent_closes_the_entry(person, staff, frozen_now):
    entry = on_register(person, by=staff)

    consent_withdraw(person=person, withdrawn_on=TODAY, note="Told us by phone.", by=staff)

    entry.refresh_from_db()
    assert entry.status == RegisterEntry.Status.CLOSED
    assert entry.closure_reason == RegisterEntry.ClosureReason.CONSENT_WITHDRAWN
    assert entry.closed_by == staff
    assert Consent.objects.get(person=person).end_reason == Consent.EndReason.WITHDRAWN


def test_closing_for_withdrawn_consent_must_go_through_the_withdrawal(person, staff, frozen_now):
    entry = on_register(person, by=staff)

    with pytest.raises(RegisterError, match="Record the withdrawal of consent instead"):
        register_close(entry=entry, reason="consent_withdrawn", by=staff)

    entry.refresh_from_db()
    assert entry.is_open


# --- One open entry per person ----------------------------------------------------------------


def test_a_second_open_entry_is_refused(person, staff, frozen_now):
    on_register(person, by=staff)

    with pytest.raises(RegisterError, match="already on the register"):
        register_open(person=person, rating=RAG.RED, rationale="Again.", by=staff)

    assert RegisterEntry.objects.filter(person=person).count() == 1


def test_the_database_refuses_a_second_open_entry(person, staff, frozen_now):
    entry = on_register(person, by=staff)

    with pytest.raises(IntegrityError), transaction.atomic():
        RegisterEntry.objects.create(
            person=person,
            opened_on=TODAY,
            opened_by=staff,
            consent=entry.consent,
            rating=RAG.RED,
            rating_since=TODAY,
        )


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_open_one_entry_only():
    staff = UserFactory()
    person = PersonFactory()
    consent_record(person=person, basis=Consent.Basis.OWN_CONSENT, given_on=TODAY, by=staff)
    barrier = threading.Barrier(2)
    outcomes = []

    def open_entry():
        try:
            barrier.wait()
            register_open(person=person, rating=RAG.RED, rationale="At risk.", by=staff)
            outcomes.append("opened")
        except RegisterError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=open_entry) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["opened", "refused"]
    assert RegisterEntry.objects.filter(person=person, status="open").count() == 1


# --- Rule 4: one current rating, with a rationale, history append-only ------------------------


def test_a_rating_needs_a_rationale(person, staff, frozen_now):
    entry = on_register(person, by=staff)

    with pytest.raises(RegisterError, match="Give the reason for this rating."):
        rating_change(entry=entry, rating=RAG.RED, rationale="   ", by=staff)

    entry.refresh_from_db()
    assert entry.rating == RAG.GREEN
    assert Rating.objects.filter(entry=entry).count() == 1


def test_the_database_refuses_a_rating_without_rationale(person, staff, frozen_now):
    entry = on_register(person, by=staff)

    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(
            entry=entry, rating=RAG.RED, effective_from=TODAY, rationale="", set_by=staff
        )


def test_each_change_appends_a_row_and_the_entry_shows_the_latest(person, staff, frozen_now):
    entry = on_register(person, by=staff, opened_on=date(2026, 2, 1))
    rating_change(entry=entry, rating=RAG.AMBER, rationale="Placement wobbling.", by=staff)
    frozen_now.shift(timedelta(days=3))
    rating_change(entry=entry, rating=RAG.AMBER, rationale="Reviewed: still amber.", by=staff)

    entry.refresh_from_db()
    rows = list(Rating.objects.filter(entry=entry).order_by("id"))
    assert [(r.previous_rating, r.rating) for r in rows] == [
        ("", RAG.GREEN),
        (RAG.GREEN, RAG.AMBER),
        (RAG.AMBER, RAG.AMBER),
    ]
    assert rows[-1].is_confirmation
    assert entry.rating == RAG.AMBER
    assert entry.rating_since == TODAY  # a confirmation does not restart the rating
    assert entry.rating_review_due == TODAY + timedelta(days=3 + 14)


def test_a_rating_cannot_start_before_the_current_one_or_in_the_future(person, staff, frozen_now):
    entry = on_register(person, by=staff, opened_on=date(2026, 3, 1))

    with pytest.raises(RegisterError, match="cannot start before the current one"):
        rating_change(
            entry=entry, rating=RAG.RED, rationale="x", effective_from=date(2026, 2, 1), by=staff
        )
    with pytest.raises(RegisterError, match="cannot start in the future"):
        rating_change(
            entry=entry,
            rating=RAG.RED,
            rationale="x",
            effective_from=TODAY + timedelta(days=1),
            by=staff,
        )


# --- Rule 5: Blue only while admitted ---------------------------------------------------------


def test_blue_needs_an_admission(person, staff, frozen_now):
    entry = on_register(person, by=staff)

    with pytest.raises(RegisterError, match="record the admission"):
        rating_change(entry=entry, rating=RAG.BLUE, rationale="In hospital.", by=staff)
    other = PersonFactory()
    consent_record(person=other, basis=Consent.Basis.OWN_CONSENT, given_on=TODAY, by=staff)
    with pytest.raises(RegisterError, match="record the admission first"):
        register_open(person=other, rating=RAG.BLUE, rationale="x", by=staff)

    entry.refresh_from_db()
    assert entry.rating == RAG.GREEN


def test_an_admission_makes_the_rating_blue(person, staff, frozen_now):
    entry = on_register(person, by=staff, opened_on=date(2026, 2, 1))

    admit(person, staff)

    entry.refresh_from_db()
    assert entry.rating == RAG.BLUE
    assert entry.rating_review_due is None
    assert "Admitted to Hellesdon Hospital" in Rating.objects.filter(entry=entry).first().rationale


def test_while_in_hospital_the_rating_cannot_leave_blue(person, staff, frozen_now):
    entry = on_register(person, by=staff, opened_on=date(2026, 2, 1))
    admit(person, staff)

    with pytest.raises(RegisterError, match="record their discharge"):
        rating_change(entry=entry, rating=RAG.GREEN, rationale="Better.", by=staff)


def test_discharge_is_red_by_default(person, staff, frozen_now):
    entry = on_register(person, by=staff, opened_on=date(2026, 2, 1))
    admission = admit(person, staff)

    row = admission_discharge(admission=admission, discharged_on=TODAY, by=staff)

    entry.refresh_from_db()
    assert row.rating == entry.rating == RAG.RED
    assert "red until at least 24 March 2026" in row.rationale
    assert "recent_discharge" in row.risk_factors


def test_discharge_to_another_rating_needs_a_rationale(person, staff, frozen_now):
    entry = on_register(person, by=staff, opened_on=date(2026, 2, 1))
    admission = admit(person, staff)

    with pytest.raises(RegisterError, match="Give the reason for not rating red"):
        admission_discharge(admission=admission, discharged_on=TODAY, rating=RAG.AMBER, by=staff)

    admission.refresh_from_db()
    entry.refresh_from_db()
    assert admission.is_open and entry.rating == RAG.BLUE

    admission_discharge(
        admission=admission,
        discharged_on=TODAY,
        rating=RAG.AMBER,
        rationale="Step-down placement with full support in place.",
        by=staff,
    )
    entry.refresh_from_db()
    assert entry.rating == RAG.AMBER


def test_discharge_cannot_be_to_blue(person, staff, frozen_now):
    on_register(person, by=staff, opened_on=date(2026, 2, 1))
    admission = admit(person, staff)

    with pytest.raises(RegisterError, match="red, amber or green"):
        admission_discharge(
            admission=admission, discharged_on=TODAY, rating=RAG.BLUE, rationale="x", by=staff
        )


def test_an_admission_needs_the_person_on_the_register_unless_it_opens_their_entry(
    person, staff, frozen_now
):
    with pytest.raises(RegisterError, match="Add this person to the register"):
        admit(person, staff)
    consent_record(person=person, basis=Consent.Basis.OWN_CONSENT, given_on=TODAY, by=staff)

    # Already in hospital when put on the register (a register brought across): the entry opens
    # on its own day, rated Blue from the later of that day and the admission.
    admission = admit(person, staff, on=date(2026, 2, 20), register_opened_on=date(2026, 3, 1))

    entry = RegisterEntry.objects.get(person=person)
    assert (entry.opened_on, entry.rating, entry.rating_since) == (
        date(2026, 3, 1),
        RAG.BLUE,
        date(2026, 3, 1),
    )
    assert admission.admitted_on == date(2026, 2, 20)
    # Its one rating: the one before the admission is not known, so none is invented.
    ratings = Rating.objects.filter(entry=entry)
    assert [(r.previous_rating, r.rating) for r in ratings] == [("", RAG.BLUE)]
    assert ratings[0].rationale == "Admitted to Hellesdon Hospital on 20 February 2026."
    with pytest.raises(RegisterError, match="already on the register"):
        admit(person, staff, register_opened_on=date(2026, 3, 1))


def test_one_open_admission_at_a_time(person, staff, frozen_now):
    on_register(person, by=staff, opened_on=date(2026, 2, 1))
    admit(person, staff)

    with pytest.raises(RegisterError, match="already has an open admission"):
        admit(person, staff)


# --- History -----------------------------------------------------------------------------------


def test_every_change_is_in_the_history_with_the_user(person, staff, frozen_now):
    entry = on_register(person, by=staff)
    rating_change(entry=entry, rating=RAG.RED, rationale="Crisis.", by=staff)

    latest = entry.history.first()
    assert latest.rating == RAG.RED
    assert latest.history_user_id == staff.pk
    assert latest.history_actor_email == staff.email
    assert latest.history_change_reason == "Rated red"
    assert Person.history.filter(id=person.pk).exists()


# --- Edge cases found in review ----------------------------------------------------------------


def test_no_best_interests_decision_under_16(staff, frozen_now):
    child = PersonFactory(date_of_birth=date(2016, 1, 1))

    with pytest.raises(RegisterError, match="Mental Capacity Act applies from 16"):
        consent_record(
            person=child,
            basis=Consent.Basis.BEST_INTERESTS,
            given_on=TODAY,
            decision_maker="Dr A",
            capacity_assessed_on=TODAY,
            by=staff,
        )


def test_consent_dated_before_birth_is_refused_not_a_crash(staff, frozen_now):
    person = PersonFactory(date_of_birth=date(2020, 5, 5))

    with pytest.raises(RegisterError, match="after the date of birth"):
        consent_record(
            person=person,
            basis=Consent.Basis.PARENTAL_RESPONSIBILITY,
            given_on=date(2019, 1, 1),
            by=staff,
        )


def test_parental_consent_is_due_for_review_at_18(staff, frozen_now):
    person = PersonFactory(date_of_birth=date(2008, 6, 1))

    consent = consent_record(
        person=person, basis=Consent.Basis.PARENTAL_RESPONSIBILITY, given_on=TODAY, by=staff
    )

    assert consent.review_due == date(2026, 6, 1)


def test_an_admission_cannot_predate_joining_the_register(person, staff, frozen_now):
    on_register(person, by=staff, opened_on=date(2026, 3, 1))

    with pytest.raises(RegisterError, match="cannot be before the person joined the register"):
        admit(person, staff, on=date(2020, 1, 1))

    assert not Admission.objects.exists()


def test_the_rating_stays_red_after_discharge_unless_stepped_down_early(person, staff, frozen_now):
    entry = on_register(person, by=staff, opened_on=date(2026, 2, 1))
    admission_discharge(admission=admit(person, staff), discharged_on=TODAY, by=staff)
    frozen_now.shift(timedelta(days=1))

    with pytest.raises(RegisterError, match="stays red until 24 March 2026"):
        rating_change(entry=entry, rating=RAG.GREEN, rationale="Settled.", by=staff)
    rating_change(
        entry=entry,
        rating=RAG.AMBER,
        rationale="Settled quickly with a full package of support.",
        early_step_down=True,
        by=staff,
    )

    entry.refresh_from_db()
    assert entry.rating == RAG.AMBER


def test_closing_while_in_hospital_is_refused_unless_the_person_died(person, staff, frozen_now):
    entry = on_register(person, by=staff, opened_on=date(2026, 2, 1))
    admission = admit(person, staff)

    with pytest.raises(RegisterError, match="record their discharge first"):
        register_close(entry=entry, reason="moved_area", by=staff)
    register_close(entry=entry, reason="died", by=staff)

    admission.refresh_from_db()
    assert admission.discharged_on == TODAY
    entry.refresh_from_db()
    assert entry.status == RegisterEntry.Status.CLOSED


def test_a_discharge_after_consent_was_withdrawn_in_hospital_still_records(
    person, staff, frozen_now
):
    on_register(person, by=staff, opened_on=date(2026, 2, 1))
    admission = admit(person, staff)
    consent_withdraw(person=person, withdrawn_on=TODAY, note="Family asked.", by=staff)

    assert admission_discharge(admission=admission, discharged_on=TODAY, by=staff) is None

    admission.refresh_from_db()
    assert admission.discharged_on == TODAY


def test_withdrawal_cannot_predate_joining_the_register(person, staff, frozen_now):
    consent_record(
        person=person, basis=Consent.Basis.OWN_CONSENT, given_on=date(2026, 1, 10), by=staff
    )
    register_open(
        person=person, rating=RAG.GREEN, rationale="x", opened_on=date(2026, 3, 1), by=staff
    )

    with pytest.raises(RegisterError, match="cannot be before the person joined the register"):
        consent_withdraw(person=person, withdrawn_on=date(2026, 2, 1), note="x", by=staff)


def test_an_exception_is_only_for_someone_rated_red(person, staff, frozen_now):
    on_register(person, by=staff, rating=RAG.GREEN)

    with pytest.raises(RegisterError, match="rated red"):
        cetr_exception_record(
            person=person, meeting_kind="laep", held_on=TODAY, reason="x", by=staff
        )
