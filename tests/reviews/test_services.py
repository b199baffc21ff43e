"""The review rules, through the services (DOMAIN.md rules 6 to 12 and 15), on a frozen clock:
Tuesday 10 March 2026, 09:30."""

import datetime
import uuid

import pytest
from django.db import IntegrityError, transaction

from dsr.models import RAG, Consent, Notification, Reminder
from dsr.queries import person_page
from dsr.roles import Role
from dsr.services import RegisterError, rating_change
from reviews.models import (
    Action,
    Agency,
    AgendaReason,
    Cetr,
    CetrRequest,
    Meeting,
    PanelMember,
)
from reviews.services import (
    Owner,
    action_close,
    action_create,
    action_reminder_sweep,
    agenda_add,
    cetr_complete,
    cetr_consent_record,
    cetr_plan,
    cetr_request_arrange,
    cetr_request_decline,
    cetr_request_submit,
    discussion_record,
    meeting_create,
    panel_member_save,
    visit_record,
)
from tests.dsr.factories import UserFactory
from tests.reviews.factories import CetrFactory, CetrRequestFactory, PanelMemberFactory, full_panel
from tests.reviews.helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)


def _meeting(clerk, kind=Meeting.Kind.DSR_REVIEW, day=datetime.date(2026, 3, 12), hour=10, **kw):
    return meeting_create(kind=kind, held_at=at(day, hour), chair=clerk, by=clerk, **kw)


def _agenda(meeting) -> dict[str, list[str]]:
    return {item.person.family_name: item.reasons for item in meeting.items.all()}


def _action(person, clerk, *, item=None, cetr=None, due=TODAY, owner=None):
    return action_create(
        person=person,
        agenda_item=item,
        cetr=cetr,
        description="Arrange respite.",
        owner=owner or Owner(user=clerk),
        agency=Agency.SOCIAL_CARE,
        due_on=due,
        by=clerk,
    )


# --- The agenda ----------------------------------------------------------------------------


def test_agenda_lists_red_amber_due_blue_due_and_overdue_actions_and_nobody_else(
    clerk, make_person, admit, areas
):
    make_person("RED", family_name="Red")
    make_person("AMBER", family_name="AmberDue", opened_on=datetime.date(2026, 2, 20))
    make_person("AMBER", family_name="AmberNotDue", opened_on=datetime.date(2026, 3, 5))
    make_person("GREEN", family_name="Green")
    with_action = make_person("GREEN", family_name="GreenOverdueAction")
    # Blue since 2 March, no community C(E)TR first: the post-admission CTR (adult, 28 days) is
    # due 30 March, after the 14-day lookahead of a meeting on 12 March (26 March).
    blue_later = make_person("AMBER", family_name="BlueNotDue")
    admit(blue_later, datetime.date(2026, 3, 2))
    # Admitted 20 February: due 20 March, inside the lookahead.
    blue_due = make_person("AMBER", family_name="BlueCetrDue")
    admit(blue_due, datetime.date(2026, 2, 20))
    # Out of area, admitted on 5 January after a community CTR: the inpatient CTR is due in
    # July, but the 8-weekly visit was due on 2 March.
    blue_visit = make_person("AMBER", family_name="BlueVisitDue", out_of_area=True)
    admit(blue_visit, datetime.date(2026, 1, 5), community_cetr=True)
    make_person("RED", family_name="RedSouth", area="south")

    urgent = _meeting(clerk, kind=Meeting.Kind.URGENT)
    item = agenda_add(meeting=urgent, person=with_action, by=clerk)
    _action(with_action, clerk, item=item, due=datetime.date(2026, 3, 9))

    meeting = _meeting(clerk, local_authority=areas["north"])

    assert _agenda(meeting) == {
        "Red": [AgendaReason.RED],
        "AmberDue": [AgendaReason.AMBER_DUE],
        "GreenOverdueAction": [AgendaReason.OVERDUE_ACTIONS],
        "BlueCetrDue": [AgendaReason.CETR_DUE],
        "BlueVisitDue": [AgendaReason.VISIT_DUE],
    }


