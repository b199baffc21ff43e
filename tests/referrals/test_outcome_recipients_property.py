"""A-7 (hazard HZ-3): generated referrals, decided, and every outcome message checked against who
DOMAIN.md section 5 says is told, worked out here from the rule itself (never by calling the
production rule):

- the person, at 16 or over or a Gillick-competent child, unless a best-interests decision names
  a representative, who is told instead;
- every contact with parental responsibility while the person is under 18;
- any contact the person (or the best-interests decision) names;
- the referrer, when a professional or when the person agreed they may be told;
- staff's additions and removals (with a reason) stand over the rule;
- each in their format (the person's accessible format; a contact's preferred one) and by
  letter when they prefer one or have no email; someone listed twice is told once.

A decision that would tell nobody, or someone with no email or postal address, is refused and
writes no message at all.
"""

import os
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsr.models import Notification
from referrals.models import Referral
from referrals.services import (
    RegisterError,
    referral_decide,
    referral_record_review,
    referral_submit,
)
from tests.dsr.factories import UserFactory
from tests.figures import record

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("DSR_A7_EXAMPLES", "300"))
CASES = {"generated": 0, "misdirected": 0}
SEQUENCE = iter(range(10**9))
# The end of a postal address a letter can be sent to (dsr.nhsuk.validators.postcode_in).
POSTCODE = " NR1 2DH"


@dataclass(frozen=True)
class Contact:
    role: str  # person, parent_carer, representative, other
    name: str
    email: str
    address: str
    phone: str
    parental_responsibility: bool
    named: bool
    preferred_format: str
    prefers_letter: bool
    override: str  # "", "include" or "exclude"


@dataclass(frozen=True)
class Case:
    given_name: str
    family_name: str
    referrer_name: str
    age: int
    basis: str
    referrer_kind: str
    outcome_to_referrer: bool
    referrer_email: str
    referrer_address: str
    formats: tuple[str, ...]
    address: str
    contacts: tuple[Contact, ...]
    decision: str


def _bases(age: int) -> list[str]:
    """The consent bases DOMAIN 9 allows at this age."""
    if age < 16:
        return ["parental_responsibility", "gillick"]
    if age < 18:
        return ["own_consent", "best_interests", "parental_responsibility"]
    return ["own_consent", "best_interests"]


def _reach(draw, name: str) -> tuple[str, str, str]:
    """(email, address, phone): some way to reach them; sometimes only a phone number, or an
    address without the postcode a letter needs."""
    way = draw(st.sampled_from(["email", "address", "both", "phone", "no postcode"]))
    slug = name.lower().replace(" ", ".")
    email = f"{slug}@example.org" if way in ("email", "both") else ""
    address = {
        "address": f"{len(name)} {name} Road, Norwich{POSTCODE}",
        "both": f"{len(name)} {name} Road, Norwich{POSTCODE}",
        "no postcode": f"{len(name)} {name} Road, Norwich",
    }.get(way, "")
    return email, address, "01603 000000" if way in ("phone", "no postcode") else ""


@st.composite
def contacts(draw, role: str, name: str) -> Contact:
    email, address, phone = _reach(draw, name)
    return Contact(
        role=role,
        name=name,
        email=email,
        address=address,
        phone=phone,
        parental_responsibility=role == "parent_carer" and draw(st.booleans()),
        named=role in ("parent_carer", "other") and draw(st.booleans()),
        preferred_format=draw(st.sampled_from(["standard", "easy_read", "large_print"])),
        prefers_letter=draw(st.booleans()),
        override=draw(st.sampled_from(["", "", "", "include", "exclude"])),
    )


