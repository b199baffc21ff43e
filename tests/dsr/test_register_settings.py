"""The DSR lead's settings page (issue "Every role's first screen is its work", item 5): the
cadences, the escalation rules, the acknowledgement days and the levels' owners, stored with
their history; every sweep and due date reads them, the stored value first. On a frozen clock:
Tuesday 10 March 2026."""

import datetime

import pytest
from django.urls import reverse

from dsr import register_settings
from dsr.deadlines import rating_review_due
from dsr.exceptions import RegisterError
from dsr.models import RegisterEntry, RegisterSettings, Reminder
from dsr.services import rating_change, register_settings_save
from escalation import rules
from escalation.models import Escalation
from escalation.sweeps import escalation_rules_sweep
from referrals.sweeps import referral_deadline_sweep, stages
from tests.conftest import make_persona, signed_in_client
from tests.referrals.test_services import submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)
URL = reverse("dsr:settings")


@pytest.fixture
def lead(organisations):
    return make_persona("dsr_lead", organisations)


def answers(**changes):
    """The page's answers as it first shows them (the values in force), with `changes` over
    them, as a browser would post them: a ticked box sends "on", an unticked one nothing."""
    data = {**register_settings.page_initial(), **changes}
    posted = {}
    for name, value in data.items():
        if value is True:
            posted[name] = "on"
        elif value is False:
            continue
        else:
            posted[name] = value
    return posted


def raised(reason):
    return sorted(
        Escalation.objects.filter(reason=reason).values_list("person__family_name", "level")
    )


def reminders(referral):
    return sorted(Reminder.objects.filter(subject_id=referral.pk).values_list("stage", flat=True))


# --- The page -----------------------------------------------------------------------------


def test_the_page_shows_todays_settings_when_nothing_is_stored(lead):
    page = signed_in_client(lead).get(URL)

    assert page.status_code == 200
    form = page.context["form"]
    assert form["review_days_red"].value() == 7
    assert form["review_days_green"].value() == 91
    assert form["consent_review_months"].value() == 12
    assert form["rule_amber_unreviewed_days"].value() == 28
    assert form["rule_red_rating_level"].value() == 2
    assert form["ack_red"].value() == 1
    assert form["owners_2"].value() == ["senior_manager_health", "senior_manager_la"]
    # Each part says what a change does to dates already worked out.
    assert "A review date already worked out for someone stays as it is" in page.text
    assert "Escalations already raised keep their level" in page.text
    # The team's contact details are part of the same page, through their own page.
    assert f'href="{reverse("dsr:team-contact")}"' in page.text
    assert "Nothing has been changed here yet" in page.text


def test_the_page_shows_a_deployments_own_setting_when_nothing_is_stored(lead, settings):
    settings.DSR_REVIEW_CADENCE_DAYS = {"RED": 5, "AMBER": 14, "GREEN": 91}

    page = signed_in_client(lead).get(URL)

    assert page.context["form"]["review_days_red"].value() == 5


def test_a_change_to_a_rules_days_changes_what_the_next_sweep_raises(lead, make_person):
    # Amber since 25 February: 13 days unreviewed, under the 28 days in force.
    make_person("AMBER", family_name="Waiting", opened_on=datetime.date(2026, 2, 25))
    escalation_rules_sweep(today=TODAY)
    assert raised("amber_unreviewed") == []

    response = signed_in_client(lead).post(
        URL, answers(rule_amber_unreviewed_days=7, rule_amber_unreviewed_level=2)
    )
    assert response.status_code == 302 and response.url == URL

    escalation_rules_sweep(today=TODAY)
    assert raised("amber_unreviewed") == [("Waiting", 2)]


def test_a_rule_turned_off_on_the_page_raises_nothing_at_the_next_sweep(lead, make_person):
    make_person("RED", family_name="Red")

    signed_in_client(lead).post(URL, answers(rule_red_rating_on=False))
    escalation_rules_sweep(today=TODAY)

    assert raised("red_rating") == []
    assert rules.rule("red_rating").on is False


def test_a_change_is_kept_in_the_history_with_who_made_it(lead):
    client = signed_in_client(lead)
    client.post(URL, answers(review_days_red=5))
    client.post(URL, answers(review_days_red=4))

    history = list(RegisterSettings.history.order_by("history_date", "history_id"))
    assert [row.values["DSR_REVIEW_CADENCE_DAYS"]["RED"] for row in history] == [5, 4]
    assert {row.history_user_id for row in history} == {lead.pk}
    assert {row.history_actor_email for row in history} == {lead.email}
    assert {row.history_change_reason for row in history} == {"Register settings saved"}
    assert RegisterSettings.objects.count() == 1
    page = client.get(URL)
    assert lead.email in page.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"rule_amber_unreviewed_days": "0"},
            "rule_amber_unreviewed_days",
            "Days rated amber without a review must be 1 or more",
        ),
        (
            {"rule_red_without_cetr_days": "2.5"},
            "rule_red_without_cetr_days",
            "Days rated red without a community C(E)TR or an exception must be a whole number, "
            "like 3",
        ),
        (
            {"rule_rating_review_overdue_days": "-1"},
            "rule_rating_review_overdue_days",
            "Days past the review date before escalating must be 0 or more",
        ),
        (
            {"rule_red_rating_level": "4"},
            "rule_red_rating_level",
            "Choose a level that exists for rated red",
        ),
        (
            {"owners_1": ["dsr_lead", "panel_member"]},
            "owners_1",
            "Choose only roles that may act on escalations to own level 1",
        ),
        (
            {"owners_3": ["administrator"]},
            "owners_3",
            "Choose only roles that may act on escalations to own level 3",
        ),
        ({"owners_2": []}, "owners_2", "Choose at least one role to own level 2"),
        ({"review_days_red": ""}, "review_days_red", "Enter days between reviews for red"),
        (
            {"reminder_days_first": "7", "reminder_days_second": "7"},
            "reminder_days_second",
            "The second reminder must be fewer days before the decision than the first",
        ),
    ],
)
def test_a_wrong_answer_is_refused_with_the_error_summary_and_nothing_is_written(
    lead, changes, field, message
):
    response = signed_in_client(lead).post(URL, answers(review_days_green=60, **changes))

    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert 'class="nhsuk-error-summary"' in response.text
    assert f'href="#id_{field}' in response.text
    assert message in response.text
    assert not RegisterSettings.objects.exists()
    assert not RegisterSettings.history.exists()
    assert rating_review_due("GREEN", TODAY) == TODAY + datetime.timedelta(days=91)


