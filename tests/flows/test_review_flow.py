"""A multi-agency review from planning to reminders, through the pages (issue "Reviews", flow):
a meeting is planned and its agenda lists the right people; at the meeting a rating is changed
and two actions agreed; the person's timeline shows them; once overdue, the actions appear in
the owner's "my actions" and on the dashboard, and each reminder is sent once."""

import datetime

import pytest
from django.urls import reverse

from dsr.models import AccessEvent, Notification
from dsr.roles import Role
from reviews.models import Action, Meeting
from reviews.services import action_reminder_sweep
from tests.conftest import account, signed_in_client
from tests.edit_pages import edit_version

pytestmark = pytest.mark.django_db


def _date(name: str, day: datetime.date) -> dict[str, str]:
    return {f"{name}_day": day.day, f"{name}_month": day.month, f"{name}_year": day.year}


def test_a_meeting_from_agenda_to_reminders(
    make_person, organisations, areas, frozen_now, django_capture_on_commit_callbacks
):
    staff = account(organisations["icb"], Role.REGISTER_STAFF, full_name="Sam Staff")
    client = signed_in_client(staff)
    red = make_person("RED", family_name="Redman")
    make_person("GREEN", family_name="Greenwood")
    amber_due = make_person("AMBER", family_name="Ambler")

    # Plan a meeting for today at 09:00 (it has started: the clock reads 09:30).
    today = datetime.date(2026, 3, 10)
    response = client.post(
        reverse("reviews:meeting-create"),
        {
            "kind": "dsr_review",
            **_date("day", today),
            "time": "09:00",
            "location": "Online",
            "local_authority": areas["north"].pk,
            "chair": staff.pk,
        },
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert "Redman" in page and "Ambler" in page and "Greenwood" not in page

    # Change Redman's rating and agree two actions.
    item = meeting.items.get(person=red)
    discuss = reverse("reviews:item-discuss", kwargs={"pk": meeting.pk, "item_pk": item.pk})
    response = client.post(
        discuss,
        {
            **edit_version(client, discuss),
            "risk_factors": ["crisis"],
            "discussion": "Crisis support is now in place.",
            "rating": "AMBER",
            "rationale": "Crisis support reduces the immediate risk.",
        },
    )
    assert response.status_code == 302, response.content.decode()
    add_action = reverse("reviews:item-action-add", kwargs={"pk": meeting.pk, "item_pk": item.pk})
    for description, due in [("Book respite.", today), ("Review the crisis plan.", today)]:
        response = client.post(
            add_action,
            {
                "description": description,
                "owner": staff.pk,
                "agency": "social_care",
                **_date("due_on", due),
            },
        )
        assert response.status_code == 302, response.content.decode()
    assert Action.objects.filter(person=red, owner=staff).count() == 2
    rating = red.register_entries.get().ratings.order_by("-id").first()
    assert (rating.rating, rating.meeting) == ("AMBER", meeting)

    # The timeline (one click from the person page) shows the discussion, the rating decided at
    # the meeting and both actions.
    person_page = client.get(reverse("dsr:person-history", args=[red.pk])).content.decode()
    assert "Discussed at the DSR multi-agency review" in person_page
    assert "Decided at the DSR multi-agency review" in person_page
    assert person_page.count("Action agreed (multi-agency meeting)") == 2
    # Another person's discussion never shows through this record.
    other = meeting.items.get(person=amber_due)
    other_discuss = reverse("reviews:item-discuss", kwargs={"pk": meeting.pk, "item_pk": other.pk})
    saved = client.post(
        other_discuss,
        {**edit_version(client, other_discuss), "discussion": "A private matter about Ambler."},
    )
    assert saved.status_code == 302
    assert (
        "A private matter about Ambler" not in client.get(red.get_absolute_url()).content.decode()
    )

    # Reminders on the due date: one per action, however often the sweep runs.
    with django_capture_on_commit_callbacks(execute=False):
        assert action_reminder_sweep(today=today)["notifications"] == 2
        assert action_reminder_sweep(today=today)["notifications"] == 0
    assert Notification.objects.filter(kind="action_due", email=staff.email).count() == 2

    # The next day they are overdue: in "my actions" and on the dashboard.
    frozen_now.move_to("2026-03-11 09:30:00+00:00")
    client = signed_in_client(staff)  # a new day, a new sign-in
    mine = client.get(reverse("reviews:my-actions")).content.decode()
    assert "2 overdue" in mine and "Book respite." in mine
    dashboard = client.get(reverse("dsr:register-dashboard")).content.decode()
    assert "2 actions are overdue" in dashboard and "Review the crisis plan." in dashboard
    assert AccessEvent.objects.filter(
        user=staff, person=red, detail__page="dashboard overdue actions"
    ).exists()
    with django_capture_on_commit_callbacks(execute=False):
        assert action_reminder_sweep(today=datetime.date(2026, 3, 11))["notifications"] == 0
