"""The rules that raise escalations (issue "Escalation" point 2), the acknowledgement deadlines
in working days (point 3) and the ladder (point 3), on a frozen clock: Tuesday 10 March 2026.

Each rule raises exactly once per triggering event, however often the sweep runs; a resolved
escalation is not raised again for the same event; a new event raises anew; and a rule turned
off raises nothing."""

import datetime

import pytest

from dsr.models import RAG, Admission, Notification
from dsr.roles import Role
from dsr.services import admission_record, cetr_exception_record, rating_change
from escalation import rules
from escalation.models import Escalation, EscalationTransition
from escalation.services import escalation_acknowledge, escalation_resolve
from escalation.sweeps import escalation_ladder_sweep, escalation_rules_sweep
from reviews.models import Cetr, Meeting
from reviews.services import cetr_plan
from tests.conftest import account
from tests.reviews.factories import ActionFactory, MeetingFactory, OverdueActionFactory
from tests.reviews.helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)


def raised(reason: str) -> list[tuple[str, int]]:
    """The people (family names) with an escalation for `reason`, and its level."""
    return sorted(
        Escalation.objects.filter(reason=reason).values_list("person__family_name", "level")
    )


def sweep_twice() -> None:
    escalation_rules_sweep(today=TODAY)
    escalation_rules_sweep(today=TODAY)


# --- Each rule -----------------------------------------------------------------------------


def test_a_red_rating_raises_once_and_a_new_red_rating_raises_anew(clerk, make_person):
    person = make_person("RED", family_name="Red")
    make_person("AMBER", family_name="Amber")
    sweep_twice()
    assert raised("red_rating") == [("Red", 2)]

    escalation = Escalation.objects.get(reason="red_rating")
    entry = person.register_entries.get()
    assert escalation.trigger_id == entry.ratings.get().pk
    # Confirming Red is not a new event: the spell goes on.
    rating_change(entry=entry, rating=RAG.RED, rationale="Still in crisis.", by=clerk)
    sweep_twice()
    assert Escalation.objects.filter(reason="red_rating").count() == 1
    # Amber, then Red again: a new spell, a new escalation.
    rating_change(entry=entry, rating=RAG.AMBER, rationale="Calmer.", by=clerk)
    rating_change(entry=entry, rating=RAG.RED, rationale="Crisis again.", by=clerk)
    sweep_twice()
    assert raised("red_rating") == [("Red", 2), ("Red", 2)]


def test_a_resolved_escalation_is_not_raised_again_for_the_same_event(
    clerk, make_person, organisations
):
    make_person("RED", family_name="Red")
    escalation_rules_sweep(today=TODAY)
    manager = account(organisations["north_council"], Role.SENIOR_MANAGER_LA)
    escalation = Escalation.objects.get(reason="red_rating")
    escalation_resolve(escalation=escalation, by=manager, outcome="Crisis team in place.")
    escalation_rules_sweep(today=TODAY)
    assert Escalation.objects.filter(reason="red_rating").count() == 1


def test_amber_for_too_long_without_a_review(make_person):
    # Reviewed 5 January: more than 28 days before 10 March. Reviewed 1 March: not yet.
    make_person("AMBER", family_name="Unreviewed", opened_on=datetime.date(2026, 1, 5))
    make_person("AMBER", family_name="Reviewed", opened_on=datetime.date(2026, 3, 1))
    sweep_twice()
    assert raised("amber_unreviewed") == [("Unreviewed", 1)]


def test_red_without_a_community_cetr_or_exception_after_14_days(clerk, make_person):
    make_person("RED", family_name="Nothing", opened_on=datetime.date(2026, 2, 20))
    make_person("RED", family_name="Recent", opened_on=datetime.date(2026, 2, 28))
    planned = make_person("RED", family_name="Planned", opened_on=datetime.date(2026, 2, 20))
    cetr_plan(person=planned, kind=Cetr.Kind.COMMUNITY, by=clerk)
    excepted = make_person("RED", family_name="Excepted", opened_on=datetime.date(2026, 2, 20))
    cetr_exception_record(
        person=excepted,
        meeting_kind="blue_light",
        held_on=datetime.date(2026, 2, 21),
        reason="No panel could be convened in time.",
        by=clerk,
    )
    sweep_twice()
    # 20 February is 18 days ago; 28 February only 10.
    assert raised("red_without_cetr") == [("Nothing", 2)]