def test_the_service_refuses_a_level_owned_by_a_role_that_may_not_act(lead):
    with pytest.raises(RegisterError, match="Panel member may not act on escalations"):
        register_settings_save(
            by=lead, values={"DSR_ESCALATION_LEVEL_ROLES": {"1": ["panel_member"]}}
        )
    with pytest.raises(RegisterError, match="whole number"):
        register_settings_save(by=lead, values={"DSR_CONSENT_REVIEW_MONTHS": 1.5})
    with pytest.raises(RegisterError, match="not settings of the register"):
        register_settings_save(by=lead, values={"DSR_DECISION_DAYS": 10})
    assert not RegisterSettings.objects.exists()


# --- Stored due dates stay; worked-out ones follow --------------------------------------------


def test_a_new_cadence_is_used_for_new_ratings_and_a_stored_review_date_stays(
    lead, make_person, clerk
):
    # Rated red on 5 January: its review was stored as due on 12 January (7 days).
    person = make_person("RED", family_name="Red")
    entry = RegisterEntry.objects.get(person=person)
    assert entry.rating_review_due == datetime.date(2026, 1, 12)

    signed_in_client(lead).post(URL, answers(review_days_red=3))

    entry.refresh_from_db()
    assert entry.rating_review_due == datetime.date(2026, 1, 12)
    rating_change(entry=entry, rating="RED", rationale="Reviewed at the meeting", by=clerk)
    entry.refresh_from_db()
    assert entry.rating_review_due == TODAY + datetime.timedelta(days=3)


def test_the_referral_reminders_follow_the_new_days_at_the_next_sweep(lead, areas):
    referral = submit(areas)
    due = referral.decision_due
    assert stages()[0] == ("day14", 14, 7)

    signed_in_client(lead).post(
        URL, answers(reminder_days_first=10, reminder_days_second=5, reminder_days_third=2)
    )

    # The decision date stored with the referral stays; the reminders follow the new days.
    referral.refresh_from_db()
    assert referral.decision_due == due
    referral_deadline_sweep(today=due - datetime.timedelta(days=12))
    assert reminders(referral) == []
    referral_deadline_sweep(today=due - datetime.timedelta(days=10))
    assert reminders(referral) == ["day14"]
    referral_deadline_sweep(today=due - datetime.timedelta(days=2))
    assert reminders(referral) == ["day14", "day27"]


def test_the_levels_owners_follow_the_page(lead):
    signed_in_client(lead).post(URL, answers(owners_3=["executive_lead", "dsr_lead"]))

    assert set(rules.level_roles(3)) == {"executive_lead", "dsr_lead"}
    assert rules.level_roles(2) == ("senior_manager_health", "senior_manager_la")


def test_an_acknowledgement_deadline_follows_the_page(lead):
    # Tuesday 10 March: 1 working day for red is Wednesday; 3 is Friday.
    assert rules.ack_due(TODAY, "RED") == datetime.date(2026, 3, 11)

    signed_in_client(lead).post(URL, answers(ack_red=3))

    assert rules.ack_due(TODAY, "RED") == datetime.date(2026, 3, 13)


# --- Reading: once in a while, not once a call -------------------------------------------------


def test_due_dates_in_a_loop_read_the_stored_values_once(
    lead, django_assert_num_queries, monkeypatch
):
    register_settings_save(
        by=lead, values={"DSR_REVIEW_CADENCE_DAYS": {"RED": 2, "AMBER": 14, "GREEN": 91}}
    )
    register_settings.forget_now()

    with django_assert_num_queries(1):
        dates = {rating_review_due("RED", TODAY) for _ in range(200)}

    assert dates == {TODAY + datetime.timedelta(days=2)}


def test_another_process_reads_a_change_once_its_values_are_kept_too_long(lead, monkeypatch):
    # A process that read the values before the save keeps them for a few seconds at most.
    assert rating_review_due("RED", TODAY) == TODAY + datetime.timedelta(days=7)
    RegisterSettings.objects.create(
        values={"DSR_REVIEW_CADENCE_DAYS": {"RED": 2, "AMBER": 14, "GREEN": 91}}
    )
    register_settings.current()
    assert rating_review_due("RED", TODAY) == TODAY + datetime.timedelta(days=7)

    monkeypatch.setattr(register_settings._Kept, "until", 0.0)

    assert rating_review_due("RED", TODAY) == TODAY + datetime.timedelta(days=2)
