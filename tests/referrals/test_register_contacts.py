"""What the referral knew, the register keeps: deciding "added to the register" makes the
referral's family, carers and professional referrer the person's contacts, once."""

import uuid
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from dsr.models import RAG, PersonContact
from dsr.roles import Role
from dsr.services import RegisterError, contacts_add
from referrals.models import Referral
from referrals.services import referral_decide, referral_record_review, referral_submit
from tests.dsr.factories import UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")

MUM = {
    "role": "parent_carer",
    "name": "Mary Lovelace",
    "relationship": "Mother",
    "email": "mary@example.com",
    "phone": "07700 900 111",
    "address": "1 High Street\nNorwich",
    "has_parental_responsibility": True,
}
ADVOCATE = {
    "role": "representative",
    "name": "Rob Advocate",
    "relationship": "IMCA",
    "phone": "01603 000 222",
}
FRIEND = {"role": "other", "name": "Fay Friend", "email": "fay@example.com"}


def submit(areas, *, contacts=(), **changes):
    fields = {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": date(1990, 12, 10),
        "nhs_number": "9434765919",
        "local_authority": areas["north"],
        "diagnosis": "autism",
        "diagnosis_status": "confirmed",
        "risks": "Placement close to breaking down.",
        "referrer_name": "Dr Sam Reid",
        "referrer_role": "Community learning disability nurse",
        "referrer_organisation": "Northshire Community Trust",
        "referrer_email": "sam.reid@nhs.example",
        "referrer_phone": "01603 000 333",
        "referrer_address": "Trust HQ\nNorwich",
        "consent_to_referral": True,
        "consent_to_share": True,
        "consent_basis": "own_consent",
    }
    kind = changes.pop("referrer_kind", "professional")
    fields.update(changes)
    person = {"role": "person", "name": "Ada Lovelace", "email": "ada@example.com"}
    return referral_submit(
        fields=fields,
        contacts=[person, *contacts],
        source="online",
        referrer_kind=kind,
        submission_token=uuid.uuid4(),
    )


@pytest.fixture
def staff(organisations):
    return UserFactory(organisation=organisations["icb"], roles=[Role.REGISTER_STAFF])


def add(referral, staff):
    reviewed = referral_record_review(
        referral,
        held_on=referral.received_at.astimezone(LONDON).date(),
        education_participant="Jo from SEND",
        social_care_participant="Kim from adult social care",
        by=staff,
    )
    return referral_decide(
        reviewed, decision="added", rating=RAG.AMBER, rationale="Placement wobbling.", by=staff
    )


def _rows(person):
    return {
        (c.role, c.name, c.organisation, c.relationship, c.phone, c.email, c.address)
        + (c.has_parental_responsibility,)
        for c in PersonContact.objects.filter(person=person)
    }


def test_added_makes_the_family_carers_and_referrer_the_persons_contacts(areas, staff, frozen_now):
    referral = add(submit(areas, contacts=[MUM, ADVOCATE, FRIEND]), staff)

    assert _rows(referral.person) == {
        (
            "parent_carer",
            "Mary Lovelace",
            "",
            "Mother",
            "07700 900 111",
            "mary@example.com",
            "1 High Street\nNorwich",
            True,
        ),
        ("representative", "Rob Advocate", "", "IMCA", "01603 000 222", "", "", False),
        ("other", "Fay Friend", "", "", "", "fay@example.com", "", False),
        (
            "referrer",
            "Dr Sam Reid",
            "Northshire Community Trust",
            "Community learning disability nurse",
            "01603 000 333",
            "sam.reid@nhs.example",
            "Trust HQ\nNorwich",
            False,
        ),
    }
    contact = PersonContact.objects.get(person=referral.person, role="parent_carer")
    assert contact.history.get().history_change_reason == f"From referral {referral.reference}"


def test_a_referral_not_added_gives_the_register_no_contacts(areas, staff, frozen_now):
    referral = submit(areas, contacts=[MUM])

    referral_decide(referral, decision="withdrawn", reason="The family asked to stop.", by=staff)

    assert not PersonContact.objects.exists()


