"""Referral rules in the services: receipt and the four-week clock, duplicates, the transition
table, the review, decisions and the outcome owed to everyone (DOMAIN.md 3 to 5)."""

import itertools
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from dsr.models import RAG, Notification, Person, RegisterEntry
from referrals.models import Referral, ReferralContact, ReferralTransition
from referrals.recipients import outcome_recipients
from referrals.services import (
    InvalidTransition,
    RegisterError,
    referral_contact_override,
    referral_decide,
    referral_record_review,
    referral_request_information,
    referral_submit,
    referral_transition,
)
from tests.dsr.factories import UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def submit(areas=None, *, contacts=None, token=None, **changes):
    fields = {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": date(1990, 12, 10),
        "nhs_number": "9434765919",
        "local_authority": areas["north"] if areas else None,
        "diagnosis": "autism",
        "diagnosis_status": "confirmed",
        "risks": "Placement close to breaking down.",
        "referrer_name": "Dr Sam Reid",
        "referrer_role": "Community nurse",
        "referrer_email": "sam.reid@nhs.example",
        "consent_to_referral": True,
        "consent_to_share": True,
        "consent_basis": "own_consent",
    }
    kind = changes.pop("referrer_kind", "professional")
    fields.update(changes)
    if contacts is None:
        contacts = [
            {
                "role": "person",
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "address": "1 High Street\nNorwich\nNR1 2DH",
            }
        ]
    return referral_submit(
        fields=fields,
        contacts=contacts,
        source="online",
        referrer_kind=kind,
        submission_token=token or uuid.uuid4(),
    )


@pytest.fixture
def staff(organisations):
    return UserFactory(organisation=organisations["icb"])


def reviewed(referral, staff):
    return referral_record_review(
        referral,
        held_on=referral.received_at.astimezone(LONDON).date(),
        education_participant="Jo from SEND",
        social_care_absent_reason="Adult social care had nobody free; sent written views.",
        by=staff,
    )


# --- Receipt ------------------------------------------------------------------------------------


def test_a_referral_is_due_28_days_after_it_arrived_in_london_time(areas, frozen_now):
    # 23:30 on 31 March 2026 in UTC is 00:30 on 1 April in London (summer time).
    frozen_now.move_to(datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo("UTC")))

    referral = submit(areas)

    assert referral.decision_due == date(2026, 4, 29)
    assert referral.reference.startswith("DSR-2026-")
    transition = ReferralTransition.objects.get(referral=referral)
    assert (transition.from_status, transition.to_status) == ("", "received")


def test_references_are_not_row_numbers(areas):
    references = {submit(areas, nhs_number="", given_name=f"P{i}").reference for i in range(5)}

    numbers = sorted(int(ref.rsplit("-", 1)[1]) for ref in references)
    assert len(references) == 5
    assert numbers != list(range(numbers[0], numbers[0] + 5))


def test_the_same_submission_twice_makes_one_referral(areas):
    token = uuid.uuid4()

    first = submit(areas, token=token)
    second = submit(areas, token=token)

    assert first == second
    assert Referral.objects.count() == 1
    assert ReferralContact.objects.count() == 1


def test_a_second_live_referral_for_the_same_person_is_linked_to_the_first(areas):
    first = submit(areas)
    by_number = submit(areas, given_name="Adah")  # same NHS number
    by_name = submit(areas, nhs_number="")  # same name and date of birth

    assert by_number.duplicate_of == first
    assert by_name.duplicate_of == first


def test_a_referral_after_a_decided_one_is_not_a_duplicate(areas, staff, frozen_now):
    first = reviewed(submit(areas), staff)
    referral_decide(
        first, decision="not_eligible", reason="No diagnosis yet.", signposting="GP.", by=staff
    )

    again = submit(areas)

    assert again.duplicate_of is None


# --- The transition table (RELIABILITY H-3) ------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "to"), list(itertools.product(Referral.Status.values, Referral.Status.values))
)
def test_only_the_moves_in_the_table_succeed(areas, staff, start, to):
    referral = submit(areas)
    # Decided states must be complete (the database checks it), so fill what they need.
    Referral.objects.filter(pk=referral.pk).update(
        status=start,
        initial_rating="GREEN",
        ineligible_reason="Reason.",
        signposting="Help.",
        withdrawn_reason="Reason.",
        more_info_request="The latest care plan.",
        decided_at=referral.received_at,
        decided_by=staff,
        review_held_on=date(2026, 1, 1),
    )
    referral.refresh_from_db()
    before = ReferralTransition.objects.count()
    allowed = to in Referral.ALLOWED_TRANSITIONS[start]

    if start == to:
        with transaction.atomic():
            referral_transition(referral, to=to, by=staff)
        assert ReferralTransition.objects.count() == before  # already there: nothing to do
    elif allowed:
        with transaction.atomic():
            referral_transition(referral, to=to, by=staff)
        assert Referral.objects.get(pk=referral.pk).status == to
        assert ReferralTransition.objects.count() == before + 1
    else:
        with pytest.raises(InvalidTransition), transaction.atomic():
            referral_transition(referral, to=to, by=staff)
        assert Referral.objects.get(pk=referral.pk).status == start
        assert ReferralTransition.objects.count() == before