@st.composite
def cases(draw) -> Case:
    n = next(SEQUENCE)
    age = draw(st.sampled_from([8, 14, 15, 16, 17, 18, 30, 52]))
    basis = draw(st.sampled_from(_bases(age)))
    best_interests = basis == "best_interests"
    decision = draw(st.sampled_from(["added", "not_eligible", "withdrawn"]))
    if decision == "added" and best_interests:
        # Adding someone on a best-interests basis needs the decision maker, which a referral
        # does not carry: that decision is made on the register, not here.
        decision = draw(st.sampled_from(["not_eligible", "withdrawn"]))
    people: list[Contact] = []
    if draw(st.integers(0, 4)):  # mostly a contact for the person
        people.append(draw(contacts("person", f"Given{n} Family{n}")))
    for i in range(draw(st.integers(0, 2))):
        people.append(draw(contacts("parent_carer", f"Carer{n}x{i} Family{n}")))
    if best_interests and draw(st.booleans()):
        people.append(draw(contacts("representative", f"Rep{n} Advocate")))
    if draw(st.booleans()):
        people.append(draw(contacts("other", f"Other{n} Friend")))
    kind = draw(st.sampled_from(["professional", "self", "family"]))
    referrer_email, referrer_address = f"referrer{n}@nhs.example", ""
    if kind == "self":
        person = next((c for c in people if c.role == "person"), None)
        referrer_email = person.email if person and person.email else f"self{n}@example.org"
    elif kind == "family":
        carer = next((c for c in people if c.role == "parent_carer"), None)
        if carer and draw(st.booleans()):
            referrer_email, referrer_address = carer.email, carer.address
        elif draw(st.booleans()):
            referrer_email, referrer_address = "", f"{n} Family Street, Norwich{POSTCODE}"
    return Case(
        given_name=f"Given{n}",
        family_name=f"Family{n}",
        referrer_name=f"Referrer{n} Smith",
        age=age,
        basis=basis,
        referrer_kind=kind,
        outcome_to_referrer=draw(st.booleans()),
        referrer_email=referrer_email,
        referrer_address=referrer_address,
        formats=tuple(
            draw(st.lists(st.sampled_from(["easy_read", "large_print", "bsl"]), unique=True))
        ),
        address=draw(
            st.sampled_from(["", f"{n} Home Lane, Norwich{POSTCODE}", f"{n} Home Lane, Norwich"])
        ),
        contacts=tuple(people),
        decision=decision,
    )


# --- The rule, from DOMAIN.md section 5 -------------------------------------------------------


@dataclass(frozen=True)
class Told:
    name: str
    email: str
    address: str
    accessible_format: str
    prefers_letter: bool

    @property
    def can_post(self) -> bool:
        return self.address.endswith(POSTCODE)

    @property
    def channel(self) -> str:
        return "letter" if self.can_post and (self.prefers_letter or not self.email) else "email"

    @property
    def row(self) -> tuple[str, str, str, str, str]:
        """How its outbox row reads: name, channel, email, postal address, format."""
        letter = self.channel == "letter"
        return (
            self.name,
            self.channel,
            "" if letter else self.email,
            self.address if letter else "",
            self.accessible_format,
        )


def _person_format(case: Case) -> str:
    return next((f for f in ("easy_read", "large_print") if f in case.formats), "standard")


def _told_by_rule(case: Case, contact: Contact) -> bool:
    best_interests = case.basis == "best_interests"
    if contact.override:
        return contact.override == "include"  # staff decided, with a reason
    if contact.role == "person":
        representative = any(c.role == "representative" for c in case.contacts)
        return (case.age >= 16 or case.basis == "gillick") and not (
            best_interests and representative
        )
    if contact.role == "representative":
        return best_interests
    return (contact.parental_responsibility and case.age < 18) or contact.named


def _the_people(case: Case) -> list[Told]:
    """The person and the contacts the rule (or staff) names, each told once."""
    told = [
        Told(
            c.name,
            c.email,
            c.address,
            # The person: the referral's format, or else the one asked for them as a contact.
            _person_format(case)
            if c.role == "person" and _person_format(case) != "standard"
            else c.preferred_format,
            c.prefers_letter,
        )
        for c in case.contacts
        if _told_by_rule(case, c)
    ]
    representative = any(c.role == "representative" for c in case.contacts)
    if (
        not any(c.role == "person" for c in case.contacts)
        and case.address
        and (case.age >= 16 or case.basis == "gillick")
        and not (case.basis == "best_interests" and representative)
    ):
        # No contact for the person: they are told at the referral's address, by letter.
        name = f"{case.given_name} {case.family_name}"
        told.append(Told(name, "", case.address, _person_format(case), True))
    once: dict[tuple[str, str], Told] = {}
    for t in told:
        once.setdefault((t.name.lower(), (t.email or t.address).lower()), t)
    return list(once.values())