def test_an_overdue_action_on_a_red_or_amber_person(clerk, make_person):
    meeting = MeetingFactory(kind=Meeting.Kind.URGENT, held_at=at(TODAY, 8), chair=clerk)
    for rating, name, action in [
        ("RED", "RedLate", OverdueActionFactory),
        ("GREEN", "GreenLate", OverdueActionFactory),
        ("AMBER", "AmberOnTime", ActionFactory),  # due today
    ]:
        action(person=make_person(rating, family_name=name), agenda_item__meeting=meeting)
    sweep_twice()
    assert raised("overdue_action") == [("RedLate", 1)]


def _admit(person, clerk, *, cetr_first: bool, cqc: str = Admission.CqcRating.GOOD):
    return admission_record(
        person=person,
        hospital_name="Riverside",
        hospital_ods_code="RMY01",
        cqc_rating=cqc,
        admitted_on=datetime.date(2026, 3, 2),
        ward_security=Admission.WardSecurity.GENERAL,
        community_cetr_before_admission=cetr_first,
        by=clerk,
    )


def test_an_admission_without_a_community_cetr_first(clerk, make_person):
    _admit(make_person("RED", family_name="Without"), clerk, cetr_first=False)
    _admit(make_person("RED", family_name="With"), clerk, cetr_first=True)
    sweep_twice()
    assert raised("admission_without_cetr") == [("Without", 2)]


def test_an_admission_to_a_hospital_rated_inadequate_goes_to_the_top(clerk, make_person):
    _admit(
        make_person("RED", family_name="Inadequate"),
        clerk,
        cetr_first=True,
        cqc=Admission.CqcRating.INADEQUATE,
    )
    _admit(make_person("RED", family_name="Good"), clerk, cetr_first=True)
    sweep_twice()
    assert raised("inadequate_hospital") == [("Inadequate", 3)]


def test_an_inadequate_hospital_admission_is_notified_to_the_oversight_addresses(
    clerk, make_person, settings
):
    from dsr.outbox.delivery import render

    settings.DSR_INADEQUATE_HOSPITAL_RECIPIENTS = [
        ("ICB chief executive", "ceo@icb.example"),
        ("NHS England region", "region@nhs.example"),
    ]
    _admit(make_person("RED", family_name="Sentinelname"), clerk, cetr_first=True, cqc="inadequate")
    sweep_twice()
    messages = Notification.objects.filter(kind="inadequate_hospital_admission").order_by("id")
    assert [m.email for m in messages] == ["ceo@icb.example", "region@nhs.example"]
    text = render(messages[0]).text
    assert "rates inadequate" in text and "Sentinelname" not in text


def test_a_rating_review_overdue(make_person):
    # Green reviewed 5 January is due 6 April; Red reviewed 5 January was due 12 January.
    make_person("GREEN", family_name="NotDue")
    make_person("RED", family_name="Overdue")
    sweep_twice()
    assert raised("rating_review_overdue") == [("Overdue", 1)]


def test_a_referral_past_its_deadline_raises_through_the_referral_sweep(areas, settings):
    from referrals.sweeps import referral_deadline_sweep
    from tests.referrals.test_services import submit

    submit(areas)  # received 10 March, due 7 April
    referral_deadline_sweep(today=datetime.date(2026, 4, 8))
    referral_deadline_sweep(today=datetime.date(2026, 4, 8))
    assert Escalation.objects.filter(reason="referral_overdue").count() == 1


RULE_SETUPS = {
    "overdue_action": lambda ctx: OverdueActionFactory(person=ctx["make_person"]("RED")),
    "red_rating": lambda ctx: ctx["make_person"]("RED"),
    "amber_unreviewed": lambda ctx: ctx["make_person"]("AMBER"),
    "red_without_cetr": lambda ctx: ctx["make_person"]("RED"),
    "rating_review_overdue": lambda ctx: ctx["make_person"]("RED"),
    "admission_without_cetr": lambda ctx: _admit(
        ctx["make_person"]("RED"), ctx["clerk"], cetr_first=False
    ),
    "inadequate_hospital": lambda ctx: _admit(
        ctx["make_person"]("RED"), ctx["clerk"], cetr_first=True, cqc="inadequate"
    ),
}


@pytest.mark.parametrize("name", sorted(RULE_SETUPS))
def test_a_rule_turned_off_raises_nothing(name, make_person, clerk, settings):
    RULE_SETUPS[name]({"make_person": make_person, "clerk": clerk})
    settings.DSR_ESCALATION_RULES = {name: {"on": False}}
    escalation_rules_sweep(today=TODAY)
    assert not Escalation.objects.filter(reason=name).exists()
    settings.DSR_ESCALATION_RULES = {}
    escalation_rules_sweep(today=TODAY)
    assert Escalation.objects.filter(reason=name).count() == 1