def test_a_meeting_for_every_area_draws_on_all_of_them(clerk, make_person):
    make_person("RED", family_name="North")
    make_person("RED", family_name="South", area="south")
    assert set(_agenda(_meeting(clerk))) == {"North", "South"}


def test_an_oversight_panel_also_lists_overdue_cetr_recommendations(clerk, make_person):
    person = make_person("GREEN", family_name="Recommended")
    cetr = cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    _action(person, clerk, cetr=cetr, due=datetime.date(2026, 3, 1))

    review = _meeting(clerk)
    panel = _meeting(clerk, kind=Meeting.Kind.OVERSIGHT_PANEL)

    assert _agenda(review) == {"Recommended": [AgendaReason.OVERDUE_ACTIONS]}
    assert _agenda(panel) == {
        "Recommended": [AgendaReason.OVERDUE_ACTIONS, AgendaReason.OVERDUE_RECOMMENDATIONS]
    }


def test_an_urgent_meeting_starts_empty_and_people_are_added_by_hand(clerk, make_person):
    person = make_person("RED", family_name="Urgent")
    meeting = _meeting(clerk, kind=Meeting.Kind.URGENT)
    assert _agenda(meeting) == {}
    agenda_add(meeting=meeting, person=person, by=clerk)
    assert _agenda(meeting) == {"Urgent": [AgendaReason.BY_HAND]}
    with pytest.raises(RegisterError, match="already on the agenda"):
        agenda_add(meeting=meeting, person=person, by=clerk)


# --- Discussions and ratings ---------------------------------------------------------------


def test_a_rating_changed_at_a_meeting_links_the_meeting(clerk, make_person, frozen_now):
    person = make_person("RED", family_name="Changed")
    meeting = _meeting(clerk, day=TODAY, hour=9)
    item = meeting.items.get()

    discussion_record(
        item=item,
        by=clerk,
        risk_factors=["crisis"],
        risk_notes="Calmer since the new support started.",
        discussion="The new support package is working.",
        rating=RAG.AMBER,
        rationale="Risks reduced with the new package.",
    )

    row = person.register_entries.get().ratings.order_by("-id").first()
    assert (row.rating, row.previous_rating, row.meeting) == (RAG.AMBER, RAG.RED, meeting)
    assert row.effective_from == TODAY
    assert row.risk_factors == ["crisis"]
    events = [e for e in person_page(person, TODAY).timeline.events if e.kind == "rating"]
    assert events[0].detail.startswith("Decided at the DSR multi-agency review, 10 March 2026")


def test_once_a_meeting_is_held_its_record_is_final(clerk, make_person, areas):
    from reviews.services import meeting_mark_held, meeting_update

    person = make_person("RED")
    meeting = _meeting(clerk, day=TODAY, hour=9)
    item = meeting.items.get()
    discussion_record(item=item, by=clerk, risk_factors=[], risk_notes="", discussion="Agreed.")
    meeting_mark_held(meeting=meeting, by=clerk)

    with pytest.raises(RegisterError, match="final"):
        discussion_record(item=item, by=clerk, risk_factors=[], risk_notes="", discussion="New.")
    with pytest.raises(RegisterError, match="final"):
        _action(person, clerk, item=item)
    with pytest.raises(RegisterError, match="final"):
        meeting_update(meeting=meeting, by=clerk, location="Elsewhere")
    item.refresh_from_db()
    assert item.discussion == "Agreed."


def test_the_area_of_a_meeting_with_an_agenda_cannot_change(clerk, make_person, areas):
    from reviews.services import meeting_update

    make_person("RED", area="south")
    meeting = _meeting(clerk)
    with pytest.raises(RegisterError, match="take everyone off it"):
        meeting_update(meeting=meeting, by=clerk, local_authority=areas["north"])
    meeting_update(meeting=meeting, by=clerk, location="Room 2")  # other details may change


