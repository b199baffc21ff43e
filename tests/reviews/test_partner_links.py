"""Partners who own an action without an account (ACCESS.md "Action owner by link"): a link
for one action, which expires, can be withdrawn and is refused after; every use a row; the
page and the email show only the external summary, the due date and the team's contact
details; the record names the partner who closed the action."""

import datetime

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import NoReverseMatch, reverse

from dsr.exceptions import RegisterError
from dsr.models import Notification
from dsr.outbox.delivery import deliver_due
from dsr.services import team_contact_save
from reviews import services
from reviews.contributions import review_events
from reviews.models import Action, ActionLink, ActionLinkUse, Agency
from reviews.services.links import (
    action_link_send,
    action_link_token,
    action_link_withdraw,
    summary_identifiers,
)
from tests.conftest import SENTINEL, make_persona, signed_in_client
from tests.figures import record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)
SUMMARY = "Confirm the school transport starts on Monday, and tell us the pick-up time."
HEALTH = f"{SENTINEL}Health: review the autism medication after the admission."
DOB = datetime.date(2011, 4, 3)
# The partner's page, opened or sent: the same number with 1 or 100 earlier uses of the link.
QUERIES = 16


@pytest.fixture
def contact(organisations):
    return team_contact_save(
        by=make_persona("dsr_lead", organisations),
        phone="01632 960 001",
        email="dsr.team@nhs.example",
        address="DSR team\n1 Example Street",
        postcode="NR1 2DH",
        opening_hours="Monday to Friday, 9am to 5pm",
        complaints="Write to us.",
        young_people_guide_url="https://www.england.nhs.uk/example-young-people-guides/",
    )


@pytest.fixture
def person(make_person):
    return make_person(
        "RED",
        given_name="Ellis",
        family_name=f"{SENTINEL}Hart",
        nhs_number="9434765919",
        date_of_birth=DOB,
        postcode="NR2 4AB",
    )


def _action(person, clerk, **owner) -> Action:
    meeting = services.meeting_create(
        kind="urgent", held_at=datetime.datetime.now(datetime.UTC), chair=clerk, by=clerk
    )
    item = services.agenda_add(meeting=meeting, person=person, by=clerk)
    return services.action_create(
        person=person,
        agenda_item=item,
        description=HEALTH,
        owner=services.Owner(**(owner or {"name": "Jo Patel", "organisation": "Short breaks"})),
        agency=Agency.EDUCATION,
        due_on=TODAY + datetime.timedelta(days=7),
        by=clerk,
    )


@pytest.fixture
def action(person, clerk):
    return _action(person, clerk)


@pytest.fixture
def link(action, clerk):
    return action_link_send(action=action, summary=SUMMARY, email="jo@example.org", by=clerk)


def _url(link: ActionLink, *, token: str | None = None) -> str:
    return reverse("reviews:action-link", kwargs={"token": token or action_link_token(link)})


def _uses(link) -> list[str]:
    return list(ActionLinkUse.objects.filter(link=link).values_list("kind", flat=True))


# --- The partner's page -------------------------------------------------------------------------


def test_the_page_shows_the_summary_the_due_date_and_the_team_contact(client, link, contact):
    page = client.get(_url(link))

    assert page.status_code == 200
    assert SUMMARY in page.text and "17 March 2026" in page.text
    assert "How to contact the DSR team" in page.text and "01632 960 001" in page.text
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    assert _uses(link) == ["opened"]


def test_the_partner_marks_their_action_done_and_the_record_names_them(client, link, person):
    response = client.post(_url(link), {"outcome": "done", "note": "Transport booked."})

    action = Action.objects.get(pk=link.action_id)
    assert response.status_code == 302
    assert (action.status, action.closed_by_id) == ("done", None)
    assert action.closed_by_partner == "Jo Patel, Short breaks"
    assert action.transitions.get().by_link == link
    assert action.completion_note == "Transport booked."
    latest = action.history.first()
    assert (
        latest.history_change_reason == "Action done by Jo Patel, Short breaks through their link"
    )
    assert latest.history_user_id is None
    [closed] = [e for e in review_events(person, limit=None) if e.title == "Action done"]
    assert closed.by == "Jo Patel, Short breaks, through their link"
    assert _uses(link) == ["done"]
    assert "Thank you: the action is recorded as done." in client.get(response.url).text


