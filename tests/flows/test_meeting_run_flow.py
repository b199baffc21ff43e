"""A chair runs a meeting through the pages (issue "Meetings a chair can run", must show): plan
it; open the discussion page of a person put on the agenda by an overdue action, which shows that
action and the risks recorded last time; close the action from there; discuss two of the five
people; mark the meeting held, which says three were not discussed; the minutes list those three
as not discussed, and the next meeting planned for the area has them on its agenda, saying why."""

import datetime
import re

import pytest
from django.urls import reverse

from dsr.roles import Role
from reviews.models import Action, AgendaReason, Meeting
from reviews.services import Owner, action_create, agenda_add, discussion_record, meeting_create
from reviews.services import meeting_mark_held as held
from tests.conftest import account, signed_in_client
from tests.edit_pages import edit_version
from tests.reviews.helpers import at

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)


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


def _plan(client, chair, area, day: datetime.date) -> Meeting:
    response = client.post(
        reverse("reviews:meeting-create"),
        {
            "kind": "dsr_review",
            **_date("day", day),
            "time": "09:00",
            "location": "Room 4",
            "local_authority": area.pk,
            "chair": chair.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()
    return Meeting.objects.get(pk=response["Location"].rstrip("/").split("/")[-1])


def test_plan_run_and_close_a_meeting_carrying_those_not_discussed(
    make_person, organisations, areas, frozen_now
):
    chair = account(organisations["icb"], Role.REGISTER_STAFF, full_name="Chris Chair")
    client = signed_in_client(chair)
    north = areas["north"]
    # Five people: Adler has an overdue action agreed at last month's urgent meeting, where
    # their risks were recorded; Baird is red; three are added by hand.
    adler = make_person("GREEN", family_name="Adler")
    baird = make_person("RED", family_name="Baird")
    others = [make_person("GREEN", family_name=n) for n in ("Cole", "Dunn", "Evans")]
    last = meeting_create(
        kind=Meeting.Kind.URGENT, held_at=at(datetime.date(2026, 2, 10)), chair=chair, by=chair,
        local_authority=north,
    )  # fmt: skip
    agenda_add(meeting=last, person=adler, by=chair)
    discussion_record(
        item=last.items.get(),
        by=chair,
        risk_factors=["breakdown"],
        risk_notes="Foster placement under strain.",
        discussion="Placement support discussed.",
    )
    action_create(
        person=adler,
        agenda_item=last.items.get(),
        description="Arrange placement support visits.",
        owner=Owner(user=chair),
        agency="social_care",
        due_on=datetime.date(2026, 3, 1),
        by=chair,
    )
    held(meeting=last, by=chair)

    # Plan today's meeting: the register draws Adler (overdue action) and Baird (red).
    meeting = _plan(client, chair, north, TODAY)
    assert {i.person_id: i.reasons for i in meeting.items.all()} == {
        adler.pk: [AgendaReason.OVERDUE_ACTIONS],
        baird.pk: [AgendaReason.RED],
    }
    for person in others:
        response = client.post(
            reverse("reviews:person-agenda-add", kwargs={"pk": person.pk}),
            {"meeting": meeting.pk},
        )
        assert response.status_code == 302
    page = client.get(meeting.get_absolute_url()).content.decode()
    # Red first, then the overdue action, then those added by hand.
    order = [page.index(n) for n in ("Baird", "Adler", "Cole", "Dunn", "Evans")]
    assert order == sorted(order)

    # Adler's discussion page: why they are here, the overdue action, last time's risks.
    item = meeting.items.get(person=adler)
    discuss = reverse("reviews:item-discuss", kwargs={"pk": meeting.pk, "item_pk": item.pk})
    page = client.get(discuss).content.decode()
    assert "Overdue actions: 1 (listed below)" in page
    assert "Arrange placement support visits." in page and "Overdue</strong>" in page
    assert "Discussed at the Urgent LAEP or Blue Light meeting on 10 February 2026." in page
    assert "Risk of family or placement breakdown" in page
    assert _ticked(page, "risk_factors") == ["breakdown"]
    assert "Foster placement under strain.</textarea>" in page
    # Close the action from here, and come back to the discussion.
    action = Action.objects.get(person=adler)
    close = reverse("reviews:action-close", kwargs={"pk": action.pk}) + f"?item={item.pk}"
    assert f'href="{close}"' in page.replace("&amp;", "&")
    response = client.post(close, {"status": "done", "note": "Visits booked weekly."})
    assert response.status_code == 302 and response["Location"] == discuss

    # Discuss two of the five.
    for person, text in [(adler, "Placement steadier."), (baird, "Crisis plan in place.")]:
        url = reverse(
            "reviews:item-discuss",
            kwargs={"pk": meeting.pk, "item_pk": meeting.items.get(person=person).pk},
        )
        response = client.post(
            url, {**edit_version(client, url), "risk_factors": ["breakdown"], "discussion": text}
        )
        assert response.status_code == 302, response.content.decode()

    # Mark it held: the page says three were not discussed, and where they go.
    mark = reverse("reviews:meeting-held", kwargs={"pk": meeting.pk})
    assert (
        "3 people on the agenda not discussed will be carried" in client.get(mark).content.decode()
    )
    response = client.post(mark, {"csrfmiddlewaretoken": "x"}, follow=True)
    assert "The minutes are final and list the 3 people not discussed." in (
        response.content.decode()
    )
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD

    # The minutes list the three as not discussed.
    minutes = client.get(reverse("reviews:meeting-minutes", kwargs={"pk": meeting.pk}))
    discussed, not_discussed = minutes.content.decode().split("<h2>Not discussed</h2>")
    for name in ("Cole", "Dunn", "Evans"):
        assert name in not_discussed and name not in discussed
    assert "Adler" in discussed and "Baird" in discussed
    assert "Adler" not in not_discussed and "Baird" not in not_discussed

    # The next meeting for the area has the three on its agenda, saying why.
    frozen_now.move_to("2026-03-17 09:30:00+00:00")
    client = signed_in_client(chair)
    later = _plan(client, chair, north, datetime.date(2026, 3, 24))
    reasons = {i.person.family_name: i.reasons for i in later.items.select_related("person")}
    assert reasons == {
        "Baird": [AgendaReason.RED],  # red, as every meeting
        "Cole": [AgendaReason.CARRIED],
        "Dunn": [AgendaReason.CARRIED],
        "Evans": [AgendaReason.CARRIED],
    }
    page = client.get(later.get_absolute_url()).content.decode()
    assert page.count("Not discussed at the last meeting of this area") == 3
