"""A C(E)TR checks what it records: its consent basis fits the person's age exactly as the
register's consent rules say (one table of cases, tried against both); a review held before its
planned date says why; the pack shows what a panel needs; a request for someone not on the
register points to making a referral."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from dsr.exceptions import RegisterError
from dsr.models import Consent
from dsr.services import admission_discharge, consent_record, rating_change
from reviews.models import Cetr
from reviews.services import (
    agenda_add,
    cetr_complete,
    cetr_consent_record,
    cetr_findings_record,
    cetr_plan,
    discussion_record,
    meeting_create,
)
from tests.conftest import signed_in_client
from tests.reviews.factories import CetrRequestFactory, full_panel
from tests.reviews.helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)


def _born(years: int, *, days_short: int = 0) -> datetime.date:
    """A date of birth giving `years` today, `days_short` days short of the next birthday."""
    return datetime.date(TODAY.year - years, TODAY.month, TODAY.day) - datetime.timedelta(
        days=days_short
    )


# Age bands at the date consent was given, at their edges: under 16 (the day before the 16th
# birthday), 16 and 17 (from the 16th birthday to the day before the 18th), 18 and over.
AGES = {
    "12": _born(12),
    "15, a day short of 16": _born(16) + datetime.timedelta(days=1),
    "16 today": _born(16),
    "17, a day short of 18": _born(18) + datetime.timedelta(days=1),
    "18 today": _born(18),
    "40": _born(40),
}
UNDER_16 = {"12", "15, a day short of 16"}
SIXTEEN_SEVENTEEN = {"16 today", "17, a day short of 18"}
ADULT = {"18 today", "40"}
# DOMAIN rules 1 and 16 (ACCESS.md, the register's consent page): a person's own consent from
# 16 (a younger child's through Gillick competence); Gillick only under 16; parental
# responsibility only under 18; a best-interests decision (Mental Capacity Act) only from 16.
ALLOWED = {
    Consent.Basis.OWN_CONSENT: SIXTEEN_SEVENTEEN | ADULT,
    Consent.Basis.GILLICK: UNDER_16,
    Consent.Basis.PARENTAL_RESPONSIBILITY: UNDER_16 | SIXTEEN_SEVENTEEN,
    Consent.Basis.BEST_INTERESTS: SIXTEEN_SEVENTEEN | ADULT,
}
CASES = [(basis, age, age in ALLOWED[basis]) for basis in Consent.Basis.values for age in AGES]
BEST_INTERESTS = {"decision_maker": "Dr Ada Rahman", "capacity_assessed_on": TODAY}


def _detail(basis: str) -> dict:
    return BEST_INTERESTS if basis == Consent.Basis.BEST_INTERESTS else {}


def _accepted(write) -> bool:
    try:
        with transaction.atomic():
            write()
    except RegisterError:
        return False
    return True


def test_the_table_covers_every_basis_and_age_band():
    assert len(CASES) == 4 * 6
    assert {allowed for *_, allowed in CASES} == {True, False}


@pytest.mark.parametrize(("basis", "age", "allowed"), CASES)
def test_a_cetr_consent_basis_fits_the_age_as_the_register_says(
    clerk, make_person, basis, age, allowed
):
    person = make_person("RED", date_of_birth=AGES[age], opened_on=datetime.date(2026, 3, 1))
    cetr = cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)

    on_cetr = _accepted(
        lambda: cetr_consent_record(
            cetr=cetr,
            basis=basis,
            evidence="Signed form.",
            recorded_on=TODAY,
            by=clerk,
            **_detail(basis),
        )
    )
    on_register = _accepted(
        lambda: consent_record(
            person=person, basis=basis, given_on=TODAY, by=clerk, **_detail(basis)
        )
    )

    assert on_cetr == allowed
    assert on_register == allowed  # the same rules: one table for both
    cetr.refresh_from_db()
    assert cetr.has_consent_evidence == allowed


def test_a_best_interests_decision_names_its_decision_maker_and_date(clerk, make_person):
    cetr = cetr_plan(person=make_person("RED"), kind=Cetr.Kind.COMMUNITY, by=clerk)
    record = {"cetr": cetr, "basis": "best_interests", "evidence": "Minutes.", "by": clerk}

    with pytest.raises(RegisterError, match="needs the decision maker and the date capacity"):
        cetr_consent_record(recorded_on=TODAY, **record)
    cetr_consent_record(recorded_on=TODAY, **record, **BEST_INTERESTS)

    cetr.refresh_from_db()
    assert (cetr.consent_decision_maker, cetr.consent_capacity_assessed_on) == (
        "Dr Ada Rahman",
        TODAY,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Cetr.objects.filter(pk=cetr.pk).update(consent_decision_maker="")


def test_the_consent_page_refuses_gillick_for_an_adult_and_writes_nothing(clerk, make_person):
    cetr = cetr_plan(person=make_person("RED"), kind=Cetr.Kind.COMMUNITY, by=clerk)
    url = reverse("reviews:cetr-consent", kwargs={"pk": cetr.pk})
    answers = {
        "basis": "gillick",
        "evidence": "Signed form.",
        "recorded_on_day": "10",
        "recorded_on_month": "3",
        "recorded_on_year": "2026",
    }

    response = signed_in_client(clerk).post(url, answers)
    missing = signed_in_client(clerk).post(url, {**answers, "basis": "best_interests"})

    assert response.status_code == 200
    assert "Gillick competence applies to children under 16." in response.text
    assert "Enter who made the best-interests decision." in missing.text
    assert "Enter the date capacity was assessed." in missing.text
    assert not Cetr.objects.get(pk=cetr.pk).has_consent_evidence


# --- Held before the date it was planned for ------------------------------------------------------


def _ready(clerk, person, scheduled_on) -> Cetr:
    cetr = cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk, scheduled_on=scheduled_on)
    full_panel(cetr)
    return cetr_findings_record(
        cetr=cetr,
        by=clerk,
        finding_safe="Yes.",
        finding_good_care="Yes.",
        finding_future="Yes.",
        finding_community="Yes.",
    )


def test_a_review_held_before_its_planned_date_says_why(clerk, make_person):
    cetr = _ready(clerk, make_person("RED"), TODAY)
    early = TODAY - datetime.timedelta(days=2)

    with pytest.raises(RegisterError, match="planned for 10 March 2026: say why"):
        cetr_complete(cetr=cetr, held_on=early, by=clerk)
    assert Cetr.objects.get(pk=cetr.pk).status == "planned"
    cetr_complete(cetr=cetr, held_on=early, by=clerk, held_early_reason="Brought forward: crisis.")

    done = Cetr.objects.get(pk=cetr.pk)
    assert (done.status, done.held_early_reason) == ("completed", "Brought forward: crisis.")


@pytest.mark.parametrize("scheduled_on", [TODAY, TODAY - datetime.timedelta(days=3), None])
def test_a_review_held_on_or_after_its_planned_date_needs_no_reason(
    clerk, make_person, scheduled_on
):
    cetr = _ready(clerk, make_person("RED"), scheduled_on)

    cetr_complete(cetr=cetr, held_on=TODAY, by=clerk, held_early_reason="Ignored.")

    assert Cetr.objects.get(pk=cetr.pk).held_early_reason == ""


def test_the_database_refuses_an_early_review_without_a_reason(clerk, make_person):
    cetr = _ready(clerk, make_person("RED"), TODAY)
    cetr_complete(cetr=cetr, held_on=TODAY, by=clerk)

    with pytest.raises(IntegrityError), transaction.atomic():
        Cetr.objects.filter(pk=cetr.pk).update(held_on=TODAY - datetime.timedelta(days=1))


def test_the_complete_page_asks_why_a_review_was_held_early(clerk, make_person):
    cetr = _ready(clerk, make_person("RED"), TODAY)
    url = reverse("reviews:cetr-complete", kwargs={"pk": cetr.pk})
    held = {"held_on_day": "8", "held_on_month": "3", "held_on_year": "2026"}
    client = signed_in_client(clerk)

    page = client.get(url)
    refused = client.post(url, held)
    saved = client.post(url, {**held, "held_early_reason": "Brought forward: crisis."})

    assert "It was planned for 10 March 2026" in page.text
    assert "say why it was held earlier" in refused.text and "nhsuk-error-summary" in refused.text
    assert saved.status_code == 302
    assert Cetr.objects.get(pk=cetr.pk).held_early_reason == "Brought forward: crisis."


# --- The pack -------------------------------------------------------------------------------------


def test_the_pack_shows_what_a_panel_needs(clerk, make_person, admit, organisations):
    from dsr.roles import Role
    from reviews.models import PanelMember
    from reviews.services import panel_member_save
    from tests.conftest import account

    person = make_person(
        "AMBER",
        opened_on=datetime.date(2020, 1, 6),
        communication_needs="Uses Makaton; give time to answer.",
        interpreter_language="Polish",
    )
    for admitted, discharged in [((2021, 1, 4), (2021, 2, 1)), ((2025, 6, 2), (2025, 7, 1))]:
        admission_discharge(
            admission=admit(person, datetime.date(*admitted)),
            discharged_on=datetime.date(*discharged),
            by=clerk,
        )
    entry = person.register_entries.get()
    rating_change(
        entry=entry,
        rating="RED",
        rationale="Placement breaking down.",
        by=clerk,
        risk_factors=["crisis"],
        risk_notes="Two police call-outs in February.",
    )
    meeting = meeting_create(kind="urgent", held_at=at(TODAY, 8), chair=clerk, by=clerk)
    discussion_record(
        item=agenda_add(meeting=meeting, person=person, by=clerk),
        by=clerk,
        risk_factors=[],
        risk_notes="",
        discussion="Plan: short breaks twice a week; key worker to visit weekly.",
    )
    cetr = cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    panellist = account(organisations["icb"], Role.PANEL_MEMBER)
    panel_member_save(
        member=PanelMember(cetr=cetr, role="expert_by_experience", name="P", user=panellist),
        by=clerk,
    )
    cetr_consent_record(
        cetr=cetr, basis="own_consent", evidence="Signed.", recorded_on=TODAY, by=clerk
    )

    pack = signed_in_client(panellist).get(reverse("reviews:cetr-pack", kwargs={"pk": cetr.pk}))

    text = pack.text
    assert pack.status_code == 200
    assert "Uses Makaton; give time to answer." in text and "Interpreter: Polish" in text
    assert "Rating history" in text and "Placement breaking down." in text
    assert "Initial rating." in text
    assert "Two police call-outs in February." in text
    assert "Plan: short breaks twice a week" in text
    assert "2 June 2025 to 1 July 2025" in text
    assert "Riverside Hospital, 4 January 2021" not in text  # ended over 3 years ago
    assert "Riverside Hospital, 2 June 2025 to 1 July 2025" in text


# --- A request for someone not on the register ----------------------------------------------------


def test_a_request_for_someone_not_on_the_register_points_to_a_referral(clerk, areas):
    from tests.conftest import account  # noqa: F401  (the clerk triages requests)

    request = CetrRequestFactory(local_authority=areas["north"])

    page = signed_in_client(clerk).get(request.get_absolute_url())

    assert page.status_code == 200
    assert "No one on the register matches this request" in page.text
    assert f'href="{reverse("referrals:create")}"' in page.text
    assert f"quote {request.reference}" in page.text