def test_a_discussion_is_recorded_from_the_day_of_the_meeting_not_before(clerk, make_person):
    make_person("RED")
    item = _meeting(clerk).items.get()  # Thursday 12 March; the clock reads Tuesday 10 March
    with pytest.raises(RegisterError, match="from the day of the meeting"):
        discussion_record(
            item=item, by=clerk, risk_factors=[], risk_notes="", discussion="Too early."
        )
    # The day of a meeting at 14:00, at 09:30: the chair may start before the clock does.
    today = _meeting(clerk, day=TODAY, hour=14).items.get()
    discussion_record(item=today, by=clerk, risk_factors=[], risk_notes="", discussion="Early.")
    today.refresh_from_db()
    assert today.discussion == "Early."


# --- Actions -------------------------------------------------------------------------------


def test_every_action_has_an_owner_and_the_database_says_so_too(clerk, make_person):
    person = make_person("RED")
    item = _meeting(clerk).items.get()
    with pytest.raises(RegisterError, match="who owns the action"):
        _action(person, clerk, item=item, owner=Owner())
    action = _action(person, clerk, item=item, owner=Owner(name="Jo Patel", organisation="LA"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Action.objects.filter(pk=action.pk).update(owner_name="")


def test_an_owner_must_be_able_to_see_the_person(clerk, make_person, organisations):
    person = make_person("GREEN")
    item = agenda_add(meeting=_meeting(clerk), person=person, by=clerk)
    manager = UserFactory(
        organisation=organisations["north_council"], roles=[Role.SENIOR_MANAGER_LA]
    )
    # A senior manager sees only Red and Amber people: a Green person's action is not theirs.
    with pytest.raises(RegisterError, match="cannot see"):
        _action(person, clerk, item=item, owner=Owner(user=manager))


def test_overdue_is_worked_out_from_the_due_date(clerk, make_person):
    person = make_person("RED")
    item = _meeting(clerk).items.get()
    due_yesterday = _action(person, clerk, item=item, due=datetime.date(2026, 3, 9))
    due_today = _action(person, clerk, item=item, due=TODAY)
    done = _action(person, clerk, item=item, due=datetime.date(2026, 3, 1))
    action_close(action=done, status=Action.Status.DONE, note="", by=clerk)
    assert list(Action.objects.overdue(TODAY)) == [due_yesterday]
    assert (due_yesterday.is_overdue(TODAY), due_today.is_overdue(TODAY)) == (True, False)


def test_cancelling_an_action_needs_a_reason(clerk, make_person):
    person = make_person("RED")
    action = _action(person, clerk, item=_meeting(clerk).items.get())
    with pytest.raises(RegisterError, match="reason"):
        action_close(action=action, status=Action.Status.CANCELLED, note=" ", by=clerk)


def test_reminders_go_before_and_on_the_due_date_once_each(clerk, make_person):
    person = make_person("RED")
    item = _meeting(clerk).items.get()
    soon = _action(person, clerk, item=item, due=datetime.date(2026, 3, 12))
    today = _action(
        person,
        clerk,
        item=item,
        due=TODAY,
        owner=Owner(name="Jo Patel", organisation="Short breaks", email="jo@example.org"),
    )
    later = _action(person, clerk, item=item, due=datetime.date(2026, 3, 20))

    first = action_reminder_sweep(today=TODAY)
    second = action_reminder_sweep(today=TODAY)

    assert first == {"reminders": 2, "notifications": 2}
    assert second == {"reminders": 0, "notifications": 0}
    sent = {
        (n.subject_id, n.kind, n.email)
        for n in Notification.objects.filter(subject_type="reviews.action")
    }
    assert sent == {
        (soon.pk, "action_due_soon", clerk.email),
        (today.pk, "action_due", "jo@example.org"),
    }
    assert not Reminder.objects.filter(subject_id=later.pk, subject_type="reviews.action")
    # On the due date of the first action, its "due" reminder goes too, once.
    assert action_reminder_sweep(today=datetime.date(2026, 3, 12))["notifications"] == 1


def test_an_action_entered_already_overdue_is_not_told_it_is_due_today(clerk, make_person):
    person = make_person("RED")
    _action(person, clerk, item=_meeting(clerk).items.get(), due=datetime.date(2026, 2, 1))
    assert action_reminder_sweep(today=TODAY) == {"reminders": 0, "notifications": 0}


def test_an_owner_keeps_their_action_when_the_persons_rating_drops(
    clerk, make_person, organisations
):
    manager = UserFactory(
        organisation=organisations["north_council"], roles=[Role.SENIOR_MANAGER_LA]
    )
    person = make_person("RED")
    action = _action(person, clerk, item=_meeting(clerk).items.get(), owner=Owner(user=manager))
    rating_change(
        entry=person.register_entries.get(), rating=RAG.GREEN, rationale="Settled.", by=clerk
    )
    assert list(Action.objects.visible_to(manager)) == [action]


def test_an_owner_without_an_email_is_reminded_through_the_team(clerk, make_person, settings):
    person = make_person("RED")
    _action(person, clerk, item=_meeting(clerk).items.get(), owner=Owner(name="Jo"))
    action_reminder_sweep(today=TODAY)
    assert Notification.objects.get(subject_type="reviews.action").email == settings.DSR_TEAM_EMAIL


# --- C(E)TRs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "ehcp", "name"),
    [
        (datetime.date(2009, 1, 1), False, "CETR"),  # 17
        (datetime.date(2006, 1, 1), True, "CETR"),  # 20 with an EHCP: the education element
        (datetime.date(2006, 1, 1), False, "CTR"),  # 20 without one
        (datetime.date(1990, 1, 1), True, "CTR"),  # 36
    ],
)
def test_cetr_or_ctr_follows_age_and_ehcp(clerk, make_person, born, ehcp, name):
    person = make_person("RED", date_of_birth=born, has_ehcp=ehcp)
    assert cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk).name == name


