"""The escalation queue says who needs attention first: one row per person with each live
escalation's reason, level, acknowledge-by date and whether it is past the deadline; everything
about a person acknowledged in one step; the counts at the top; the past-the-deadline filter and
order; the link to the fix; and who sees what."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.exceptions import RegisterError
from dsr.roles import Role
from escalation.models import Escalation, EscalationNote, EscalationTransition
from escalation.services import escalation_acknowledge_all
from tests.conftest import account, signed_in_client
from tests.dsr.factories import OrganisationFactory
from tests.escalation.factories import AcknowledgedEscalationFactory, EscalationFactory
from tests.referrals.factories import ReferralFactory
from tests.reviews.factories import OverdueActionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)
QUEUE = reverse("escalation:queue")
YESTERDAY = TODAY - datetime.timedelta(days=1)
NEXT_WEEK = TODAY + datetime.timedelta(days=7)


@pytest.fixture
def la_manager(organisations):
    return account(organisations["north_council"], Role.SENIOR_MANAGER_LA)


def _names(response) -> list[str]:
    return [row.person.family_name for row in response.context["page"].rows]


def _acknowledge_all(person) -> str:
    return reverse("escalation:acknowledge-person", kwargs={"pk": person.pk})


def _three(person) -> list[Escalation]:
    return [
        EscalationFactory(
            person=person,
            level=2,
            note=f"Concern {n}",
            raised_at=timezone.now() - datetime.timedelta(days=n),
            ack_due_on=due,
        )
        for n, due in [(1, NEXT_WEEK), (2, YESTERDAY), (3, TODAY)]
    ]


def test_a_person_with_three_escalations_is_one_row_and_acknowledged_in_one_step(
    make_person, la_manager
):
    person = make_person("RED", family_name="Three")
    first, late, due_today = _three(person)
    client = signed_in_client(la_manager)

    response = client.get(QUEUE)
    [row] = response.context["page"].rows
    assert row.person == person
    # The one past its deadline first, then the others waiting, the oldest first.
    assert row.escalations == [late, due_today, first]
    assert [e.past_deadline for e in row.escalations] == [True, False, False]
    assert row.mine_waiting == 3
    page = response.content.decode()
    assert page.count("Raised by hand</a>, level 2") == 3
    assert "Acknowledge by 9 Mar 2026" in page and "Acknowledge by 17 Mar 2026" in page
    assert page.count(">Past the deadline</strong>") == 1
    link = _acknowledge_all(person) + "?from=queue"
    assert link in page and "Acknowledge all 3" in page

    # The person's page lists all three, and one post acknowledges them.
    form = client.get(link)
    assert form.status_code == 200
    assert form.context["form"].initial["shown"] == ",".join(
        str(e.pk) for e in (late, due_today, first)
    )
    response = client.post(
        link,
        {"note": "Meeting the family tomorrow.", "shown": f"{first.pk},{late.pk},{due_today.pk}"},
    )
    assert response.status_code == 302 and response["Location"] == QUEUE
    for escalation in (first, late, due_today):
        escalation.refresh_from_db()
        assert (escalation.status, escalation.acknowledged_by) == ("acknowledged", la_manager)
        # Each its own move, history row and note.
        assert (
            EscalationTransition.objects.filter(
                escalation=escalation, from_status="open", to_status="acknowledged", by=la_manager
            ).count()
            == 1
        )
        assert escalation.history.filter(history_change_reason="Acknowledged").count() == 1
        assert escalation.notes.get().text == "Meeting the family tomorrow."
    assert client.get(QUEUE).context["page"].rows[0].mine_waiting == 0


def test_an_escalations_page_offers_the_others_about_the_person(make_person, la_manager):
    person = make_person("RED")
    one, two = (EscalationFactory(person=person, level=2) for _ in range(2))
    client = signed_in_client(la_manager)
    assert _acknowledge_all(person) in client.get(one.get_absolute_url()).content.decode()
    client.post(reverse("escalation:acknowledge", kwargs={"pk": two.pk}), {"note": ""})
    assert _acknowledge_all(person) not in client.get(one.get_absolute_url()).content.decode()


def test_a_tampered_list_is_an_error_and_writes_nothing(make_person, la_manager):
    person = make_person("RED")
    escalation = EscalationFactory(person=person, level=2)
    response = signed_in_client(la_manager).post(
        _acknowledge_all(person), {"note": "", "shown": f"{escalation.pk},x"}
    )
    assert "The list of escalations was changed: open the page again." in (
        response.content.decode()
    )
    escalation.refresh_from_db()
    assert escalation.status == "open"


def test_acknowledging_all_leaves_what_is_above_the_users_level(
    make_person, organisations, la_manager
):
    person = make_person("RED")
    mine = EscalationFactory(person=person, level=2)
    top = EscalationFactory(person=person, level=3)
    client = signed_in_client(la_manager)
    page = client.get(_acknowledge_all(person))
    assert page.context["waiting"] == [mine]
    assert "Not at your level: left for its owners" in page.content.decode()
    client.post(_acknowledge_all(person), {"note": "", "shown": f"{mine.pk},{top.pk}"})
    mine.refresh_from_db()
    top.refresh_from_db()
    assert (mine.status, top.status) == ("acknowledged", "open")


def test_an_escalation_raised_since_the_page_was_shown_refuses_the_lot(make_person, la_manager):
    person = make_person("RED")
    shown = EscalationFactory(person=person, level=2)
    EscalationFactory(person=person, level=2)  # raised after the page was drawn
    response = signed_in_client(la_manager).post(
        _acknowledge_all(person), {"note": "On it.", "shown": str(shown.pk)}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "nhsuk-error-summary" in page
    assert "Another escalation about this person has been raised since this page was shown" in page
    assert not Escalation.objects.filter(status="acknowledged").exists()
    assert not EscalationNote.objects.exists()
    assert not EscalationTransition.objects.filter(to_status="acknowledged").exists()


def test_nothing_left_to_acknowledge_is_an_error_and_writes_nothing(
    make_person, organisations, la_manager
):
    person = make_person("RED")
    done = AcknowledgedEscalationFactory(person=person, level=2)
    response = signed_in_client(la_manager).post(
        _acknowledge_all(person), {"note": "Again.", "shown": str(done.pk)}
    )
    assert response.status_code == 200
    assert "There is nothing about this person waiting for you to acknowledge" in (
        response.content.decode()
    )
    assert not EscalationNote.objects.exists()
    with pytest.raises(RegisterError, match="nothing about this person"):
        escalation_acknowledge_all(person=person, by=la_manager, note="", shown=[done.pk])


def test_acknowledging_all_is_refused_below_the_level_and_out_of_the_area(
    make_person, organisations
):
    person = make_person("RED")
    escalation = EscalationFactory(person=person, level=2)
    lead = account(organisations["icb"], Role.DSR_LEAD)  # owns level 1 only
    south = account(organisations["south_council"], Role.SENIOR_MANAGER_LA)
    staff = account(organisations["icb"], Role.REGISTER_STAFF)
    data = {"note": "", "shown": str(escalation.pk)}
    # The lead acts on escalations, but not at this level: as if there were none (404).
    assert signed_in_client(lead).post(_acknowledge_all(person), data).status_code == 404
    assert signed_in_client(south).post(_acknowledge_all(person), data).status_code == 404
    assert signed_in_client(staff).post(_acknowledge_all(person), data).status_code == 403
    escalation.refresh_from_db()
    assert escalation.status == "open"


def test_past_the_deadline_comes_first_then_waiting_then_rating_and_age(make_person, la_manager):
    red_waiting = make_person("RED", family_name="RedWaiting")
    amber_late = make_person("AMBER", family_name="AmberLate")
    green_late = make_person("GREEN", family_name="GreenLate")
    red_old = make_person("RED", family_name="RedWaitingOlder")
    red_done = make_person("RED", family_name="RedAcknowledged")
    now = timezone.now()
    EscalationFactory(person=red_waiting, level=2, ack_due_on=NEXT_WEEK)
    EscalationFactory(
        person=red_old, level=2, ack_due_on=NEXT_WEEK, raised_at=now - datetime.timedelta(days=2)
    )
    EscalationFactory(person=amber_late, level=2, ack_due_on=YESTERDAY)
    EscalationFactory(
        person=green_late,
        level=2,
        ack_due_on=YESTERDAY,
        raised_at=now - datetime.timedelta(days=9),
    )
    AcknowledgedEscalationFactory(person=red_done, level=2)

    response = signed_in_client(la_manager).get(QUEUE)

    assert _names(response) == [
        "AmberLate",  # past the deadline, Amber before Green
        "GreenLate",
        "RedWaitingOlder",  # waiting, the oldest first
        "RedWaiting",
        "RedAcknowledged",
    ]


def test_the_past_the_deadline_filter(make_person, la_manager):
    late = make_person("AMBER", family_name="Late")
    waiting = make_person("RED", family_name="Waiting")
    EscalationFactory(person=late, level=2, ack_due_on=YESTERDAY)
    EscalationFactory(person=late, level=2, ack_due_on=NEXT_WEEK)
    EscalationFactory(person=waiting, level=2, ack_due_on=TODAY)  # due today: not yet late
    client = signed_in_client(la_manager)
    response = client.get(QUEUE, {"past_deadline": "on"})
    assert _names(response) == ["Late"]
    # Their other escalation is still listed in the row.
    assert len(response.context["page"].rows[0].escalations) == 2
    assert sorted(_names(client.get(QUEUE))) == ["Late", "Waiting"]
    # Acknowledging from the filtered queue comes back to it.
    escalation = Escalation.objects.filter(person=late).first()
    link = reverse("escalation:acknowledge", kwargs={"pk": escalation.pk})
    back = client.post(link + "?past_deadline=on&from=queue", {"note": ""})
    assert back["Location"] == QUEUE + "?past_deadline=on"


def test_the_counts_at_the_top(make_person, organisations, la_manager):
    red = make_person("RED")
    amber = make_person("AMBER")
    south = make_person("RED", area="south")
    EscalationFactory(person=red, level=2, ack_due_on=YESTERDAY)
    EscalationFactory(person=red, level=1, ack_due_on=NEXT_WEEK)
    AcknowledgedEscalationFactory(person=red, level=2)
    EscalationFactory(person=amber, level=3, ack_due_on=YESTERDAY)
    EscalationFactory(person=south, level=2, ack_due_on=YESTERDAY)  # not in Northshire
    EscalationFactory(
        person=red, level=2, status="resolved", resolved_at=timezone.now(), outcome="Done."
    )  # not live

    response = signed_in_client(la_manager).get(QUEUE)
    counts = response.context["counts"]
    # Waiting for the manager: their level and above (the level 1 one is the DSR lead's), as
    # their home page counts them; the table by level shows every live one.
    assert (counts.waiting, counts.past_deadline) == (2, 2)
    assert [(row["level"], row["live"], row["waiting"]) for row in counts.levels] == [
        (1, 1, 1),
        (2, 2, 1),
        (3, 1, 1),
    ]
    page = response.content.decode()
    assert 'id="count-waiting">2</p>' in page
    assert 'id="count-past-deadline">2</p>' in page

    # The register team's counts cover both areas; an area filter narrows them.
    staff = account(organisations["icb"], Role.REGISTER_STAFF)
    client = signed_in_client(staff)
    assert client.get(QUEUE).context["counts"].past_deadline == 3
    narrowed = client.get(QUEUE, {"local_authority": south.local_authority_id})
    assert narrowed.context["counts"].past_deadline == 1


def test_each_escalation_links_to_its_fix_for_those_who_may_follow_it(
    make_person, organisations, la_manager
):
    from reviews.models import Action

    person = make_person("RED", family_name="Fixes")
    action = OverdueActionFactory(person=person)
    referral = ReferralFactory(local_authority=person.local_authority)
    cetr = EscalationFactory(
        person=person, reason="red_without_cetr", trigger_type="dsr.rating", level=2
    )
    overdue = EscalationFactory(
        person=person,
        reason="overdue_action",
        trigger_type="reviews.action",
        trigger_id=action.pk,
        level=2,
    )
    late_referral = EscalationFactory(
        person=person,
        reason="referral_overdue",
        trigger_type="referrals.referral",
        trigger_id=referral.pk,
        level=2,
    )
    red = EscalationFactory(person=person, reason="red_rating", trigger_type="dsr.rating", level=2)
    assert Action.objects.filter(pk=action.pk).exists()

    staff = account(organisations["icb"], Role.REGISTER_STAFF)
    response = signed_in_client(staff).get(QUEUE)
    fixes = {e.pk: e.fix for e in response.context["page"].rows[0].escalations}
    assert (fixes[cetr.pk].label, fixes[cetr.pk].url) == (
        "Plan a C(E)TR",
        reverse("reviews:cetr-create", kwargs={"pk": person.pk}),
    )
    assert (fixes[overdue.pk].label, fixes[overdue.pk].url) == (
        "Open the action",
        reverse("reviews:action-update", kwargs={"pk": action.pk}),
    )
    assert (fixes[late_referral.pk].label, fixes[late_referral.pk].url) == (
        "Open the referral",
        reverse("referrals:detail", kwargs={"pk": referral.pk}),
    )
    assert (fixes[red.pk].label, fixes[red.pk].url) == (
        "Add to a meeting",
        reverse("reviews:person-agenda-add", kwargs={"pk": person.pk}),
    )
    page = response.content.decode()
    for fix in fixes.values():
        assert f'href="{fix.url}"' in page
    # The links lead somewhere the register team may go.
    client = signed_in_client(staff)
    assert all(client.get(fix.url).status_code == 200 for fix in fixes.values())
    detail = client.get(cetr.get_absolute_url()).content.decode()
    assert reverse("reviews:cetr-create", kwargs={"pk": person.pk}) in detail

    # A senior manager may not plan the C(E)TR themselves: no link that would refuse them.
    manager_page = signed_in_client(la_manager).get(QUEUE)
    assert all(e.fix is None for e in manager_page.context["page"].rows[0].escalations)
    assert reverse("reviews:cetr-create", kwargs={"pk": person.pk}) not in (
        manager_page.content.decode()
    )


def test_senior_managers_see_their_area_and_level_only(make_person, organisations):
    south_trust = OrganisationFactory(
        name="Southshire Trust",
        kind="nhs_trust",
        local_authorities=[organisations["south_council"].local_authorities.get()],
    )
    health = account(south_trust, Role.SENIOR_MANAGER_HEALTH)
    la = account(organisations["north_council"], Role.SENIOR_MANAGER_LA)
    north_green = make_person("GREEN", family_name="NorthGreenLevelOne")
    north_red = make_person("RED", family_name="NorthRed")
    south_green = make_person("GREEN", family_name="SouthGreenLevelTwo", area="south")
    south_low = make_person("GREEN", family_name="SouthGreenLevelOne", area="south")
    EscalationFactory(person=north_green, level=1, ack_due_on=YESTERDAY)
    EscalationFactory(person=north_red, level=2, ack_due_on=YESTERDAY)
    EscalationFactory(person=south_green, level=2, ack_due_on=YESTERDAY)
    EscalationFactory(person=south_low, level=1, ack_due_on=YESTERDAY)

    la_view = signed_in_client(la).get(QUEUE)
    health_view = signed_in_client(health).get(QUEUE)
    assert _names(la_view) == ["NorthRed"]
    assert _names(health_view) == ["SouthGreenLevelTwo"]
    # The counts are of their own queue.
    assert la_view.context["counts"].past_deadline == 1
    assert health_view.context["counts"].past_deadline == 1
    # And one cannot acknowledge the other's people.
    other = signed_in_client(health).get(_acknowledge_all(north_red))
    assert other.status_code == 404
