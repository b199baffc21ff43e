"""Demo referrals in every state of the review (registered with dsr.demo; DEBUG only)."""

import random
import uuid
from datetime import timedelta

from django.utils import timezone

from dsr.models import LocalAuthority, User
from referrals.models import Referral
from referrals.services import (
    referral_assign,
    referral_decide,
    referral_record_review,
    referral_request_information,
    referral_submit,
)

RISKS = [
    "Two visits from the crisis team this month; the family are exhausted.",
    "The residential placement has given notice after an incident.",
    "Not attending school for six weeks; more distressed at home.",
    "Recently discharged from hospital; the care package is not yet in place.",
]


def seed_referrals(count: int = 30, seed: int = 7) -> int:
    """Referrals received over the last five weeks: some new, some under review, some waiting
    for information, some decided, and a few past the four-week deadline."""
    if Referral.objects.exists():
        return 0
    rng = random.Random(seed)  # noqa: S311  (repeatable synthetic data, not security)
    areas = list(LocalAuthority.objects.all())
    staff = User.objects.get(email="staff@dsr.example")
    lead = User.objects.get(email="lead@dsr.example")
    now = timezone.now()
    for i in range(count):
        received = now - timedelta(days=rng.randint(0, 34), hours=rng.randint(0, 12))
        kind = rng.choice(["professional", "self", "family"])
        given = rng.choice(["Kai", "Maya", "Tomasz", "Niamh", "Yusuf", "Ella"])
        family = rng.choice(["Harper", "Okoro", "Nowicki", "Byrne", "Aziz"])
        referral = referral_submit(
            fields={
                "given_name": given,
                "family_name": family,
                "date_of_birth": (now - timedelta(days=rng.randint(18 * 365, 40 * 365))).date(),
                "outcome_to_referrer": True,
                "local_authority": rng.choice(areas),
                "diagnosis": rng.choice(["learning_disability", "autism", "both"]),
                "diagnosis_status": "confirmed",
                "risks": rng.choice(RISKS),
                "referrer_name": "Dr Lee Morgan" if kind == "professional" else "Sam Harper",
                "referrer_email": "lee.morgan@nhs.example"
                if kind == "professional"
                else "sam@example.com",
                "consent_to_referral": True,
                "consent_to_share": True,
                "consent_basis": "own_consent",
            },
            contacts=[
                {
                    "role": "person",
                    "name": f"{given} {family}",
                    "email": f"p{i}@example.com",
                    # A postal address with its postcode: the reasons for a decision go by letter.
                    "address": f"{i + 1} Station Road\nNorwich\nNR1 {i % 9 + 1}AB",
                }
            ],
            source=rng.choice(["online", "online", "paper", "phone"]),
            referrer_kind=kind,
            submission_token=uuid.uuid4(),
            received_at=received,
        )
        stage = rng.random()
        if stage < 0.3:
            continue
        referral_assign(referral, to=rng.choice([staff, lead]), by=lead)
        if stage < 0.45:
            referral_request_information(referral, request="The latest care plan.", by=staff)
            continue
        referral_record_review(
            referral,
            held_on=timezone.localdate(received),
            education_participant="SENCo",
            social_care_participant="Duty social worker",
            by=staff,
        )
        if stage < 0.7:
            continue
        referral_decide(
            referral,
            decision="not_eligible",
            reason="The risk of admission is low at the moment.",
            signposting="Your GP and the local autism support service.",
            by=staff,
        )
    return count