def test_post_admission_due_dates_child_in_working_days_adult_in_calendar_days(
    clerk, make_person, admit, frozen_now
):
    frozen_now.move_to("2026-04-20 09:00:00+01:00")
    child = make_person("RED", date_of_birth=datetime.date(2012, 6, 1))
    adult = make_person("RED")
    # Tuesday 31 March 2026: Good Friday (3 April) and Easter Monday (6 April) are not working
    # days, so the tenth working day is Thursday 16 April.
    admit(child, datetime.date(2026, 3, 31))
    admit(adult, datetime.date(2026, 3, 31))
    assert cetr_plan(person=child, kind=Cetr.Kind.POST_ADMISSION, by=clerk).due_on == (
        datetime.date(2026, 4, 16)
    )
    assert cetr_plan(person=adult, kind=Cetr.Kind.POST_ADMISSION, by=clerk).due_on == (
        datetime.date(2026, 4, 28)
    )


def test_no_post_admission_cetr_after_a_community_one(clerk, make_person, admit):
    person = make_person("RED")
    admit(person, datetime.date(2026, 3, 2), community_cetr=True)
    with pytest.raises(RegisterError, match="No post-admission"):
        cetr_plan(person=person, kind=Cetr.Kind.POST_ADMISSION, by=clerk)
    # The inpatient CTR of an adult on a general ward: six months after admission.
    assert cetr_plan(person=person, kind=Cetr.Kind.INPATIENT, by=clerk).due_on == (
        datetime.date(2026, 9, 2)
    )


@pytest.mark.parametrize(
    "skip",
    [
        PanelMember.Role.CHAIR,
        PanelMember.Role.CLINICAL_EXPERT,
        PanelMember.Role.EXPERT_BY_EXPERIENCE,
    ],
)
def test_a_cetr_cannot_be_completed_without_the_required_panel(clerk, make_person, skip):
    cetr = CetrFactory(person=make_person("RED"), findings=True)
    full_panel(cetr, skip=skip)
    with pytest.raises(RegisterError, match="cannot be completed without"):
        cetr_complete(cetr=cetr, held_on=TODAY, by=clerk)
    cetr.refresh_from_db()
    assert cetr.status == Cetr.Status.PLANNED


def test_a_cetr_cannot_be_completed_without_the_clinical_experts_registration(clerk, make_person):
    cetr = CetrFactory(person=make_person("RED"), findings=True)
    full_panel(cetr, skip=PanelMember.Role.CLINICAL_EXPERT)
    PanelMemberFactory(
        cetr=cetr, role=PanelMember.Role.CLINICAL_EXPERT, professional_registration=""
    )
    with pytest.raises(RegisterError, match="current professional registration"):
        cetr_complete(cetr=cetr, held_on=TODAY, by=clerk)