def expected(case: Case) -> list[Told] | None:
    """Who is told, or None when the decision must be refused (nobody to tell, or someone to
    tell who cannot be reached)."""
    told = _the_people(case)
    referrer_told = case.referrer_kind == "professional" or case.outcome_to_referrer
    known = {t.email.lower() for t in told if t.email} | {
        t.address.lower() for t in told if t.address
    }
    already = (case.referrer_email and case.referrer_email.lower() in known) or (
        case.referrer_address and case.referrer_address.lower() in known
    )
    if referrer_told and (case.referrer_email or case.referrer_address) and not already:
        fmt = _person_format(case) if case.referrer_kind == "self" else "standard"
        told.append(
            Told(case.referrer_name, case.referrer_email, case.referrer_address, fmt, False)
        )
    if not told or any(not (t.email or t.can_post) for t in told):
        return None
    if case.decision == "not_eligible" and not any(t.can_post for t in told):
        return None  # the reasons go only in a letter, and nobody has a postcode
    return told


def expected_rows(case: Case, told: list[Told]) -> Counter:
    """The outbox rows: one each, and for "not eligible" a letter with the reasons to everyone
    told by email who has a postal address."""
    rows = Counter(t.row for t in told)
    if case.decision == "not_eligible":
        rows.update(
            (t.name, "letter", "", t.address, t.accessible_format)
            for t in told
            if t.channel == "email" and t.can_post
        )
    return rows


# --- Running a case through the services ------------------------------------------------------


def _born(age: int) -> date:
    """A date of birth 40 to 70 days past a birthday: `age` today."""
    today = timezone.localdate()
    return date(today.year - age, today.month, 1) - timedelta(days=40)


def _submit(case: Case, area) -> Referral:
    return referral_submit(
        fields={
            "given_name": case.given_name,
            "family_name": case.family_name,
            "date_of_birth": _born(case.age),
            "address": case.address,
            "local_authority": area,
            "accessible_formats": list(case.formats),
            "diagnosis": "autism",
            "diagnosis_status": "confirmed",
            "risks": "Placement at risk.",
            "referrer_name": case.referrer_name,
            "referrer_email": case.referrer_email,
            "referrer_address": case.referrer_address,
            "outcome_to_referrer": case.outcome_to_referrer,
            "consent_to_referral": True,
            "consent_to_share": True,
            "consent_basis": case.basis,
        },
        contacts=[
            {
                "role": c.role,
                "name": c.name,
                "email": c.email,
                "address": c.address,
                "phone": c.phone,
                "has_parental_responsibility": c.parental_responsibility,
                "named_by_person": c.named,
                "preferred_format": c.preferred_format,
                "prefers_letter": c.prefers_letter,
                "override": c.override,
                "override_reason": "Staff decided." if c.override else "",
            }
            for c in case.contacts
        ],
        source="online",
        referrer_kind=case.referrer_kind,
        submission_token=uuid.uuid4(),
    )


def _decide(referral: Referral, case: Case, staff) -> None:
    if case.decision != "withdrawn":
        referral_record_review(
            referral,
            held_on=timezone.localdate(),
            education_participant="SENCo",
            social_care_participant="Social worker",
            by=staff,
        )
    referral_decide(
        referral,
        decision=case.decision,
        by=staff,
        reason="Reason.",
        signposting="Local services.",
        rating="AMBER",
        rationale="Risk of placement breakdown.",
    )


@pytest.fixture
def staff(organisations):
    return UserFactory(organisation=organisations["icb"])


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_every_outcome_message_goes_to_someone_the_rule_names(areas, staff, case):
    referral = _submit(case, areas["north"])
    want = expected(case)
    try:
        _decide(referral, case, staff)
        decided = True
    except RegisterError:
        decided = False
    rows = Counter(
        (r.recipient_name, r.channel, r.email, r.postal_address, r.accessible_format)
        for r in Notification.objects.filter(
            subject_type="referrals.referral", subject_id=referral.pk, kind="referral_outcome"
        )
    )
    wanted = expected_rows(case, want or [])
    CASES["generated"] += 1
    misdirected = sum((rows - wanted).values())
    CASES["misdirected"] += misdirected
    assert decided == (want is not None), (case, rows)
    assert rows == wanted, case
    if decided:
        assert Referral.objects.get(pk=referral.pk).status == case.decision
    record(
        "A-7 generated cases, misdirected notifications",
        f"{CASES['generated']}, {CASES['misdirected']}",
    )