def test_the_database_refuses_a_transition_row_the_table_does_not_allow(areas, staff):
    referral = submit(areas)

    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralTransition.objects.create(
            referral=referral, from_status="not_eligible", to_status="added", by=staff
        )


def test_asking_for_more_information_does_not_stop_the_clock(areas, staff, frozen_now):
    referral = submit(areas)
    due = referral.decision_due

    referral = referral_request_information(referral, request="Latest care plan.", by=staff)

    assert referral.status == Referral.Status.MORE_INFO
    assert referral.decision_due == due


# --- The review with education and social care ------------------------------------------------


def test_the_review_names_education_and_social_care_or_why_they_were_absent(
    areas, staff, frozen_now
):
    referral = submit(areas)

    with pytest.raises(RegisterError, match="from social care, or say why nobody could"):
        referral_record_review(
            referral, held_on=date(2026, 3, 10), education_participant="Jo", by=staff
        )

    referral.refresh_from_db()
    assert referral.review_held_on is None
    reviewed(referral, staff)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.UNDER_REVIEW


def test_no_decision_to_add_or_refuse_before_the_review(areas, staff, frozen_now):
    referral = submit(areas)

    with pytest.raises(RegisterError, match="Record the review with education and social care"):
        referral_decide(referral, decision="not_eligible", reason="x", signposting="y", by=staff)

    referral.refresh_from_db()
    assert referral.status == Referral.Status.RECEIVED
    assert not Notification.objects.filter(kind="referral_outcome").exists()


# --- Decisions and the outcome for everyone (rule 3) --------------------------------------------


def test_not_eligible_owes_every_recipient_the_reason_and_where_to_get_help(
    areas, staff, frozen_now
):
    referral = reviewed(submit(areas), staff)

    referral_decide(
        referral,
        decision="not_eligible",
        reason="There is no diagnosis of a learning disability or autism yet.",
        signposting="Ask your GP about an autism assessment. Call 111 in a crisis.",
        by=staff,
    )

    rows = Notification.objects.filter(
        subject_type="referrals.referral", subject_id=referral.pk, kind="referral_outcome"
    )
    contact = f"contact-{referral.contacts.get().pk}"
    # Emails never carry the reasons: the person, with a postal address, is also sent a letter.
    assert sorted((r.recipient_key, r.channel) for r in rows) == [
        (contact, "email"),
        (f"{contact}-letter", "letter"),
        ("referrer", "email"),
    ]
    by_key = {r.recipient_key: r for r in rows}
    assert by_key[contact].context["reasons_by_letter"] is True
    assert by_key["referrer"].context["reasons_by_letter"] is False
    for row in rows:
        assert row.kind == "referral_outcome"
        assert row.context["outcome"] == "not_eligible"
        assert row.context["reason"].startswith("There is no diagnosis")
        assert "Call 111" in row.context["signposting"]
        assert row.context["next_steps"]
        assert row.status == Notification.Status.PENDING
    referral.refresh_from_db()
    assert (referral.decided_by, referral.status) == (staff, "not_eligible")


def test_not_eligible_needs_a_reason_and_signposting(areas, staff, frozen_now):
    referral = reviewed(submit(areas), staff)

    with pytest.raises(RegisterError, match="Give the reason and where else"):
        referral_decide(referral, decision="not_eligible", reason="x", signposting="", by=staff)

    assert not Notification.objects.filter(kind="referral_outcome").exists()


def test_added_puts_the_person_on_the_register_with_the_referrals_consent(areas, staff, frozen_now):
    referral = reviewed(submit(areas), staff)

    referral = referral_decide(
        referral, decision="added", rating=RAG.AMBER, rationale="Placement wobbling.", by=staff
    )

    person = Person.objects.get(nhs_number="9434765919")
    entry = RegisterEntry.objects.get(person=person, status="open")
    assert referral.person == person
    assert entry.rating == RAG.AMBER
    assert entry.consent.basis == "own_consent"
    assert referral.reference in entry.ratings.get().rationale
    assert Notification.objects.filter(subject_id=referral.pk, kind="referral_outcome").count() == 2