def test_the_report_cannot_be_dated_in_the_future(clerk, make_person):
    cetr = CetrFactory(person=make_person("RED"), findings=True)
    full_panel(cetr)
    with pytest.raises(RegisterError, match="not in the future"):
        cetr_complete(cetr=cetr, held_on=TODAY, report_sent_on=datetime.date(2026, 6, 1), by=clerk)


def test_a_community_cetr_sets_no_inpatient_cycle(clerk, make_person):
    cetr = CetrFactory(person=make_person("RED"), findings=True)
    full_panel(cetr)
    assert cetr_complete(cetr=cetr, held_on=TODAY, by=clerk).next_due_on is None


def test_a_cetr_cannot_be_completed_until_every_member_declares_conflicts(clerk, make_person):
    cetr = CetrFactory(person=make_person("RED"), findings=True)
    full_panel(cetr, conflicts_declared=False)
    with pytest.raises(RegisterError, match="conflicts of interest declared"):
        cetr_complete(cetr=cetr, held_on=TODAY, by=clerk)


def test_a_delegated_chair_is_flagged_and_only_a_chair_can_be_one(clerk, make_person):
    cetr = cetr_plan(person=make_person("RED"), kind=Cetr.Kind.COMMUNITY, by=clerk)
    chair = panel_member_save(
        member=PanelMember(cetr=cetr, role="chair", name="Deputy", delegated_chair=True),
        by=clerk,
    )
    assert chair.delegated_chair
    with pytest.raises(IntegrityError), transaction.atomic():
        PanelMember.objects.create(
            cetr=cetr, role="clinical_expert", name="Dr X", delegated_chair=True
        )


def test_an_inpatient_cetr_sets_the_next_one_on_the_cadence(clerk, make_person, admit):
    child = make_person("RED", date_of_birth=datetime.date(2012, 6, 1))
    adult_secure = make_person("RED")
    admit(child, datetime.date(2026, 1, 6), community_cetr=True)
    admit(adult_secure, datetime.date(2026, 1, 6), community_cetr=True, secure=True)
    next_due = {}
    for person in (child, adult_secure):
        cetr = CetrFactory(person=person, kind=Cetr.Kind.INPATIENT, findings=True)
        full_panel(cetr)
        next_due[person.pk] = cetr_complete(cetr=cetr, held_on=TODAY, by=clerk).next_due_on
    assert next_due == {
        child.pk: datetime.date(2026, 6, 10),  # 3 months for a child
        adult_secure.pk: datetime.date(2027, 3, 10),  # 12 months for an adult in secure care
    }


def _kinds(person):
    return {step.kind for step in person_page(person, TODAY).next_steps}


def test_a_planned_community_cetr_clears_the_red_next_step(clerk, make_person):
    person = make_person("RED")
    assert "community_cetr" in _kinds(person)
    cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    assert "community_cetr" not in _kinds(person)
    assert "cetr_planned" in _kinds(person)


@pytest.mark.parametrize(
    ("overdue", "text"), [(1, "Chase 1 overdue action."), (2, "Chase 2 overdue actions.")]
)
def test_the_overdue_actions_step_counts_open_actions_past_their_due_date(
    clerk, make_person, overdue, text
):
    person = make_person("RED")
    cetr = cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    for _ in range(overdue):
        _action(person, clerk, cetr=cetr, due=datetime.date(2026, 3, 9))
    _action(person, clerk, cetr=cetr, due=TODAY)  # due today: not overdue yet
    for _ in range(12):  # past their due date, but closed
        action = _action(person, clerk, cetr=cetr, due=datetime.date(2026, 2, 1))
        action_close(action=action, status=Action.Status.DONE, note="", by=clerk)

    steps = {step.kind: step for step in person_page(person, TODAY).next_steps}

    assert steps["overdue_actions"].text == text