def test_the_referral_rule_turned_off_raises_nothing(areas, settings):
    from referrals.sweeps import referral_deadline_sweep
    from tests.referrals.test_services import submit

    settings.DSR_ESCALATION_RULES = {"referral_overdue": {"on": False}}
    submit(areas)
    referral_deadline_sweep(today=datetime.date(2026, 4, 8))
    assert not Escalation.objects.exists()


# --- Acknowledgement deadlines in working days ---------------------------------------------


@pytest.mark.parametrize(
    ("raised_on", "rating", "due"),
    [
        # Red: 1 working day. Thursday 2 April 2026 -> Good Friday and Easter Monday are bank
        # holidays, the weekend between: Tuesday 7 April.
        (datetime.date(2026, 4, 2), "RED", datetime.date(2026, 4, 7)),
        # Amber: 3 working days from the same Thursday: 7, 8, 9 April.
        (datetime.date(2026, 4, 2), "AMBER", datetime.date(2026, 4, 9)),
        # Red raised on a Friday: the next Monday.
        (datetime.date(2026, 3, 13), "RED", datetime.date(2026, 3, 16)),
        # Raised on a Saturday: the first working day after it.
        (datetime.date(2026, 3, 14), "RED", datetime.date(2026, 3, 16)),
        # Anyone else: 3 working days.
        (datetime.date(2026, 3, 10), "", datetime.date(2026, 3, 13)),
    ],
)
def test_acknowledgement_deadlines_count_working_days(raised_on, rating, due):
    assert rules.ack_due(raised_on, rating) == due


def test_a_sweep_starts_the_clock_by_the_persons_rating(make_person, frozen_now):
    frozen_now.move_to("2026-04-02 10:00:00+01:00")
    make_person("RED", family_name="Red", opened_on=datetime.date(2026, 4, 2))
    escalation_rules_sweep(today=datetime.date(2026, 4, 2))
    assert Escalation.objects.get(reason="red_rating").ack_due_on == datetime.date(2026, 4, 7)


# --- The ladder ----------------------------------------------------------------------------


def test_unacknowledged_past_the_deadline_moves_up_a_level_and_tells_the_next_owners(
    make_person, organisations, frozen_now, settings
):
    # With the daily digest off, each escalation is told at once (tests/escalation/test_digest.py
    # has the digest).
    settings.DSR_ESCALATION_DIGEST = False
    health = account(organisations["trust"], Role.SENIOR_MANAGER_HEALTH)
    la = account(organisations["north_council"], Role.SENIOR_MANAGER_LA)
    executive = account(organisations["icb"], Role.EXECUTIVE_LEAD)
    account(organisations["south_council"], Role.SENIOR_MANAGER_LA)  # not Northshire's

    frozen_now.move_to("2026-04-02 10:00:00+01:00")
    make_person("RED", family_name="Red", opened_on=datetime.date(2026, 4, 2))
    escalation_rules_sweep(today=datetime.date(2026, 4, 2))
    escalation = Escalation.objects.get(reason="red_rating")
    told = set(
        Notification.objects.filter(kind="escalation_raised", subject_id=escalation.pk).values_list(
            "email", flat=True
        )
    )
    assert told == {health.email, la.email}

    # On the deadline itself (Tuesday 7 April) it stays; the day after, it moves up.
    assert escalation_ladder_sweep(today=datetime.date(2026, 4, 7))["moved_up"] == 0
    assert escalation_ladder_sweep(today=datetime.date(2026, 4, 8))["moved_up"] == 1
    assert escalation_ladder_sweep(today=datetime.date(2026, 4, 8))["moved_up"] == 0
    escalation.refresh_from_db()
    assert (escalation.level, escalation.ack_due_on) == (3, datetime.date(2026, 4, 9))
    move = EscalationTransition.objects.get(escalation=escalation, from_level=2)
    assert (move.to_level, move.to_status) == (3, "open")
    assert list(
        Notification.objects.filter(kind="escalation_level_up").values_list("email", flat=True)
    ) == [executive.email]
    # At the top it stays at the top.
    assert escalation_ladder_sweep(today=datetime.date(2026, 4, 20))["moved_up"] == 0


