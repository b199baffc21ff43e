"""Demo referrals in every state of the review (registered with dsr.demo; DEBUG only), received
and worked on through the last five weeks of the demo's year, with the four-week deadline sweep
run each evening."""

import random
import uuid
from datetime import datetime, time, timedelta

from django.utils import timezone

from dsr.models import LocalAuthority, User
from referrals.services import (
    referral_assign,
    referral_decide,
    referral_record_review,
    referral_request_information,
    referral_submit,
)
from referrals.sweeps import referral_deadline_sweep

RISKS = [
    "Two visits from the crisis team this month; the family are exhausted.",
    "The residential placement has given notice after an incident.",
    "Not attending school for six weeks; more distressed at home.",
    "Recently discharged from hospital; the care package is not yet in place.",
]


# The referrals arrive over the last WINDOW days; each is planned when the first of those days
# comes (with its own seeded random numbers), then received and worked on day by day.
WINDOW = 35
_PLANS: dict[str, list] = {"waiting": [], "working": [], "received": []}


def _fields(rng, number: int, received) -> tuple[dict, list, str]:
    kind = rng.choice(["professional", "self", "family"])
    given = rng.choice(["Kai", "Maya", "Tomasz", "Niamh", "Yusuf", "Ella"])
    family = rng.choice(["Harper", "Okoro", "Nowicki", "Byrne", "Aziz"])
    fields = {
        "given_name": given,
        "family_name": family,
        "date_of_birth": (received - timedelta(days=rng.randint(18 * 365, 40 * 365))).date(),
        "outcome_to_referrer": True,
        "local_authority": rng.choice(list(LocalAuthority.objects.all())),
        "diagnosis": rng.choice(["learning_disability", "autism", "both"]),
        "diagnosis_status": "confirmed",
        "risks": rng.choice(RISKS),
        "referrer_name": "Dr Lee Morgan" if kind == "professional" else "Sam Harper",
        "referrer_email": "lee.morgan@nhs.example" if kind == "professional" else "sam@example.com",
        "consent_to_referral": True,
        "consent_to_share": True,
        "consent_basis": "own_consent",
    }
    contacts = [
        {
            "role": "person",
            "name": f"{given} {family}",
            "email": f"p{number}@example.com",
            # A postal address with its postcode: the reasons for a decision go by letter.
            "address": f"{number + 1} Station Road\nNorwich\nNR1 {number % 9 + 1}AB",
        }
    ]
    return fields, contacts, kind


def _plan(moment, count: int, seed: int) -> None:
    """Each referral's day of receipt and how far the team has taken it: some new, some under
    review, some waiting for information, some decided, and a few past the four-week deadline."""
    rng = random.Random(seed)  # noqa: S311  (repeatable synthetic data, not security)
    first = timezone.make_aware(datetime.combine(moment.today - timedelta(days=WINDOW), time(8)))
    for number in range(count):
        received = first + timedelta(
            days=rng.randint(0, WINDOW - 1), hours=rng.randint(0, 1), minutes=rng.randint(0, 59)
        )
        assigned = received + timedelta(days=rng.randint(1, 2))
        reviewed = assigned + timedelta(days=rng.randint(3, 10))
        decided = reviewed + timedelta(days=rng.randint(1, 5))
        _PLANS["waiting"].append(
            {
                "number": number,
                "received": received,
                "stage": rng.random(),
                "assign_on": assigned.date(),
                "review_on": reviewed.date(),
                "decide_on": decided.date(),
                "rng": random.Random(seed * 1000 + number),  # noqa: S311
            }
        )


def _work(plan: dict, day, staff: User, lead: User) -> bool:
    """The next step on `plan`'s referral due by `day`; True once nothing more is to be done."""
    referral, stage, rng = plan["referral"], plan["stage"], plan["rng"]
    if stage < 0.2 or day < plan["assign_on"]:
        return stage < 0.2
    if referral.assigned_to_id is None:
        referral_assign(referral, to=rng.choice([staff, lead]), by=lead)
        if stage < 0.3:
            referral_request_information(referral, request="The latest care plan.", by=staff)
            return True
    if day < plan["review_on"]:
        return False
    if referral.review_held_on is None:
        referral_record_review(
            referral,
            held_on=day,
            education_participant="SENCo",
            social_care_participant="Duty social worker",
            by=staff,
        )
        if stage < 0.5:
            return True
    if day < plan["decide_on"]:
        return False
    referral_decide(
        referral,
        decision="not_eligible",
        reason="The risk of admission is low at the moment.",
        signposting="Your GP and the local autism support service.",
        by=staff,
    )
    return True


def referrals_demo_day(moment, count: int = 30, seed: int = 7) -> None:
    """One working day of the last five weeks: the day's work on the referrals received before,
    those received since the last working day, and the deadline sweep."""
    if (moment.today - moment.day).days > WINDOW:
        return
    if not _PLANS["waiting"] and not _PLANS["working"]:
        _plan(moment, count, seed)
    staff = User.objects.get(email="staff@dsr.example")
    lead = User.objects.get(email="lead@dsr.example")
    moment.at(9, 15)
    for plan in list(_PLANS["working"]):
        plan["referral"].refresh_from_db()
        if _work(plan, moment.day, staff, lead):
            _PLANS["working"].remove(plan)
    moment.at(9, 50)
    for plan in [p for p in _PLANS["waiting"] if p["received"] <= timezone.now()]:
        fields, contacts, kind = _fields(plan["rng"], plan["number"], plan["received"])
        plan["referral"] = referral_submit(
            fields=fields,
            contacts=contacts,
            source=plan["rng"].choice(["online", "online", "paper", "phone"]),
            referrer_kind=kind,
            submission_token=uuid.uuid4(),
            received_at=plan["received"],
        )
        _PLANS["waiting"].remove(plan)
        _PLANS["working"].append(plan)
        _PLANS["received"].append(plan["number"])
    moment.at(9, 55)
    referral_deadline_sweep()


def seed_referrals() -> int:
    """The referrals were received and worked on through the demo's last five weeks (each_day,
    above): the number received since the last call."""
    received = len(_PLANS["received"])
    for plans in _PLANS.values():
        plans.clear()
    return received


seed_referrals.each_day = referrals_demo_day  # type: ignore[attr-defined]