def test_a_cetr_held_in_hospital_clears_the_post_admission_step(clerk, make_person, admit):
    person = make_person("RED")
    admit(person, datetime.date(2026, 2, 2))
    assert "post_admission_cetr" in _kinds(person)
    cetr = CetrFactory(person=person, kind=Cetr.Kind.POST_ADMISSION, findings=True)
    full_panel(cetr)
    cetr_complete(cetr=cetr, held_on=datetime.date(2026, 2, 20), by=clerk)
    steps = {step.kind: step for step in person_page(person, TODAY).next_steps}
    assert "post_admission_cetr" not in steps
    # The next inpatient CTR counts from the one held: 6 months for an adult.
    assert steps["inpatient_cetr"].due == datetime.date(2026, 8, 20)


def test_consent_evidence_is_complete_or_absent(clerk, make_person):
    cetr = cetr_plan(person=make_person("RED"), kind=Cetr.Kind.COMMUNITY, by=clerk)
    with pytest.raises(RegisterError, match="consent evidence"):
        cetr_consent_record(
            cetr=cetr, basis=Consent.Basis.OWN_CONSENT, evidence=" ", recorded_on=TODAY, by=clerk
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Cetr.objects.filter(pk=cetr.pk).update(consent_recorded_on=TODAY)


# --- Oversight visits ----------------------------------------------------------------------


def test_oversight_visits_are_for_people_in_hospital_out_of_area(clerk, make_person, admit):
    local = make_person("RED")
    admit(local, datetime.date(2026, 2, 2))
    with pytest.raises(RegisterError, match="out of area"):
        visit_record(
            person=local,
            visited_on=TODAY,
            visited_by="Case manager",
            findings="Fine.",
            concerns=False,
            by=clerk,
        )


@pytest.mark.parametrize(("born", "due"), [(datetime.date(2012, 6, 1), 6), (None, 8)])
def test_the_next_visit_is_due_six_weeks_for_a_child_eight_for_an_adult(
    clerk, make_person, admit, born, due
):
    fields = {"date_of_birth": born} if born else {}
    person = make_person("RED", out_of_area=True, **fields)
    admit(person, datetime.date(2026, 1, 5), community_cetr=True)
    visit_record(
        person=person,
        visited_on=datetime.date(2026, 3, 2),
        visited_by="Case manager",
        findings="Settled.",
        concerns=False,
        by=clerk,
    )
    steps = {step.kind: step for step in person_page(person, TODAY).next_steps}
    assert steps["oversight_visit"].due == datetime.date(2026, 3, 2) + datetime.timedelta(weeks=due)


# --- C(E)TR requests -----------------------------------------------------------------------


def test_a_request_is_acknowledged_once_even_when_sent_twice():
    token = uuid.uuid4()
    fields = {
        "relationship": "self",
        "requester_name": "Ellis Ward",
        "requester_address": "1 High Street, Norwich NR1 2DH",
        "contact_by": "letter",
        "given_name": "Ellis",
        "family_name": "Ward",
        "date_of_birth": datetime.date(2000, 4, 1),
        "in_hospital": "no",
        "reason": "I would like a review.",
        "person_knows": True,
    }
    first = cetr_request_submit(fields=fields, channel="online", submission_token=token)
    again = cetr_request_submit(fields=fields, channel="online", submission_token=token)
    assert first == again
    assert CetrRequest.objects.count() == 1
    message = Notification.objects.get(subject_type="reviews.cetrrequest")
    assert (message.kind, message.channel, message.postal_address) == (
        "cetr_request_received",
        "letter",
        "1 High Street, Norwich NR1 2DH",
    )


def test_declining_a_request_tells_the_requester_why(clerk):
    request = CetrRequestFactory()
    cetr_request_decline(
        request=request, reason="The team supporting Ellis meets weekly.", by=clerk
    )
    message = Notification.objects.get(kind="cetr_request_declined")
    assert (message.email, message.context["reason"]) == (
        "morgan@example.com",
        "The team supporting Ellis meets weekly.",
    )
    with pytest.raises(RegisterError, match="already been triaged"):
        cetr_request_decline(request=request, reason="Again.", by=clerk)


def test_a_declined_email_requester_with_an_address_also_gets_the_reasons_by_letter(clerk):
    from dsr.outbox.delivery import render

    request = CetrRequestFactory(requester_address="2 Mill Lane, Norwich NR3 1HG")
    cetr_request_decline(request=request, reason="The team meets weekly now.", by=clerk)
    email, letter = Notification.objects.filter(kind="cetr_request_declined").order_by("id")
    assert (email.channel, letter.channel) == ("email", "letter")
    assert "The team meets weekly now." not in render(email).text
    assert "contact the DSR team" in render(email).text
    assert "Why: The team meets weekly now." in render(letter).text


def test_arranging_a_request_plans_the_cetr_and_tells_the_requester(clerk, make_person):
    person = make_person("AMBER", date_of_birth=datetime.date(2010, 4, 1))
    request = CetrRequestFactory(date_of_birth=datetime.date(2010, 4, 1))
    cetr = cetr_request_arrange(request=request, person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    request.refresh_from_db()
    assert (request.status, request.cetr, cetr.name) == ("arranged", cetr, "CETR")
    assert Notification.objects.filter(kind="cetr_request_arranged").count() == 1


def test_the_notice_and_pre_read_warnings(clerk, make_person):
    from reviews.services import cetr_arrange, cetr_warnings

    cetr = cetr_plan(person=make_person("RED"), kind=Cetr.Kind.COMMUNITY, by=clerk)
    # The review on 20 March with invitations sent today: 10 days' notice, and no pre-reads
    # yet (not yet within 24 hours, so no warning about them).
    cetr = cetr_arrange(
        cetr=cetr,
        by=clerk,
        scheduled_on=datetime.date(2026, 3, 20),
        invitations_sent_on=TODAY,
        pack_sent_at=None,
    )
    warnings = cetr_warnings(cetr, TODAY)
    assert any("Less than 2 weeks' notice" in w for w in warnings)
    assert not any("pre-reads" in w for w in warnings)
    assert any("No consent evidence" in w for w in warnings)
    # Pre-reads sent at 10:00 the day before (less than 24 hours before the day starts).
    cetr = cetr_arrange(
        cetr=cetr,
        by=clerk,
        scheduled_on=datetime.date(2026, 3, 24),
        invitations_sent_on=datetime.date(2026, 3, 9),
        pack_sent_at=at(datetime.date(2026, 3, 23), 10),
    )
    warnings = cetr_warnings(cetr, TODAY)
    assert not any("notice" in w for w in warnings)
    assert any("less than 24 hours before" in w for w in warnings)


def test_every_change_to_an_action_is_in_its_history(clerk, make_person):
    from reviews.services import action_change, action_reopen

    person = make_person("RED")
    action = _action(person, clerk, item=_meeting(clerk).items.get())
    action_change(
        action=action,
        by=clerk,
        description="Arrange two weeks of respite.",
        owner=Owner(user=clerk),
        agency=Agency.SOCIAL_CARE,
        due_on=datetime.date(2026, 3, 20),
    )
    action_close(action=action, status=Action.Status.DONE, note="Booked.", by=clerk)
    action_reopen(action=action, by=clerk)
    reasons = list(
        action.history.order_by("history_id").values_list("history_change_reason", flat=True)
    )
    assert reasons == ["Action agreed", "Action changed", "Action done", "Action reopened"]
    assert {h.history_user_id for h in action.history.all()} == {clerk.pk}


def test_the_scheduled_task_runs_the_action_sweep(clerk, make_person):
    from reviews.tasks import sweep_action_reminders_task

    person = make_person("RED")
    _action(person, clerk, item=_meeting(clerk).items.get())
    assert sweep_action_reminders_task() == {"reminders": 1, "notifications": 1}


def test_a_community_cetr_still_planned_at_admission_is_flagged_for_cancelling(
    clerk, make_person, admit
):
    person = make_person("RED")
    cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    admit(person, datetime.date(2026, 3, 9))
    texts = [s.text for s in person_page(person, TODAY).next_steps if s.kind == "cetr_planned"]
    assert texts == [
        "Cancel the planned community CTR: the person is now in hospital. Plan a "
        "post-admission or inpatient CTR instead."
    ]