def test_added_without_consent_is_refused_and_nothing_is_written(areas, staff, frozen_now):
    referral = reviewed(submit(areas, consent_to_referral=False), staff)

    with pytest.raises(RegisterError, match="Nobody goes on the register without consent"):
        referral_decide(referral, decision="added", rating=RAG.RED, rationale="x", by=staff)

    referral.refresh_from_db()
    assert referral.status == Referral.Status.UNDER_REVIEW
    assert not Person.objects.exists()
    assert not Notification.objects.filter(kind="referral_outcome").exists()


def test_added_cannot_rate_blue(areas, staff, frozen_now):
    referral = reviewed(submit(areas), staff)

    with pytest.raises(RegisterError, match="Blue follows an admission"):
        referral_decide(referral, decision="added", rating=RAG.BLUE, rationale="x", by=staff)

    assert not RegisterEntry.objects.exists()


def test_a_decided_referral_cannot_be_decided_again(areas, staff, frozen_now):
    referral = reviewed(submit(areas), staff)
    referral_decide(referral, decision="withdrawn", reason="The family asked to stop.", by=staff)

    with pytest.raises(InvalidTransition):
        referral_decide(referral, decision="not_eligible", reason="x", signposting="y", by=staff)

    assert Notification.objects.filter(kind="referral_outcome").count() == 2


# --- Who is told (DOMAIN 5) ---------------------------------------------------------------------


def _contacts_for(referral):
    return {
        r.key.split("-")[0] if r.key == "referrer" else r.role for r in outcome_recipients(referral)
    }


def test_a_child_under_16_is_told_through_those_with_parental_responsibility(areas, frozen_now):
    referral = submit(
        areas,
        date_of_birth=date(2014, 1, 1),
        consent_basis="parental_responsibility",
        contacts=[
            {"role": "person", "name": "Kid", "email": "kid@example.com"},
            {
                "role": "parent_carer",
                "name": "Mum",
                "email": "mum@example.com",
                "has_parental_responsibility": True,
            },
            {"role": "parent_carer", "name": "Step-dad", "email": "sd@example.com"},
        ],
    )

    names = {r.name for r in outcome_recipients(referral)}

    assert names == {"Mum", "Dr Sam Reid"}


def test_a_gillick_competent_child_is_told_themselves(areas, frozen_now):
    referral = submit(
        areas,
        date_of_birth=date(2012, 1, 1),
        consent_basis="gillick",
        contacts=[{"role": "person", "name": "Kid", "email": "kid@example.com"}],
    )

    assert "Kid" in {r.name for r in outcome_recipients(referral)}


def test_a_best_interests_representative_is_told_instead_of_the_person(areas, frozen_now):
    referral = submit(
        areas,
        consent_basis="best_interests",
        contacts=[
            {"role": "person", "name": "Ada", "email": "ada@example.com"},
            {"role": "representative", "name": "Advocate", "email": "adv@example.com"},
        ],
    )

    assert {r.name for r in outcome_recipients(referral)} == {"Advocate", "Dr Sam Reid"}


def test_a_family_referrer_is_told_only_when_the_person_agreed(areas, frozen_now):
    contacts = [{"role": "person", "name": "Ada", "email": "ada@example.com"}]
    silent = submit(
        areas, referrer_kind="family", referrer_email="aunt@example.com", contacts=contacts
    )
    agreed = submit(
        areas,
        referrer_kind="family",
        referrer_email="aunt2@example.com",
        outcome_to_referrer=True,
        contacts=contacts,
        nhs_number="",
        given_name="Bea",
    )

    assert {r.key for r in outcome_recipients(silent)} == {f"contact-{silent.contacts.get().pk}"}
    assert "referrer" in {r.key for r in outcome_recipients(agreed)}


def test_staff_can_take_someone_off_the_list_with_a_reason(areas, staff, frozen_now):
    referral = submit(areas)
    contact = referral.contacts.get()

    with pytest.raises(RegisterError, match="Give the reason"):
        referral_contact_override(contact, include=False, reason=" ", by=staff)
    referral_contact_override(contact, include=False, reason="Asked not to be contacted.", by=staff)

    assert {r.key for r in outcome_recipients(referral)} == {"referrer"}


def test_the_same_address_twice_is_told_once(areas, frozen_now):
    referral = submit(
        areas,
        referrer_kind="self",
        referrer_email="ada@example.com",
        outcome_to_referrer=True,
    )

    assert len(outcome_recipients(referral)) == 1


def test_easy_read_is_used_for_the_person_when_asked(areas, frozen_now):
    referral = submit(areas, accessible_formats=["easy_read"])

    person = next(r for r in outcome_recipients(referral) if r.role == "The person referred")
    assert person.accessible_format == "easy_read"
    assert person.channel == "email"