def test_someone_referring_themselves_is_not_their_own_contact(areas, staff, frozen_now):
    referral = add(
        submit(areas, referrer_kind="self", referrer_name="Ada Lovelace", contacts=[FRIEND]), staff
    )

    assert {c.name for c in PersonContact.objects.filter(person=referral.person)} == {"Fay Friend"}


def test_a_family_referrer_is_kept_as_a_parent_or_carer_once(areas, staff, frozen_now):
    # Entered by staff from a phone call: the family member who rang is not a contact.
    by_phone = add(
        submit(
            areas,
            referrer_kind="family",
            referrer_name="Bea Lovelace",
            referrer_role="Aunt",
            referrer_organisation="",
            referrer_email="",
            referrer_phone="07700 900 444",
            referrer_address="",
        ),
        staff,
    )
    # Online: the public form also names them as a parent or carer, with parental
    # responsibility; the contact is the one kept.
    online = add(
        submit(
            areas,
            nhs_number="9434765870",
            referrer_kind="family",
            referrer_name="Mary Lovelace",
            referrer_role="Mother",
            referrer_organisation="",
            referrer_email="mary@example.com",
            referrer_phone="",
            referrer_address="",
            contacts=[MUM],
        ),
        staff,
    )

    assert _rows(by_phone.person) == {
        ("parent_carer", "Bea Lovelace", "", "Aunt", "07700 900 444", "", "", False)
    }
    assert [(c.name, c.has_parental_responsibility) for c in online.person.contacts.all()] == [
        ("Mary Lovelace", True)
    ]


def test_a_linked_duplicate_decided_with_it_gives_its_people_too(areas, staff, frozen_now):
    first = submit(areas, contacts=[MUM])
    second = submit(
        areas,
        referrer_kind="family",
        referrer_name="Bea Lovelace",
        referrer_email="bea@example.com",
        contacts=[
            {**MUM, "name": "mary  lovelace", "email": "", "phone": "07700900111"},
            {"role": "parent_carer", "name": "Bea Lovelace", "email": "bea@example.com"},
        ],
    )
    assert second.duplicate_of == first

    first = add(first, staff)

    second.refresh_from_db()
    assert second.status == Referral.Status.ADDED
    contacts = PersonContact.objects.filter(person=first.person)
    # Mum twice (same name, same phone) is kept once, and the family referrer, also a
    # contact, once.
    assert sorted((c.role, c.name) for c in contacts) == [
        ("parent_carer", "Bea Lovelace"),
        ("parent_carer", "Mary Lovelace"),
        ("referrer", "Dr Sam Reid"),
    ]


def test_a_person_referred_again_gets_no_contact_twice(areas, staff, frozen_now):
    first = add(submit(areas, contacts=[MUM, FRIEND]), staff)
    again = submit(
        areas,
        referrer_email="SAM.REID@nhs.example",
        contacts=[{**MUM, "email": "MARY@example.com", "phone": ""}, FRIEND, ADVOCATE],
    )
    assert again.duplicate_of is None

    again = add(again, staff)

    assert again.person == first.person
    names = sorted(PersonContact.objects.filter(person=first.person).values_list("name", flat=True))
    assert names == ["Dr Sam Reid", "Fay Friend", "Mary Lovelace", "Rob Advocate"]


def test_a_namesake_with_other_details_is_another_contact(areas, staff, frozen_now):
    first = add(submit(areas, contacts=[MUM]), staff)
    again = submit(areas, contacts=[{**MUM, "email": "m.l@example.com", "phone": "01603 999"}])

    add(again, staff)

    assert PersonContact.objects.filter(person=first.person, name="Mary Lovelace").count() == 2


def test_only_a_parent_or_carer_may_be_added_with_parental_responsibility(areas, staff, frozen_now):
    person = add(submit(areas), staff).person
    before = _rows(person)
    contacts = [
        PersonContact(role="other", name="New Friend", email="new@example.com"),
        PersonContact(
            role="representative",
            name="Rob Advocate",
            phone="01603 000 222",
            has_parental_responsibility=True,
        ),
    ]

    with pytest.raises(RegisterError, match="Only a parent or carer can have parental"):
        contacts_add(person=person, contacts=contacts, reason="Test", by=staff)

    assert _rows(person) == before