def test_an_acknowledged_escalation_stops_climbing(make_person, organisations, frozen_now):
    la = account(organisations["north_council"], Role.SENIOR_MANAGER_LA)
    frozen_now.move_to("2026-04-02 10:00:00+01:00")
    make_person("RED", opened_on=datetime.date(2026, 4, 2))
    escalation_rules_sweep(today=datetime.date(2026, 4, 2))
    escalation = Escalation.objects.get(reason="red_rating")
    escalation_acknowledge(escalation=escalation, by=la, note="Calling the family today.")
    assert escalation_ladder_sweep(today=datetime.date(2026, 4, 20))["moved_up"] == 0
    escalation.refresh_from_db()
    assert (escalation.level, escalation.status, escalation.acknowledged_by) == (
        2,
        "acknowledged",
        la,
    )


def test_only_owners_at_the_level_or_above_in_the_area_act(make_person, organisations):
    from dsr.services import RegisterError

    lead = account(organisations["icb"], Role.DSR_LEAD)
    executive = account(organisations["icb"], Role.EXECUTIVE_LEAD)
    south = account(organisations["south_council"], Role.SENIOR_MANAGER_LA)
    north = account(organisations["north_council"], Role.SENIOR_MANAGER_LA)
    make_person("RED")
    escalation_rules_sweep(today=TODAY)
    escalation = Escalation.objects.get(reason="red_rating")
    # Level 2: not the DSR lead (level 1), not another area's manager, and not the executive
    # lead, who acts on the top level only (ACCESS.md).
    for who in (lead, south, executive):
        with pytest.raises(RegisterError, match="only its owners"):
            escalation_acknowledge(escalation=escalation, by=who)
    escalation_acknowledge(escalation=escalation, by=north)
    # The health manager acknowledging a moment later changes nothing, and keeps their note.
    health = account(organisations["trust"], Role.SENIOR_MANAGER_HEALTH)
    again = escalation_acknowledge(escalation=escalation, by=health, note="Also told the GP.")
    assert (again.status, again.acknowledged_by) == ("acknowledged", north)
    assert list(again.notes.values_list("text", flat=True)) == ["Also told the GP."]
    # Climbed to the top unacknowledged: the executive lead acts, and the managers it was
    # raised to keep it too.
    Escalation.objects.filter(pk=escalation.pk).update(level=3, status="open")
    escalation.refresh_from_db()
    escalation_acknowledge(escalation=escalation, by=executive)
    escalation_resolve(escalation=escalation, by=north, outcome="Support in place.")


def _cleared(reason):
    return Escalation.objects.get(reason=reason).status


def test_escalations_whose_cause_has_cleared_are_resolved_by_the_rules_and_never_climb(
    clerk, make_person
):
    from dsr.services import admission_discharge

    red = make_person("RED", family_name="Red")
    amber = make_person("AMBER", family_name="Amber")
    admitted = make_person("RED", family_name="Admitted")
    _admit(admitted, clerk, cetr_first=False)
    escalation_rules_sweep(today=TODAY)
    assert set(Escalation.objects.values_list("reason", flat=True)) >= {
        "red_rating",
        "amber_unreviewed",
        "admission_without_cetr",
    }

    rating_change(entry=red.register_entries.get(), rating=RAG.AMBER, rationale="Calmer.", by=clerk)
    rating_change(
        entry=amber.register_entries.get(), rating=RAG.AMBER, rationale="Reviewed.", by=clerk
    )
    admission_discharge(
        admission=admitted.admissions.get(),
        discharged_on=TODAY,
        by=clerk,
        rationale="Home with a crisis plan.",
    )
    counts = escalation_ladder_sweep(today=datetime.date(2026, 3, 20))

    red_escalation = Escalation.objects.get(person=red, reason="red_rating")
    assert (red_escalation.status, red_escalation.level, red_escalation.resolved_by) == (
        "resolved",
        2,
        None,
    )
    assert red_escalation.outcome == "Closed by the rules: the person is no longer rated red."
    assert Escalation.objects.get(person=amber, reason="amber_unreviewed").status == "resolved"
    assert (
        Escalation.objects.get(person=admitted, reason="admission_without_cetr").status
        == "resolved"
    )
    assert counts["cleared"] >= 3
    # The rules do not raise the cleared events again.
    escalation_rules_sweep(today=TODAY)
    assert Escalation.objects.filter(person=red, reason="red_rating").count() == 1


def test_a_double_submit_raises_one_escalation_by_hand(make_person, organisations):
    from escalation.services import escalation_raise_by_hand

    staff = account(organisations["icb"], Role.REGISTER_STAFF)
    person = make_person("AMBER")
    first = escalation_raise_by_hand(person=person, level=2, note="Placement ending.", by=staff)
    second = escalation_raise_by_hand(person=person, level=2, note="Placement ending.", by=staff)
    other = escalation_raise_by_hand(person=person, level=2, note="School excluded.", by=staff)
    assert first == second != other