def test_the_partner_says_what_is_in_the_way_and_the_team_is_told(client, link, person, settings):
    response = client.post(_url(link), {"outcome": "blocked", "note": "No driver until May."})

    assert response.status_code == 302
    assert Action.objects.get(pk=link.action_id).status == "open"
    assert _uses(link) == ["blocked"]
    told = Notification.objects.get(kind="action_blocked")
    assert (told.email, told.subject_id) == (settings.DSR_TEAM_EMAIL, link.action_id)
    [event] = [
        e
        for e in review_events(person, limit=None)
        if e.title.startswith("Something is in the way")
    ]
    assert (event.detail, event.by) == (
        "No driver until May.",
        "Jo Patel, Short breaks, through their link",
    )


def test_saying_something_is_in_the_way_needs_what(client, link):
    response = client.post(_url(link), {"outcome": "blocked", "note": " "})

    assert response.status_code == 200 and "Say what is in the way." in response.text
    assert "nhsuk-error-summary" in response.text
    assert _uses(link) == ["opened"]  # the page drawn again; nothing reported


# --- Refusals: another action, expired, withdrawn, reused after withdrawal, tampered --------------


def test_a_link_opens_only_its_own_action(client, link, person, clerk):
    # The URL carries the token alone: it names one link, so one action. Another action's owner
    # has their own link; using one closes that action and no other.
    other = _action(person, clerk, name="Sam Lee", organisation="Youth service")
    other_link = action_link_send(
        action=other, summary="Book the youth club place.", email="sam@example.org", by=clerk
    )

    page = client.get(_url(other_link))
    posted = client.post(_url(other_link), {"outcome": "done", "note": ""})

    assert page.status_code == 200 and posted.status_code == 302
    assert "Book the youth club place." in page.text
    assert SUMMARY not in page.text
    assert Action.objects.get(pk=other.pk).status == "done"
    assert Action.objects.get(pk=link.action_id).status == "open"
    assert _uses(link) == []
    # And the URL takes no action id to point a link at another action.
    with pytest.raises(NoReverseMatch):
        reverse("reviews:action-link", kwargs={"pk": other.pk, "token": action_link_token(link)})


def test_an_expired_link_is_refused_and_the_refusal_is_a_row(client, link, frozen_now):
    frozen_now.shift(datetime.timedelta(days=28))

    page = client.get(_url(link))
    posted = client.post(_url(link), {"outcome": "done", "note": ""})

    assert page.status_code == posted.status_code == 410
    assert "This link has expired" in page.text and SUMMARY not in page.text
    assert Action.objects.get(pk=link.action_id).status == "open"
    assert _uses(link) == ["refused", "refused"]


def test_the_link_works_until_the_moment_it_expires(client, link, frozen_now):
    frozen_now.shift(datetime.timedelta(days=28) - datetime.timedelta(seconds=1))

    assert client.get(_url(link)).status_code == 200


def test_a_withdrawn_link_is_refused(client, link, clerk):
    token = action_link_token(link)
    action_link_withdraw(action=link.action, by=clerk)

    page = client.get(_url(link, token=token))

    assert page.status_code == 410 and "This link has been withdrawn" in page.text
    assert _uses(link) == ["refused"]


def test_a_link_used_then_withdrawn_is_refused_when_used_again(client, link, clerk):
    token = action_link_token(link)
    client.post(_url(link, token=token), {"outcome": "blocked", "note": "Waiting for a driver."})
    action_link_withdraw(action=link.action, by=clerk)

    again = client.post(_url(link, token=token), {"outcome": "done", "note": ""})

    assert again.status_code == 410
    assert Action.objects.get(pk=link.action_id).status == "open"
    assert _uses(link) == ["blocked", "refused"]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),  # one character changed
        lambda t: t[:-1],  # cut short
        lambda t: t.upper(),  # not the shape a token has
        lambda t: "0" * 64,
    ],
)
def test_a_tampered_token_is_refused(client, link, tamper):
    page = client.get(_url(link, token=tamper(action_link_token(link))))
    posted = client.post(
        _url(link, token=tamper(action_link_token(link))), {"outcome": "done", "note": ""}
    )

    assert page.status_code == posted.status_code == 404
    assert Action.objects.get(pk=link.action_id).status == "open"
    assert _uses(link) == []


@pytest.mark.parametrize("limit", [1, 3])
def test_past_the_hourly_limit_the_page_says_too_many_and_records_nothing(link, settings, limit):
    cache.clear()  # the counters of the other tests
    settings.ACTION_LINK_PAGES_PER_HOUR = limit
    client = Client(REMOTE_ADDR="203.0.113.7")
    opened = [client.get(_url(link)).status_code for _ in range(limit)]

    refused = client.get(_url(link))
    posted = client.post(_url(link), {"outcome": "done", "note": "Transport booked."})
    elsewhere = Client(REMOTE_ADDR="203.0.113.8").get(_url(link))

    assert opened == [200] * limit
    assert refused.status_code == posted.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "Sorry, there have been too many requests" in refused.text
    assert SUMMARY not in refused.text
    assert Action.objects.get(pk=link.action_id).status == "open"
    assert elsewhere.status_code == 200
    assert _uses(link) == ["opened"] * (limit + 1)


