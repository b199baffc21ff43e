"""Running a meeting (issue "Meetings a chair can run", points 1 to 3): the discussion page
shows what the chair needs in a constant number of queries; the agenda's order and time slots;
people not discussed carried to the next meeting of the same area; attendees offered from the
last meeting; discussion from the day of the meeting; warnings before a second meeting the same
day and before an action identical to an open one; and the action form's refusals. On a frozen
clock: Tuesday 10 March 2026, 09:30."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dsr.exceptions import RegisterError
from dsr.models import RAG, PersonContact
from dsr.services import rating_change, register_close
from reviews.models import Action, AgendaReason, Attendee, Meeting
from reviews.queries import meeting_page
from reviews.services import (
    Owner,
    action_close,
    action_create,
    agenda_add,
    agenda_time_slots,
    attendees_from_last,
    discussion_record,
    meeting_create,
    meeting_mark_held,
)
from tests.conftest import signed_in_client
from tests.edit_pages import edit_version
from tests.escalation.factories import EscalationFactory
from tests.figures import record
from tests.reviews.helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)


def _meeting(clerk, day=TODAY, hour=9, *, area=None, kind=Meeting.Kind.DSR_REVIEW):
    return meeting_create(
        kind=kind, held_at=at(day, hour), chair=clerk, by=clerk, local_authority=area
    )


def _discuss(item, clerk, text="Discussed.", **fields):
    return discussion_record(
        item=item, by=clerk, risk_factors=fields.pop("risks", []), risk_notes="", discussion=text
    )


def _action(person, clerk, *, item, description="Book respite.", due=TODAY, **owner):
    return action_create(
        person=person,
        agenda_item=item,
        description=description,
        owner=Owner(**(owner or {"user": clerk})),
        agency="health",
        due_on=due,
        by=clerk,
    )


def _ticked(page: str, name: str) -> list[str]:
    """The values of the ticked checkboxes called `name` on the page."""
    tags = re.findall(r"<input[^>]*>", page)
    return [
        re.search(r'value="([^"]*)"', tag).group(1)
        for tag in tags
        if f'name="{name}"' in tag and re.search(r"\bchecked\b", tag)
    ]


def _date(name: str, day: datetime.date) -> dict[str, str]:
    return {f"{name}_day": day.day, f"{name}_month": day.month, f"{name}_year": day.year}


# --- The agenda's order and time slots ----------------------------------------------------------


def test_the_agenda_lists_everyone_rated_red_first_then_by_why_they_are_on_it(
    clerk, make_person, areas
):
    by_hand_red = make_person("RED", family_name="Adams")
    make_person("AMBER", family_name="Baker", opened_on=datetime.date(2025, 9, 1))
    red = make_person("RED", family_name="Young")
    meeting = _meeting(clerk, area=areas["north"], kind=Meeting.Kind.URGENT)
    # An urgent meeting's people are added by hand: the red one still comes first.
    green = make_person("GREEN", family_name="Able")
    agenda_add(meeting=meeting, person=green, by=clerk)
    agenda_add(meeting=meeting, person=red, by=clerk)
    agenda_add(meeting=meeting, person=by_hand_red, by=clerk)
    names = [r.item.person.family_name for r in meeting_page(meeting, clerk, TODAY).rows]
    assert names == ["Adams", "Young", "Able"]

    review = _meeting(clerk, area=areas["north"], hour=11)
    green = make_person("GREEN", family_name="Aaron")
    agenda_add(meeting=review, person=green, by=clerk)
    rows = meeting_page(review, clerk, TODAY).rows
    # Red (by name), then the amber review due, then the one added by hand.
    assert [r.item.person.family_name for r in rows] == ["Adams", "Young", "Baker", "Aaron"]
    assert rows[2].item.reasons == [AgendaReason.AMBER_DUE]


def test_time_slots_follow_the_agenda_from_the_start_and_can_be_cleared(clerk, make_person, areas):
    for name in ("Cole", "Ahmed", "Birch"):
        make_person("RED", family_name=name)
    meeting = _meeting(clerk, area=areas["north"], hour=13)
    cole = meeting.items.get(person__family_name="Cole")
    _discuss(cole, clerk)
    assert agenda_time_slots(meeting=meeting, by=clerk, minutes=15) == 2
    slots = {i.person.family_name: i.slot_at for i in meeting.items.select_related("person").all()}
    # Cole was discussed already: no slot; the others in the agenda's order, 15 minutes each.
    assert slots == {
        "Ahmed": at(TODAY, 13),
        "Birch": at(TODAY, 13) + datetime.timedelta(minutes=15),
        "Cole": None,
    }  # noqa: E501
    agenda_time_slots(meeting=meeting, by=clerk, minutes=None)
    assert not meeting.items.filter(slot_at__isnull=False).exists()
    with pytest.raises(RegisterError, match="between 1 and 240"):
        agenda_time_slots(meeting=meeting, by=clerk, minutes=0)


def test_the_time_slots_page_shows_the_times_on_the_agenda(clerk, make_person, areas):
    make_person("RED", family_name="Ahmed")
    make_person("RED", family_name="Birch")
    meeting = _meeting(clerk, area=areas["north"], hour=13)
    client = signed_in_client(clerk)
    url = reverse("reviews:meeting-slots", kwargs={"pk": meeting.pk})
    response = client.post(url, {"minutes": "20", "start": "13:30"})
    assert response.status_code == 302
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert ">13:30<" in page and ">13:50<" in page
    bad = client.post(url, {"minutes": "none", "start": "25:00"}).content.decode()
    assert "Enter the minutes as a number, like 10." in bad
    assert "Enter the time the first slot starts like 14:30." in bad


# --- Carried to the next meeting of the same area -----------------------------------------------


def test_people_not_discussed_are_carried_to_the_next_planned_meeting_of_the_same_area(
    clerk, make_person, areas
):
    people = [make_person("RED", family_name=n) for n in ("Ash", "Beech", "Cedar")]
    make_person("RED", family_name="Southern", area="south")
    meeting = _meeting(clerk, area=areas["north"])
    later = _meeting(clerk, day=datetime.date(2026, 3, 24), area=areas["north"])
    south = _meeting(clerk, day=datetime.date(2026, 3, 17), area=areas["south"])
    # Ash and Cedar are taken off the next meeting's agenda: only carrying can put them back.
    later.items.filter(person__in=[people[0], people[2]]).delete()
    _discuss(meeting.items.get(person=people[1]), clerk)
    # Cedar leaves the register: nobody is carried who is no longer on it.
    register_close(entry=people[2].register_entries.get(), reason="moved_area", by=clerk)

    meeting_mark_held(meeting=meeting, by=clerk)

    carried = later.items.get(person=people[0])
    assert carried.reasons == [AgendaReason.CARRIED]
    assert not later.items.filter(person=people[2]).exists()
    assert AgendaReason.CARRIED not in later.items.get(person=people[1]).reasons
    assert not south.items.filter(person__in=people).exists()


def test_a_meeting_planned_after_one_is_held_takes_the_people_not_discussed(
    clerk, make_person, areas
):
    ash = make_person("GREEN", family_name="Ash")  # not drawn from the register: only carried
    meeting = _meeting(clerk, area=areas["north"], kind=Meeting.Kind.URGENT)
    agenda_add(meeting=meeting, person=ash, by=clerk)
    meeting_mark_held(meeting=meeting, by=clerk)

    later = _meeting(clerk, day=datetime.date(2026, 3, 24), area=areas["north"])
    assert later.items.get(person=ash).reasons == [AgendaReason.CARRIED]
    # A meeting for another area, or for every area, is not "the same area".
    assert not _meeting(clerk, day=datetime.date(2026, 3, 25)).items.filter(person=ash).exists()


# --- Attendees from the last meeting ------------------------------------------------------------


def test_attendees_are_offered_from_the_last_meeting_of_the_same_area(clerk, areas):
    last = _meeting(clerk, day=datetime.date(2026, 2, 24), area=areas["north"])
    for name, attendance in [
        ("Kim Shah", "present"),
        ("Lee Moss", "present"),
        ("Al Gone", "apologies"),
    ]:  # noqa: E501
        Attendee.objects.create(meeting=last, name=name, agency="health", attendance=attendance)
    elsewhere = _meeting(clerk, day=datetime.date(2026, 3, 3), area=areas["south"])
    Attendee.objects.create(
        meeting=elsewhere, name="Southern Sam", agency="police", attendance="present"
    )  # noqa: E501
    meeting = _meeting(clerk, area=areas["north"])
    Attendee.objects.create(meeting=meeting, name="Lee Moss", agency="health")

    client = signed_in_client(clerk)
    url = reverse("reviews:attendees-from-last", kwargs={"pk": meeting.pk})
    page = client.get(url).content.decode()
    # Only who came last time and is not recorded here yet.
    assert "Kim Shah" in page
    assert "Lee Moss" not in page and "Al Gone" not in page and "Southern Sam" not in page
    offered = last.attendees.get(name="Kim Shah")
    empty = client.post(url, {"csrfmiddlewaretoken": "x"}).content.decode()
    assert "Tick who came." in empty
    assert client.post(url, {"attendees": [offered.pk]}).status_code == 302
    came = meeting.attendees.get(name="Kim Shah")
    assert (came.attendance, came.agency) == (Attendee.Attendance.PRESENT, "health")
    assert "from the last meeting" not in client.get(meeting.get_absolute_url()).content.decode()
    with pytest.raises(RegisterError, match="Tick who came"):
        attendees_from_last(meeting=meeting, attendees=[], by=clerk)


# --- Warnings before a likely mistake -----------------------------------------------------------


def test_a_second_meeting_for_the_same_area_on_the_same_day_is_planned_only_once_confirmed(
    clerk, areas
):
    _meeting(clerk, area=areas["north"])
    client = signed_in_client(clerk)
    data = {
        "kind": "dsr_review",
        **_date("day", TODAY),
        "time": "14:00",
        "local_authority": areas["north"].pk,
        "chair": clerk.pk,
    }
    url = reverse("reviews:meeting-create")
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is already a meeting for Northshire that day" in page
    assert Meeting.objects.count() == 1
    warned = response.context["warned"]
    # Confirming a warning for other answers does not count: the new ones warn afresh.
    other = client.post(url, {**data, "warned": "0" * 16})
    assert other.status_code == 200 and Meeting.objects.count() == 1
    assert client.post(url, {**data, "warned": warned}).status_code == 302
    assert Meeting.objects.count() == 2
    # Another area that day: no warning.
    assert client.post(url, {**data, "local_authority": areas["south"].pk}).status_code == 302


def test_an_action_identical_to_an_open_one_is_agreed_only_once_confirmed(
    clerk, make_person, areas
):
    person = make_person("RED")
    meeting = _meeting(clerk, area=areas["north"])
    item = meeting.items.get()
    _action(person, clerk, item=item, description="Book respite.")
    client = signed_in_client(clerk)
    url = reverse("reviews:item-action-add", kwargs={"pk": meeting.pk, "item_pk": item.pk})
    data = {
        "description": "book  respite",
        "owner": clerk.pk,
        "agency": "health",
        **_date("due_on", TODAY + datetime.timedelta(days=7)),
    }
    response = client.post(url, data)
    assert "already has this action open" in response.content.decode()
    assert Action.objects.count() == 1
    assert client.post(url, {**data, "warned": response.context["warned"]}).status_code == 302
    assert Action.objects.count() == 2
    # A different action, or one identical to a closed one, agrees at once.
    action_close(action=Action.objects.first(), status="done", note="", by=clerk)
    action_close(action=Action.objects.last(), status="done", note="", by=clerk)
    assert client.post(url, data).status_code == 302


# --- Actions ------------------------------------------------------------------------------------


def test_a_due_date_in_the_past_is_refused_and_writes_nothing(clerk, make_person, areas):
    make_person("RED")
    meeting = _meeting(clerk, area=areas["north"])
    item = meeting.items.get()
    client = signed_in_client(clerk)
    url = reverse("reviews:item-action-add", kwargs={"pk": meeting.pk, "item_pk": item.pk})
    data = {"description": "Book respite.", "owner": clerk.pk, "agency": "health"}
    response = client.post(url, {**data, **_date("due_on", TODAY - datetime.timedelta(days=1))})
    assert "The due date must be today or in the future." in response.content.decode()
    assert not Action.objects.exists()
    assert client.post(url, {**data, **_date("due_on", TODAY)}).status_code == 302


def test_an_overdue_action_keeps_its_due_date_when_changed_but_gets_no_new_past_one(
    clerk, make_person, areas
):
    person = make_person("RED")
    item = _meeting(clerk, area=areas["north"]).items.get()
    action = _action(person, clerk, item=item, due=datetime.date(2026, 3, 1))
    client = signed_in_client(clerk)
    url = reverse("reviews:action-update", kwargs={"pk": action.pk})
    data = {
        **edit_version(client, url),
        "description": "Book respite for April.",
        "owner": clerk.pk,
        "agency": "health",
    }
    refused = client.post(url, {**data, **_date("due_on", datetime.date(2026, 3, 2))})
    assert "The due date must be today or in the future." in refused.content.decode()
    kept = client.post(url, {**data, **_date("due_on", datetime.date(2026, 3, 1))})
    assert kept.status_code == 302
    action.refresh_from_db()
    assert action.description == "Book respite for April."


def test_an_owner_with_an_account_and_a_typed_name_is_an_error_not_a_silent_drop(
    clerk, make_person, areas
):
    person = make_person("RED")
    meeting = _meeting(clerk, area=areas["north"])
    item = meeting.items.get()
    client = signed_in_client(clerk)
    url = reverse("reviews:item-action-add", kwargs={"pk": meeting.pk, "item_pk": item.pk})
    response = client.post(
        url,
        {
            "description": "Book respite.",
            "owner": clerk.pk,
            "owner_name": "Jo Patel",
            "agency": "health",
            **_date("due_on", TODAY),
        },
    )
    assert "or enter the name of someone without one, not both." in response.content.decode()
    assert not Action.objects.exists()
    with pytest.raises(RegisterError, match="not both"):
        _action(person, clerk, item=item, user=clerk, organisation="County Council")


def test_the_close_form_is_not_offered_for_a_closed_action(clerk, make_person, areas):
    person = make_person("RED")
    item = _meeting(clerk, area=areas["north"]).items.get()
    action = _action(person, clerk, item=item)
    client = signed_in_client(clerk)
    url = reverse("reviews:action-close", kwargs={"pk": action.pk})
    assert 'name="status"' in client.get(url).content.decode()
    action_close(action=action, status="done", note="Booked.", by=clerk)
    page = client.get(url).content.decode()
    assert "This action is already closed" in page and "Booked." in page
    assert 'name="status"' not in page and "Record the action as done" not in page
    response = client.post(url, {"status": "cancelled", "note": "Not needed."})
    assert response.status_code == 200
    action.refresh_from_db()
    assert (action.status, action.completion_note) == ("done", "Booked.")


# --- The discussion page ------------------------------------------------------------------------


def _history(person, clerk, areas, *, meetings: int):
    """A person discussed at `meetings` earlier meetings (risks recorded each time, the rating
    confirmed), with an overdue action, a live escalation and two key people."""
    for number in range(meetings):
        day = datetime.date(2026, 1, 6) + datetime.timedelta(days=7 * number)
        earlier = _meeting(clerk, day=day, area=areas["north"], kind=Meeting.Kind.URGENT)
        agenda_add(meeting=earlier, person=person, by=clerk)
        item = earlier.items.get()
        discussion_record(
            item=item,
            by=clerk,
            risk_factors=["crisis", "breakdown"],
            risk_notes=f"Risk notes from meeting {number}.",
            discussion=f"Discussion {number}.",
            rating=RAG.RED,
            rationale=f"Still red, meeting {number}.",
        )
        _action(person, clerk, item=item, description=f"Action {number}.", due=day)
        meeting_mark_held(meeting=earlier, by=clerk)
    EscalationFactory(person=person)
    for name in ("Jan Key", "Pat Social"):
        PersonContact.objects.create(person=person, role="key_worker", name=name, phone="0123")


def test_the_discussion_page_shows_what_the_chair_needs(clerk, make_person, areas):
    person = make_person("RED", family_name="Hale")
    _history(person, clerk, areas, meetings=2)
    meeting = _meeting(clerk, area=areas["north"])
    item = meeting.items.get(person=person)
    assert AgendaReason.OVERDUE_ACTIONS in item.reasons
    client = signed_in_client(clerk)
    url = reverse("reviews:item-discuss", kwargs={"pk": meeting.pk, "item_pk": item.pk})
    page = client.get(url).content.decode()
    # Why they are on the agenda, with the overdue actions that put them there.
    assert "Overdue actions: 2 (listed below)" in page
    assert "Action 0." in page and "Action 1." in page and page.count("Overdue</strong>") >= 2
    # Close or carry them from here, and come back.
    assert f"/actions/{Action.objects.first().pk}/close/?item={item.pk}" in page
    # The last decision and its date, and the rating history.
    assert "Red confirmed on 13 January 2026 at the Urgent LAEP or Blue Light meeting" in page
    assert "Still red, meeting 0." in page
    # Last time's risks, pre-filled for confirming or changing.
    assert "Discussion 1." in page
    assert _ticked(page, "risk_factors") == ["crisis", "breakdown"]
    assert "Risk notes from meeting 1.</textarea>" in page
    assert "filled in with those recorded last time" in page
    # Open escalations, the next C(E)TR and key people.
    assert "Escalations" in page and "Raised by hand" in page
    assert "Arrange a community" in page
    assert "Jan Key" in page and "Pat Social" in page


def test_the_discussion_page_runs_the_same_queries_for_a_short_and_a_long_history(
    clerk, make_person, areas, django_assert_max_num_queries
):
    client = signed_in_client(clerk)
    short = make_person("RED", family_name="Short")
    _history(short, clerk, areas, meetings=1)
    meeting = _meeting(clerk, area=areas["north"])
    url = reverse(
        "reviews:item-discuss",
        kwargs={"pk": meeting.pk, "item_pk": meeting.items.get(person=short).pk},
    )
    client.get(url)  # the session's first request does its own reads
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    cap = len(queries)

    long = make_person("RED", family_name="Long")
    _history(long, clerk, areas, meetings=10)
    for number in range(10):
        rating_change(
            entry=long.register_entries.get(),
            rating=RAG.AMBER if number % 2 else RAG.RED,
            rationale=f"Change {number}.",
            by=clerk,
        )
    later = _meeting(clerk, day=TODAY, hour=11, area=areas["north"])
    url = reverse(
        "reviews:item-discuss",
        kwargs={"pk": later.pk, "item_pk": later.items.get(person=long).pk},
    )
    with django_assert_max_num_queries(cap):
        page = client.get(url).content.decode()
    assert "Action 9." in page
    record("Reviews: discussion page queries with 1 / 10 earlier meetings", f"{cap} / <= {cap}")


def test_the_mark_as_held_page_says_how_many_were_not_discussed_and_the_minutes_list_them(
    clerk, make_person, areas
):
    for name in ("Ash", "Beech", "Cedar"):
        make_person("RED", family_name=name)
    meeting = _meeting(clerk, area=areas["north"])
    _discuss(meeting.items.get(person__family_name="Ash"), clerk)
    client = signed_in_client(clerk)
    url = reverse("reviews:meeting-held", kwargs={"pk": meeting.pk})
    page = client.get(url).content.decode()
    assert "2 people on the agenda not discussed will be carried to the next meeting" in page
    # A browser always posts the form's CSRF token: the form is bound.
    response = client.post(url, {"csrfmiddlewaretoken": "x"}, follow=True)
    assert "The minutes are final and list the 2 people not discussed." in (
        response.content.decode()
    )
    minutes = client.get(reverse("reviews:meeting-minutes", kwargs={"pk": meeting.pk}))
    text = minutes.content.decode()
    not_discussed = text.split("<h2>Not discussed</h2>")[1]
    assert "Beech" in not_discussed and "Cedar" in not_discussed and "Ash" not in not_discussed


def test_the_discussion_page_reopened_shows_and_keeps_what_was_recorded(clerk, make_person, areas):
    """Saved with a rating decision and unmet needs, the page opened again has them selected
    and says what was recorded; saving again records no second rating."""
    from dsr.models import PersonNeed, Rating

    person = make_person("AMBER", family_name="Reopened")
    meeting = _meeting(clerk, area=areas["north"])
    item = meeting.items.filter(person=person).first() or agenda_add(
        meeting=meeting, person=person, by=clerk
    )
    client = signed_in_client(clerk)
    url = reverse("reviews:item-discuss", kwargs={"pk": meeting.pk, "item_pk": item.pk})
    data = {
        **edit_version(client, url),
        "discussion": "Placement at risk.",
        "rating": RAG.RED,
        "rationale": "The placement has given notice.",
        "needs": ["housing", "respite"],
    }
    assert client.post(url, data).status_code == 302
    assert Rating.objects.filter(meeting=meeting).count() == 1

    page = client.get(url).content.decode()

    assert _ticked(page, "rating") == [RAG.RED]
    assert "The placement has given notice.</textarea>" in page
    assert _ticked(page, "needs") == ["housing", "respite"]
    recorded = page[page.index('id="recorded"') :]
    assert "Changed from amber to red: The placement has given notice." in recorded
    assert "Housing; Short breaks or respite" in recorded

    # Saved again as it stands: the same decision, not a second rating or need.
    again = {**data, **edit_version(client, url), "discussion": "Placement at risk. Updated."}
    assert client.post(url, again).status_code == 302
    assert Rating.objects.filter(meeting=meeting).count() == 1
    assert PersonNeed.objects.filter(person=person).count() == 2