def test_a_letter_is_used_when_there_is_no_email_or_a_letter_is_preferred(areas, frozen_now):
    referral = submit(
        areas,
        contacts=[
            {"role": "person", "name": "Ada", "address": "1 High Street, Norwich NR1 2DH"},
            {
                "role": "other",
                "name": "Gran",
                "email": "gran@example.com",
                "address": "2 Low Road, Norwich NR2 4AB",
                "prefers_letter": True,
                "named_by_person": True,
            },
        ],
    )

    channels = {r.name: r.channel for r in outcome_recipients(referral)}
    assert channels == {"Ada": "letter", "Gran": "letter", "Dr Sam Reid": "email"}


def test_time_moves_on_the_due_date_does_not(areas, staff, frozen_now):
    referral = submit(areas)
    frozen_now.shift(timedelta(days=30))

    referral.refresh_from_db()
    assert referral.is_overdue()
    assert referral.days_left() == -2


def test_staff_can_set_the_area_the_referrer_did_not_know(areas, staff, frozen_now):
    from referrals.services import referral_set_area

    referral = submit(None)
    assert referral.local_authority is None

    referral_set_area(referral, local_authority=areas["south"], by=staff)

    referral.refresh_from_db()
    assert referral.local_authority == areas["south"]


# --- Found in review ---------------------------------------------------------------------------


def test_a_linked_duplicate_is_decided_with_the_first_and_its_people_told(areas, staff, frozen_now):
    first = reviewed(submit(areas), staff)
    second = submit(
        areas,
        referrer_name="Aunt Bea",
        referrer_kind="family",
        referrer_email="bea@example.com",
        outcome_to_referrer=True,
    )
    assert second.duplicate_of == first

    referral_decide(first, decision="not_eligible", reason="Low risk.", signposting="GP.", by=staff)

    second.refresh_from_db()
    assert second.status == "not_eligible"
    assert second.ineligible_reason == "Low risk."
    keys = set(
        Notification.objects.filter(subject_id=second.pk, kind="referral_outcome").values_list(
            "recipient_key", flat=True
        )
    )
    assert "referrer" in keys


def test_different_nhs_numbers_are_different_people_whatever_their_names(areas):
    first = submit(areas)
    other = submit(areas, nhs_number="9434765870")  # same name and birthday, another number

    assert other.duplicate_of is None
    assert first.duplicate_of is None


def test_a_person_with_no_contact_is_still_told_at_the_referral_address(areas, frozen_now):
    referral = submit(areas, address="1 High St, Norwich", postcode="NR1 2DH", contacts=[])

    person = next(r for r in outcome_recipients(referral) if r.key == "person")
    # The referral keeps the postcode apart from the address: the letter has both.
    assert (person.channel, person.address) == ("letter", "1 High St, Norwich\nNR1 2DH")


def test_people_sharing_a_home_are_each_told(areas, frozen_now):
    home = "1 High St, Norwich"
    referral = submit(
        areas,
        date_of_birth=date(2009, 6, 1),
        consent_basis="own_consent",
        contacts=[
            {"role": "person", "name": "Teen", "address": home},
            {
                "role": "parent_carer",
                "name": "Mum",
                "address": home,
                "has_parental_responsibility": True,
            },
        ],
    )

    assert {r.name for r in outcome_recipients(referral)} >= {"Teen", "Mum"}


@pytest.mark.parametrize("signed_in", [True, False])
def test_each_contact_saved_with_a_referral_has_its_history_row_naming_who_sent_it(
    areas, organisations, signed_in
):
    """The contacts are written together (one insert, one insert of their history rows), and
    each history row says what a save of its own would: who sent the referral, and why."""
    referrer = UserFactory(organisation=organisations["icb"]) if signed_in else None
    contacts = [
        {"role": "person", "name": "Ada Lovelace", "email": "ada@example.com"},
        {"role": "parent_carer", "name": "Jo Carer", "phone": "01632 960 001"},
    ]
    referral = referral_submit(
        fields={
            "given_name": "Ada",
            "family_name": "Lovelace",
            "date_of_birth": date(1990, 12, 10),
            "local_authority": areas["north"],
            "referrer_name": "Dr Sam Reid",
            "referrer_email": "sam.reid@nhs.example",
            "consent_to_referral": True,
            "consent_to_share": True,
            "consent_basis": "own_consent",
        },
        contacts=contacts,
        source="online",
        referrer_kind="professional",
        submission_token=uuid.uuid4(),
        submitted_by=referrer,
    )
    saved = list(referral.contacts.all())
    assert [(c.role, c.name) for c in saved] == [
        ("person", "Ada Lovelace"),
        ("parent_carer", "Jo Carer"),
    ]
    for contact in saved:
        [row] = contact.history.all()
        assert (row.history_type, row.history_change_reason) == ("+", "Referral received")
        assert row.history_user_id == (referrer.pk if referrer else None)
        assert row.history_actor_email == (referrer.email if referrer else "")
        assert (row.name, row.email, row.phone) == (contact.name, contact.email, contact.phone)