def test_the_page_opened_and_sent_takes_the_same_queries_whatever_the_history(
    client, link, django_assert_max_num_queries
):
    for _ in range(5):
        client.post(_url(link), {"outcome": "blocked", "note": "Waiting for a driver."})
    with django_assert_max_num_queries(QUERIES) as opened:
        assert client.get(_url(link)).status_code == 200
    with django_assert_max_num_queries(QUERIES) as sent:
        response = client.post(_url(link), {"outcome": "done", "note": "Transport booked."})
    assert response.status_code == 302
    record("Reviews: partner's action page queries opened / sent", f"{len(opened)} / {len(sent)}")


def test_a_closed_action_offers_no_form(client, link, clerk):
    services.action_close(
        action=Action.objects.get(pk=link.action_id), status="done", note="", by=clerk
    )

    page = client.get(_url(link))
    posted = client.post(_url(link), {"outcome": "blocked", "note": "Still waiting."})

    assert page.status_code == 200 and "This action is closed" in page.text
    assert "<form" not in page.text.split("</header>")[-1].split("<footer")[0]
    assert "already closed" in posted.text
    assert not ActionLinkUse.objects.filter(kind="blocked").exists()


# --- Nothing identifying leaves the register ------------------------------------------------------


def _identifying(person, action) -> list[str]:
    return [
        SENTINEL,
        person.given_name,
        person.nhs_number,
        "943 476 5919",
        "3 April 2011",
        "03/04/2011",
        person.postcode,
        action.description,
        "autism",
    ]


def test_the_page_leaks_no_identifier_or_health_detail(client, link, person, action, contact):
    pages = [
        client.get(_url(link)).text,
        client.post(_url(link), {"outcome": "blocked", "note": ""}).text,
    ]

    for page in pages:
        assert SUMMARY in page
        for secret in _identifying(person, action):
            assert secret.lower() not in page.lower(), secret


def test_the_email_carries_the_link_the_expiry_and_the_team_contact_and_nothing_identifying(
    link, person, action, contact
):
    deliver_due()

    [email] = mail.outbox
    html = email.alternatives[0][0]
    assert email.to == ["jo@example.org"]
    for body in (email.body, html):
        assert _url(link) in body
        assert "7 April 2026" in body  # the link's expiry, 28 days on
        assert "17 March 2026" in body  # the due date
        assert "How to contact the DSR team" in body and "01632 960 001" in body
        # A partner owns an action; no decision of ours is about them to complain of.
        assert "How to complain" not in body and "Write to us." not in body
        for secret in _identifying(person, action) + [SUMMARY]:
            assert secret.lower() not in body.lower(), secret
    assert SENTINEL not in email.subject


def test_a_link_withdrawn_before_its_email_goes_is_never_sent(link, clerk):
    action_link_withdraw(action=link.action, by=clerk)

    deliver_due()

    assert mail.outbox == []
    assert Notification.objects.get(kind="action_link").status == "failed"


@pytest.mark.parametrize(
    ("summary", "found"),
    [
        ("Ellis needs transport.", "their first name"),
        (f"Transport for {SENTINEL}Hart.", "their last name"),
        ("NHS no 943 476 5919.", "their NHS number"),
        ("Born 03/04/2011.", "their date of birth"),
        ("Born 3 April 2011.", "their date of birth"),
        ("Born 2011-04-03.", "their date of birth"),
        ("Lives at NR2 4AB.", "their postcode"),
        ("Lives at nr24ab.", "their postcode"),
        ("Support with autism at school.", "a health detail"),
        ("After the hospital admission.", "a health detail"),
    ],
)
def test_a_summary_naming_the_person_is_refused_and_nothing_is_sent(
    action, clerk, person, summary, found
):
    with pytest.raises(RegisterError, match="must not identify the person") as refused:
        action_link_send(action=action, summary=summary, email="jo@example.org", by=clerk)

    assert found in str(refused.value)
    assert not ActionLink.objects.exists() and not Notification.objects.exists()


def test_a_plain_summary_names_nothing(person):
    assert summary_identifiers(SUMMARY, person) == []
    # A word that merely contains the name is not the name.
    assert summary_identifiers("Ellison Road school", person) == []


