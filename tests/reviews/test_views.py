"""Review pages: the panel pack gate (ACCESS.md; DOMAIN rule 10), bad input, and a constant
number of queries on the meeting page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dsr.roles import Role
from reviews.models import Cetr, Meeting, PanelMember
from reviews.services import (
    action_close,
    cetr_complete,
    cetr_findings_record,
    cetr_plan,
    cetr_report_sent,
    meeting_create,
)
from tests.conftest import account, signed_in_client
from tests.edit_pages import edit_version
from tests.figures import record
from tests.reviews.factories import CetrFactory, PanelMemberFactory, full_panel
from tests.reviews.helpers import agree_action, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)


@pytest.fixture
def panellist(organisations):
    return account(organisations["icb"], Role.PANEL_MEMBER)


def _seated_cetr(person, panellist, *, consent=True, **fields):
    """A planned community C(E)TR with the required panel, `panellist` the expert by
    experience, and consent evidence unless `consent` is false."""
    cetr = CetrFactory(person=person, consented=consent, **fields)
    full_panel(cetr, skip=PanelMember.Role.EXPERT_BY_EXPERIENCE)
    PanelMemberFactory(cetr=cetr, role=PanelMember.Role.EXPERT_BY_EXPERIENCE, user=panellist)
    return cetr


def _pack(client, cetr):
    return client.get(reverse("reviews:cetr-pack", kwargs={"pk": cetr.pk}))


def test_a_panel_member_reads_only_their_own_pack_and_only_with_consent(
    clerk, make_person, panellist, organisations
):
    mine = _seated_cetr(make_person("RED", family_name="Seated"), panellist)
    no_consent = _seated_cetr(make_person("RED"), panellist, consent=False)
    someone_elses = _seated_cetr(
        make_person("RED"), account(organisations["icb"], Role.PANEL_MEMBER)
    )
    client = signed_in_client(panellist)

    response = _pack(client, mine)
    assert response.status_code == 200
    assert "Seated" in response.content.decode()
    assert _pack(client, no_consent).status_code == 404
    assert _pack(client, someone_elses).status_code == 404
    # The list of their panels shows the unconsented pack as not available, without a link.
    panels = client.get(reverse("reviews:my-panels")).content.decode()
    assert reverse("reviews:cetr-pack", kwargs={"pk": mine.pk}) in panels
    assert reverse("reviews:cetr-pack", kwargs={"pk": no_consent.pk}) not in panels


def test_the_pack_closes_30_days_after_the_report_is_sent(
    clerk, make_person, panellist, frozen_now
):
    cetr = _seated_cetr(make_person("RED"), panellist, findings=True)
    cetr_complete(cetr=cetr, held_on=TODAY, by=clerk)
    cetr_report_sent(cetr=cetr, sent_on=TODAY, by=clerk)
    frozen_now.move_to("2026-04-09 09:30:00+01:00")  # 30 days later: still open
    assert _pack(signed_in_client(panellist), cetr).status_code == 200
    frozen_now.move_to("2026-04-10 09:30:00+01:00")  # 31 days: closed
    assert _pack(signed_in_client(panellist), cetr).status_code == 404


def test_the_pack_closes_30_days_after_the_review_when_no_report_date_is_recorded(
    clerk, make_person, panellist, frozen_now
):
    cetr = _seated_cetr(make_person("RED"), panellist, findings=True)
    cetr_complete(cetr=cetr, held_on=TODAY, by=clerk)
    frozen_now.move_to("2026-04-10 09:30:00+01:00")  # 31 days after the review
    assert _pack(signed_in_client(panellist), cetr).status_code == 404


def test_withdrawn_consent_or_leaving_the_register_closes_the_pack(clerk, make_person, panellist):
    from dsr.services import register_close
    from reviews.services import cetr_consent_withdraw

    withdrawn = _seated_cetr(make_person("RED"), panellist)
    person = make_person("RED")
    closed = _seated_cetr(person, panellist)
    client = signed_in_client(panellist)
    assert _pack(client, withdrawn).status_code == 200
    cetr_consent_withdraw(cetr=withdrawn, note="Told the chair by phone today.", by=clerk)
    register_close(entry=person.register_entries.get(), reason="risk_reduced", by=clerk)
    assert _pack(client, withdrawn).status_code == 404
    assert _pack(client, closed).status_code == 404


def test_saving_one_finding_leaves_the_others(clerk, make_person, panellist):
    cetr = _seated_cetr(make_person("RED"), panellist)
    cetr_findings_record(cetr=cetr, by=clerk, finding_good_care="Good, with gaps at night.")
    url = reverse("reviews:cetr-findings", kwargs={"pk": cetr.pk})
    client = signed_in_client(panellist)
    # The form as the browser posts it: the answers, and (hidden) the answers it was opened
    # with and the version of the record it was drawn from.
    form = {
        **edit_version(client, url),
        "finding_safe": "Safe.",
        "initial-finding_safe": "",
        "finding_good_care": "Good, with gaps at night.",
        "initial-finding_good_care": "Good, with gaps at night.",
        "finding_future": "",
        "initial-finding_future": "",
        "finding_community": "",
        "initial-finding_community": "",
    }
    # Another panel member saved a finding about the future after this form was opened.
    cetr_findings_record(cetr=cetr, by=clerk, finding_future="A move is planned.")
    client.post(url, form)
    cetr.refresh_from_db()
    assert (cetr.finding_safe, cetr.finding_good_care, cetr.finding_future) == (
        "Safe.",
        "Good, with gaps at night.",
        "A move is planned.",
    )


def test_adding_a_person_to_a_meeting_by_hand(clerk, make_person):
    person = make_person("GREEN", family_name="Byhand")
    meeting = meeting_create(
        kind=Meeting.Kind.URGENT, held_at=at(datetime.date(2026, 3, 11)), chair=clerk, by=clerk
    )
    client = signed_in_client(clerk)
    url = reverse("reviews:person-agenda-add", kwargs={"pk": person.pk})
    assert str(meeting) in client.get(url).content.decode()
    response = client.post(url, {"meeting": meeting.pk})
    assert response.status_code == 302
    assert list(meeting.items.values_list("person__family_name", "reasons")) == [
        ("Byhand", ["by_hand"])
    ]


def test_a_panel_member_records_findings_on_their_pack(clerk, make_person, panellist):
    cetr = _seated_cetr(make_person("RED"), panellist)
    client = signed_in_client(panellist)
    url = reverse("reviews:cetr-findings", kwargs={"pk": cetr.pk})
    response = client.post(
        url, {**edit_version(client, url), "finding_safe": "Safe with the current staffing."}
    )
    assert response.status_code == 302
    cetr.refresh_from_db()
    assert cetr.finding_safe == "Safe with the current staffing."


def test_a_panel_member_adds_a_recommendation_with_an_owner_and_due_date(
    clerk, make_person, panellist
):
    cetr = _seated_cetr(make_person("RED"), panellist)
    client = signed_in_client(panellist)
    url = reverse("reviews:cetr-recommendation-add", kwargs={"pk": cetr.pk})
    missing = client.post(url, {"description": "Find a specialist provider."})
    assert "Choose an owner with an account, or enter a name." in missing.content.decode()
    assert "Enter the due date." in missing.content.decode()
    response = client.post(
        url,
        {
            "description": "Find a specialist provider.",
            "owner_name": "Jo Patel",
            "owner_organisation": "Commissioning",
            "agency": "health",
            "due_on_day": "7",
            "due_on_month": "4",
            "due_on_year": "2026",
        },
    )
    assert response.status_code == 302
    (recommendation,) = cetr.recommendations.all()
    assert (recommendation.owner_label, recommendation.due_on, recommendation.created_by) == (
        "Jo Patel, Commissioning",
        datetime.date(2026, 4, 7),
        panellist,
    )
    assert "Find a specialist provider." in _pack(client, cetr).content.decode()


def test_completing_without_the_panel_shows_the_rule_on_the_page_and_writes_nothing(
    clerk, make_person
):
    cetr = cetr_plan(person=make_person("RED"), kind=Cetr.Kind.COMMUNITY, by=clerk)
    client = signed_in_client(clerk)
    response = client.post(
        reverse("reviews:cetr-complete", kwargs={"pk": cetr.pk}),
        {"held_on_day": "10", "held_on_month": "3", "held_on_year": "2026"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "nhsuk-error-summary" in page
    assert "cannot be completed without a chair" in page
    cetr.refresh_from_db()
    assert cetr.status == Cetr.Status.PLANNED


def test_bad_meeting_input_shows_errors_and_writes_nothing(clerk):
    client = signed_in_client(clerk)
    response = client.post(
        reverse("reviews:meeting-create"),
        {
            "kind": "dsr_review",
            "day_day": "31",
            "day_month": "2",
            "day_year": "2026",
            "time": "25:00",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "The date must be a real date." in page
    assert "Enter the start time like 14:30." in page
    assert "Choose the chair." in page
    assert not Meeting.objects.exists()


def _meeting(make_person, clerk, *, add: int, expect: int) -> Meeting:
    """An oversight panel with everyone discussed, half of them re-rated, each with two
    actions (one a C(E)TR recommendation, overdue): all that the page shows per person."""
    from reviews.services import Owner, action_create, discussion_record

    for _ in range(add):
        make_person("RED")
    meeting = meeting_create(
        kind=Meeting.Kind.OVERSIGHT_PANEL, held_at=at(TODAY, 9), chair=clerk, by=clerk
    )
    assert meeting.items.count() == expect
    for number, item in enumerate(meeting.items.select_related("person")):
        if item.discussed_at:
            continue
        discussion_record(
            item=item,
            by=clerk,
            risk_factors=["crisis"],
            risk_notes="",
            discussion="Discussed.",
            rating="AMBER" if number % 2 else "",
            rationale="Calmer.",
        )
        for due in (TODAY, datetime.date(2026, 3, 1)):
            action_create(
                person=item.person,
                agenda_item=item,
                description="Act.",
                owner=Owner(user=clerk),
                agency="health",
                due_on=due,
                by=clerk,
            )
        if not item.person.cetrs.exists():
            cetr = cetr_plan(person=item.person, kind=Cetr.Kind.COMMUNITY, by=clerk)
            action_create(
                person=item.person,
                cetr=cetr,
                description="Recommended.",
                owner=Owner(name="Jo", organisation="LA"),
                agency="social_care",
                due_on=datetime.date(2026, 3, 1),
                by=clerk,
            )
    return meeting


def test_the_meeting_page_runs_the_same_queries_for_3_and_60_people(
    clerk, make_person, django_assert_max_num_queries
):
    client = signed_in_client(clerk)
    small = _meeting(make_person, clerk, add=3, expect=3)
    client.get(small.get_absolute_url())  # the session's first request does its own reads
    with CaptureQueriesContext(connection) as queries:
        assert client.get(small.get_absolute_url()).status_code == 200
    cap = len(queries)

    big = _meeting(make_person, clerk, add=57, expect=60)
    with django_assert_max_num_queries(cap):
        response = client.get(big.get_absolute_url())
    assert response.content.decode().count("/people/") >= 60
    record("Reviews: meeting page queries with 3 / 60 people on the agenda", f"{cap} / <= {cap}")


def test_a_visit_is_recorded_and_its_actions_agreed(clerk, make_person, admit):
    from reviews.models import Action

    person = make_person("RED", out_of_area=True)
    admit(person, datetime.date(2026, 1, 5), community_cetr=True)
    client = signed_in_client(clerk)
    response = client.post(
        reverse("reviews:visit-add", kwargs={"pk": person.pk}),
        {
            "visited_on_day": "9",
            "visited_on_month": "3",
            "visited_on_year": "2026",
            "visited_by": "Case manager",
            "findings": "Restraint used twice this month.",
            "concerns": "on",
        },
    )
    visit = person.oversight_visits.get()
    assert visit.concerns
    assert response["Location"] == reverse(
        "reviews:visit-action-add", kwargs={"pk": person.pk, "visit_pk": visit.pk}
    )
    data = {
        "description": "Ask the hospital for its restraint reduction plan.",
        "owner": clerk.pk,
        "agency": "health",
        "due_on_day": "17",
        "due_on_month": "3",
        "due_on_year": "2026",
    }
    client.post(response["Location"], data)
    action = Action.objects.get(person=person)
    assert (action.source, action.visit) == ("oversight_visit", visit)
    # The same action again: a warning first, nothing written.
    again = client.post(response["Location"], data)
    assert "already has this action open" in again.content.decode()
    assert Action.objects.filter(person=person).count() == 1


# --- The reviews section of the person page ----------------------------------------------------


def _actions(person, clerk, cetr, name, dues):
    return [
        agree_action(person, clerk, cetr=cetr, description=f"{name} {n}.", due_on=due)
        for n, due in enumerate(dues, start=1)
    ]


def test_the_person_page_lists_the_open_actions_due_first_and_links_to_all_of_them(
    clerk, make_person
):
    person = make_person("RED")
    cetr = cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    past, later = datetime.date(2026, 3, 1), datetime.date(2026, 4, 1)
    _actions(person, clerk, cetr, "Open", [past, past, past] + [later] * 9)
    for n, action in enumerate(_actions(person, clerk, cetr, "Closed", [past] * 14), start=1):
        # Closed 1 is the latest closed.
        action_close(
            action=action, status="done", note="", by=clerk, on=TODAY - datetime.timedelta(days=n)
        )
    client = signed_in_client(clerk)

    response = client.get(person.get_absolute_url())

    (panel,) = [p.context for p in response.context["panels"] if "open_actions" in p.context]
    assert [a.description for a in panel["open_actions"]] == [f"Open {n}." for n in range(1, 11)]
    assert "Open 11." not in response.text and "Closed 1." not in response.text
    assert "The 10 open actions due first, of 12." in response.text
    all_actions = reverse("reviews:person-actions", args=[person.pk])
    assert f'<a href="{all_actions}">Show all actions: 12 open and 14 closed</a>' in response.text
    # The overdue count is of every open action, listed or not.
    assert "Chase 3 overdue actions." in response.text

    page = client.get(all_actions)
    assert page.status_code == 200
    assert [a.description for a in page.context["actions"].open_actions] == [
        f"Open {n}." for n in range(1, 13)
    ]
    assert [a.description for a in page.context["actions"].closed_actions] == [
        f"Closed {n}." for n in range(1, 15)
    ]
    assert "Open actions (12)" in page.text and "Closed actions (14)" in page.text


def test_the_person_page_builds_only_the_actions_it_shows_however_many_there_are(
    clerk, make_person
):
    """30 open actions (25 overdue) and 20 closed: the page builds the 10 it lists and one
    closed one carrying how many are closed; the rest are counted in the database."""
    from django.db.models.signals import post_init

    from reviews.models import Action

    person = make_person("RED")
    cetr = cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    past, later = datetime.date(2026, 3, 1), datetime.date(2026, 4, 1)
    _actions(person, clerk, cetr, "Open", [past] * 25 + [later] * 5)
    for action in _actions(person, clerk, cetr, "Closed", [past] * 20):
        action_close(action=action, status="done", note="", by=clerk)
    client = signed_in_client(clerk)
    client.get(person.get_absolute_url())  # the signed-in user read once and kept
    built = []

    def count(sender, instance, **kwargs):
        built.append(instance)

    post_init.connect(count, sender=Action)
    try:
        response = client.get(person.get_absolute_url())
    finally:
        post_init.disconnect(count, sender=Action)

    assert len(built) == 11
    assert "The 10 open actions due first, of 30." in response.text
    assert "Show all actions: 30 open and 20 closed" in response.text
    assert "Chase 25 overdue actions." in response.text


def test_the_person_actions_page_lists_a_long_history_up_to_its_limit(
    clerk, make_person, monkeypatch
):
    from reviews.views import actions

    monkeypatch.setattr(actions, "PERSON_ACTIONS_SHOWN", 3)
    person = make_person("RED")
    cetr = cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    _actions(person, clerk, cetr, "Open", [datetime.date(2026, 4, n) for n in range(1, 6)])

    page = signed_in_client(clerk).get(reverse("reviews:person-actions", args=[person.pk]))

    assert [a.description for a in page.context["actions"].open_actions] == [
        "Open 1.",
        "Open 2.",
        "Open 3.",
    ]
    assert "Open actions (5)" in page.text


def test_the_person_page_links_to_the_closed_actions_when_none_are_open(clerk, make_person):
    person = make_person("RED")
    cetr = cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    for action in _actions(person, clerk, cetr, "Closed", [TODAY] * 2):
        action_close(action=action, status="done", note="", by=clerk)

    response = signed_in_client(clerk).get(person.get_absolute_url())

    assert "No open actions." in response.text
    assert "Show all actions, with the 2 closed" in response.text
    assert "Closed 1." not in response.text