def test_the_staff_page_shows_a_refused_summary_as_an_error_and_writes_nothing(action, clerk):
    client = signed_in_client(clerk)
    url = reverse("reviews:action-link-send", kwargs={"pk": action.pk})

    response = client.post(url, {"summary": "Ellis needs transport.", "email": "jo@example.org"})
    sent = client.post(url, {"summary": SUMMARY, "email": "jo@example.org"})

    assert response.status_code == 200 and "Take out their first name." in response.text
    assert sent.status_code == 302
    assert ActionLink.objects.get().summary == SUMMARY
    assert "Works until 7 April 2026" in client.get(sent.url).text


# --- The right person closes the action -----------------------------------------------------------


def test_an_owner_with_an_account_gets_no_link(person, clerk):
    action = _action(person, clerk, user=clerk)

    with pytest.raises(RegisterError, match="The owner has an account"):
        action_link_send(action=action, summary=SUMMARY, email="x@example.org", by=clerk)


def test_sending_a_new_link_stops_the_old_one(client, link, clerk):
    old = action_link_token(link)

    new = action_link_send(
        action=link.action, summary=SUMMARY, email="jo.patel@example.org", by=clerk
    )

    assert client.get(_url(link, token=old)).status_code == 410
    assert client.get(_url(new)).status_code == 200


def test_changing_the_owner_stops_the_old_owners_link(client, link, clerk):
    action = Action.objects.get(pk=link.action_id)
    services.action_change(
        action=action,
        by=clerk,
        description=action.description,
        owner=services.Owner(name="Sam Lee", organisation="Youth service"),
        agency=action.agency,
        due_on=action.due_on,
    )

    response = client.post(_url(link), {"outcome": "done", "note": ""})

    assert response.status_code == 410
    assert Action.objects.get(pk=action.pk).status == "open"
    assert ActionLink.objects.get(pk=link.pk).withdrawn_reason == "The action's owner changed."


def test_changing_only_the_due_date_keeps_the_link(client, link, clerk):
    action = Action.objects.get(pk=link.action_id)
    services.action_change(
        action=action,
        by=clerk,
        description=action.description,
        owner=services.Owner(name="Jo Patel", organisation="Short breaks"),
        agency=action.agency,
        due_on=action.due_on + datetime.timedelta(days=7),
    )

    assert client.get(_url(link)).status_code == 200


def test_a_manager_who_does_not_own_an_action_cannot_close_it(person, clerk, organisations):
    from dsr.roles import Role
    from tests.conftest import account

    owner = account(organisations["trust"], Role.SENIOR_MANAGER_HEALTH)
    other = account(organisations["trust"], Role.SENIOR_MANAGER_HEALTH)
    action = _action(person, clerk, user=owner)
    url = reverse("reviews:action-close", kwargs={"pk": action.pk})

    refused = signed_in_client(other).post(url, {"status": "done", "note": ""})
    closed = signed_in_client(owner).post(url, {"status": "done", "note": ""})

    assert refused.status_code == 404
    assert closed.status_code == 302
    assert Action.objects.get(pk=action.pk).closed_by == owner


def test_the_database_refuses_a_closed_action_naming_nobody_or_two_closers(link, clerk):
    from django.db import IntegrityError, transaction

    base = Action.objects.filter(pk=link.action_id)
    for closers in ({}, {"closed_by": clerk, "closed_by_partner": "Jo Patel, Short breaks"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            base.update(status="done", closed_on=TODAY, **closers)
    assert Action.objects.get(pk=link.action_id).status == "open"


def test_every_move_of_an_action_is_on_the_timeline_with_who_made_it(client, link, person, clerk):
    action = Action.objects.get(pk=link.action_id)
    services.action_close(action=action, status="done", note="Booked.", by=clerk)
    services.action_reopen(action=action, by=clerk)
    client.post(_url(link), {"outcome": "done", "note": "Booked again."})

    moves = [
        (e.title, e.by)
        for e in review_events(person, limit=None)
        if e.title.startswith("Action") and "agreed" not in e.title
    ]

    assert sorted(moves) == sorted(
        [
            ("Action done", clerk.full_name),
            ("Action reopened", clerk.full_name),
            ("Action done", "Jo Patel, Short breaks, through their link"),
        ]
    )
    last = action.transitions.order_by("-id").first()
    assert (last.from_status, last.to_status, last.by, last.by_link) == ("open", "done", None, link)


def test_the_team_withdraws_the_link_from_the_actions_page(client, link, clerk):
    staff = signed_in_client(clerk)
    url = reverse("reviews:action-link-withdraw", kwargs={"pk": link.action_id})

    withdrawn = staff.post(url, {"confirm": "yes"})
    again = staff.post(url, {"confirm": "yes"})

    assert withdrawn.status_code == 302
    assert ActionLink.objects.get(pk=link.pk).status == "withdrawn"
    assert "No link is working for this action." in again.text
    assert client.get(_url(link)).status_code == 410
