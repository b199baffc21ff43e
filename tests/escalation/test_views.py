"""Escalation pages: the queue's scope, order, filters, keyset pages and query count; the
executive lead's summary; acting on an escalation from its page; raising one by hand."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dsr.models import AccessEvent
from dsr.roles import Role
from escalation.models import Escalation
from escalation.queue_order import queue_order_rebuild
from escalation.sweeps import escalation_rules_sweep
from tests.conftest import account, signed_in_client
from tests.escalation.factories import EscalationFactory
from tests.figures import record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)
QUEUE = reverse("escalation:queue")


@pytest.fixture
def la_manager(organisations):
    return account(organisations["north_council"], Role.SENIOR_MANAGER_LA)


def _names(response) -> list[str]:
    return [row.person.family_name for row in response.context["page"].rows]


def test_the_queue_shows_the_managers_area_waiting_first_then_by_rating_and_age(
    make_person, la_manager, frozen_now
):
    make_person("GREEN", family_name="GreenNoEscalation")
    make_person("AMBER", family_name="AmberQuiet", opened_on=datetime.date(2026, 3, 9))
    make_person("RED", family_name="RedSouth", area="south")
    older = make_person("AMBER", family_name="AmberWaitingOld", opened_on=datetime.date(2026, 3, 9))
    newer = make_person("RED", family_name="RedWaitingNew", opened_on=datetime.date(2026, 3, 9))
    green = make_person("GREEN", family_name="GreenEscalated")
    for person, days_ago in [(older, 5), (newer, 1), (green, 3)]:
        EscalationFactory(
            person=person, level=2, raised_at=timezone.now() - datetime.timedelta(days=days_ago)
        )

    response = signed_in_client(la_manager).get(QUEUE)

    # Waiting first (Red before Amber before the rest, then the oldest escalation first); the
    # Southshire person and the Green person with nothing open are not in a Northshire
    # manager's queue.
    assert _names(response) == [
        "RedWaitingNew",
        "AmberWaitingOld",
        "GreenEscalated",
        "AmberQuiet",
    ]
    logged = AccessEvent.objects.filter(user=la_manager, detail__page="escalation queue")
    assert logged.count() == 4


def test_the_queue_filters_by_level_and_area(make_person, organisations, la_manager):
    staff = account(organisations["icb"], Role.REGISTER_STAFF)
    north = make_person("RED", family_name="North")
    south = make_person("RED", family_name="South", area="south")
    EscalationFactory(person=north, level=1)
    EscalationFactory(person=south, level=3)
    client = signed_in_client(staff)
    assert sorted(_names(client.get(QUEUE))) == ["North", "South"]
    assert _names(client.get(QUEUE, {"level": 3})) == ["South"]
    assert _names(client.get(QUEUE, {"local_authority": north.local_authority_id})) == ["North"]
    bad = client.get(QUEUE, {"level": "99"})
    assert "Choose a level from the list." in bad.content.decode()


def test_the_queue_pages_by_keyset(make_person, organisations):
    staff = account(organisations["icb"], Role.REGISTER_STAFF)
    for _ in range(55):
        make_person("AMBER", opened_on=datetime.date(2026, 3, 9))
    client = signed_in_client(staff)
    first = client.get(QUEUE)
    assert len(first.context["page"].rows) == 50
    second = client.get(QUEUE + first.context["next_url"])
    assert len(second.context["page"].rows) == 5
    seen = {r.person.pk for r in first.context["page"].rows + second.context["page"].rows}
    assert len(seen) == 55


def test_the_queue_runs_the_same_queries_with_10_and_1000_open_escalations(
    make_person, organisations, django_assert_max_num_queries
):
    staff = account(organisations["icb"], Role.REGISTER_STAFF)
    people = [make_person("RED") for _ in range(10)]
    escalation_rules_sweep(today=TODAY)
    assert Escalation.objects.count() >= 10
    client = signed_in_client(staff)
    client.get(QUEUE)
    with CaptureQueriesContext(connection) as queries:
        client.get(QUEUE)
    small = len(queries)

    people += [make_person("AMBER") for _ in range(50)]  # more people in the queue, too
    now = timezone.now()
    Escalation.objects.bulk_create(
        EscalationFactory.build(
            person=people[i % len(people)],
            level=1 + i % 3,
            raised_at=now - datetime.timedelta(hours=i),
            # As a sweep raises them in SQL, no clock yet (and no query); some past their
            # deadline and some waiting, so every branch of the order and the counts is read.
            ack_due_on=[None, TODAY - datetime.timedelta(days=1), TODAY][i % 3],
        )
        for i in range(1000 - Escalation.objects.count())
    )
    queue_order_rebuild()  # as a sweep raising in SQL brings the queue up to date
    assert Escalation.objects.live().count() == 1000
    with django_assert_max_num_queries(small):
        response = client.get(QUEUE)
    assert response.status_code == 200
    assert len(response.context["page"].rows) == 50
    assert response.context["counts"].waiting == 1000
    assert response.context["counts"].past_deadline > 300
    with django_assert_max_num_queries(small):
        filtered = client.get(QUEUE, {"past_deadline": "on"})
    # Every third escalation is late, and they fall on every third of the 60 people.
    assert len(filtered.context["page"].rows) == 20
    record(
        "T1 queries: escalation queue (10 people, 10 escalations / 60 people, 1,000)",
        f"{small} / <= {small}",
    )


def test_the_summary_counts_by_level_and_age_and_names_only_the_top_level(
    make_person, organisations
):
    executive = account(organisations["icb"], Role.EXECUTIVE_LEAD)
    low = make_person("RED", family_name="LevelOne")
    top = make_person("RED", family_name="LevelThree")
    EscalationFactory(person=low, level=1)
    EscalationFactory(person=top, level=3, raised_at=timezone.now() - datetime.timedelta(days=10))
    response = signed_in_client(executive).get(reverse("escalation:summary"))
    summary = response.context["summary"]
    assert [(row["level"], row["bands"], row["total"]) for row in summary.levels] == [
        (1, [1, 0, 0, 0], 1),
        (2, [0, 0, 0, 0], 0),
        (3, [0, 0, 1, 0], 1),
    ]
    page = response.content.decode()
    assert "LevelThree" in page and "LevelOne" not in page


def test_acknowledging_and_resolving_from_the_page(make_person, la_manager):
    person = make_person("RED")
    escalation = EscalationFactory(person=person, level=2)
    client = signed_in_client(la_manager)
    client.post(
        reverse("escalation:acknowledge", kwargs={"pk": escalation.pk}),
        {"note": "Meeting the family."},
    )
    # The reason is asked for: none (or only spaces) is an NHS.UK error and resolves nothing.
    for blank in ("", "   "):
        empty = client.post(
            reverse("escalation:resolve", kwargs={"pk": escalation.pk}), {"outcome": blank}
        )
        page = empty.content.decode()
        assert empty.status_code == 200
        assert "nhsuk-error-summary" in page and "Say why the escalation can be resolved." in page
        escalation.refresh_from_db()
        assert (escalation.status, escalation.resolved_at) == ("acknowledged", None)
    client.post(
        reverse("escalation:resolve", kwargs={"pk": escalation.pk}),
        {"outcome": "Crisis package agreed."},
    )
    escalation.refresh_from_db()
    assert (escalation.status, escalation.acknowledged_by, escalation.resolved_by) == (
        "resolved",
        la_manager,
        la_manager,
    )
    assert escalation.notes.get().text == "Meeting the family."


def test_someone_below_the_level_is_refused(make_person, organisations):
    lead = account(organisations["icb"], Role.DSR_LEAD)
    person = make_person("RED")
    escalation = EscalationFactory(person=person, level=2)
    response = signed_in_client(lead).post(
        reverse("escalation:acknowledge", kwargs={"pk": escalation.pk}), {"note": ""}
    )
    # The lead may act on escalations, but not this one: answered as a missing id would be.
    assert response.status_code == 404
    escalation.refresh_from_db()
    assert escalation.status == "open"


def test_the_executive_lead_reads_the_people_behind_top_level_escalations_only(
    make_person, organisations
):
    executive = account(organisations["icb"], Role.EXECUTIVE_LEAD)
    top = make_person("RED", family_name="Top")
    lower = make_person("RED", family_name="Lower")
    EscalationFactory(person=top, level=3)
    EscalationFactory(person=lower, level=2)
    client = signed_in_client(executive)
    page = client.get(top.get_absolute_url())
    assert page.status_code == 200 and "Top" in page.content.decode()
    assert client.get(lower.get_absolute_url()).status_code == 404
    assert AccessEvent.objects.filter(user=executive, person=top, action="view_person").exists()


def test_a_senior_manager_sees_green_people_only_when_escalated_to_their_level(
    make_person, la_manager
):
    green_low = make_person("GREEN", family_name="GreenLevelOne")
    green_high = make_person("GREEN", family_name="GreenLevelTwo")
    EscalationFactory(person=green_low, level=1)
    EscalationFactory(person=green_high, level=2)
    client = signed_in_client(la_manager)
    assert _names(client.get(QUEUE)) == ["GreenLevelTwo"]
    assert client.get(green_low.get_absolute_url()).status_code == 404
    assert client.get(green_high.get_absolute_url()).status_code == 200


def test_paging_skips_nobody_when_the_last_person_shown_is_acknowledged(
    make_person, organisations, la_manager
):
    from escalation.services import escalation_acknowledge

    staff = account(organisations["icb"], Role.REGISTER_STAFF)
    people = [make_person("AMBER", opened_on=datetime.date(2026, 3, 9)) for _ in range(55)]
    for person in people:
        EscalationFactory(person=person, level=2)
    client = signed_in_client(staff)
    first = client.get(QUEUE)
    shown = [row.person for row in first.context["page"].rows]
    # The 50th person is acknowledged between the two pages: they move down the queue.
    escalation_acknowledge(
        escalation=Escalation.objects.get(person=shown[-1]), by=la_manager, note=""
    )
    second = client.get(QUEUE + first.context["next_url"])
    rest = [row.person for row in second.context["page"].rows]
    assert len(rest) == 6  # the 5 not yet shown, and the acknowledged one, now last
    assert {p.pk for p in shown + rest} == {p.pk for p in people}


def test_raising_by_hand_tells_the_owners_at_once(make_person, organisations, la_manager):
    from dsr.models import Notification

    staff = account(organisations["icb"], Role.REGISTER_STAFF)
    person = make_person("AMBER")
    response = signed_in_client(staff).post(
        reverse("escalation:raise", kwargs={"pk": person.pk}),
        {"level": 2, "note": "The placement has given notice."},
    )
    escalation = Escalation.objects.get()
    assert response["Location"] == escalation.get_absolute_url()
    assert (escalation.reason, escalation.level, escalation.raised_by) == ("by_hand", 2, staff)
    assert escalation.ack_due_on == datetime.date(2026, 3, 13)  # Amber: 3 working days
    assert list(
        Notification.objects.filter(kind="escalation_raised").values_list("email", flat=True)
    ) == [la_manager.email]


def test_acknowledging_from_the_queue_returns_to_the_queue(make_person, la_manager):
    person = make_person("RED", family_name="FromQueue")
    escalation = EscalationFactory(person=person, level=2)
    client = signed_in_client(la_manager)
    link = reverse("escalation:acknowledge", kwargs={"pk": escalation.pk}) + "?from=queue"
    assert link in client.get(QUEUE).content.decode()
    response = client.post(link, {"note": ""})
    assert response["Location"] == QUEUE
    escalation.refresh_from_db()
    assert escalation.status == "acknowledged"


def test_escalation_emails_name_no_one_and_give_no_reason(make_person, organisations, settings):
    settings.DSR_ESCALATION_DIGEST = False  # told at once (the digest: test_digest.py)
    from dsr.models import Notification
    from dsr.outbox.delivery import render

    la = account(organisations["north_council"], Role.SENIOR_MANAGER_LA)
    person = make_person("RED", family_name="Nameless")
    escalation_rules_sweep(today=TODAY)
    message = Notification.objects.filter(kind="escalation_raised", email=la.email).first()
    rendered = render(message)
    for text in (rendered.subject, rendered.text, rendered.html):
        assert "Nameless" not in text and person.given_name not in text
        assert "red" not in text.lower()
    assert "acknowledge it by" in rendered.text


def test_reading_an_escalation_is_logged(make_person, la_manager):
    person = make_person("RED")
    escalation = EscalationFactory(person=person, level=2)
    signed_in_client(la_manager).get(escalation.get_absolute_url())
    assert AccessEvent.objects.filter(
        user=la_manager, person=person, detail__escalation=escalation.pk
    ).exists()


def test_the_home_page_and_the_queue_count_the_same_escalations_waiting_for_a_manager(
    make_person, la_manager
):
    """A senior manager acknowledges escalations at their level and above in their area
    (ACCESS.md); level 1 is the DSR lead's. The home page and the queue say the same number,
    and the people waiting for the manager come first under their own heading."""
    today = timezone.localdate()
    mine = make_person("RED", family_name="WaitingForManager")
    late = make_person("RED", family_name="LateForManager")
    lead_only = make_person("AMBER", family_name="LeadsHousekeeping")
    quiet = make_person("AMBER", family_name="NothingWaiting")
    EscalationFactory(person=mine, level=2, ack_due_on=today + datetime.timedelta(days=2))
    EscalationFactory(person=late, level=3, ack_due_on=today - datetime.timedelta(days=1))
    # Level 1, waiting for the DSR lead: in the manager's queue (Amber) but not theirs to do.
    EscalationFactory(person=lead_only, level=1, ack_due_on=today + datetime.timedelta(days=1))
    EscalationFactory(person=quiet, level=1, ack_due_on=today + datetime.timedelta(days=1))
    client = signed_in_client(la_manager)

    home = client.get(reverse("dsr:home")).content.decode()
    queue = client.get(QUEUE)
    page = queue.content.decode()

    assert "2 escalations in your queue waiting for acknowledgement" in home
    assert "1 escalation past the deadline to acknowledge" in home
    assert 'id="count-waiting">2</p>' in page
    assert 'id="count-past-deadline">1</p>' in page
    assert "Waiting for your acknowledgement: 2 escalations" in page
    waiting, rest = page.split("Everyone else in your queue")
    assert waiting.index("LateForManager") < waiting.index("WaitingForManager")
    assert "LeadsHousekeeping" not in waiting and "NothingWaiting" not in waiting
    assert "LeadsHousekeeping" in rest and "NothingWaiting" in rest


# --- The person page's escalations ---------------------------------------------------------


def _escalations_section(page: str) -> str:
    start = page.index('<h2 id="escalations">')
    return page[start : page.index("<h2", start + 1)]


def test_the_person_page_lists_the_5_most_urgent_live_escalations_says_how_many_and_links_to_all(
    make_person, clerk
):
    from tests.escalation.factories import (
        AcknowledgedEscalationFactory,
        ResolvedEscalationFactory,
    )

    person = make_person("RED")
    now = timezone.now()
    # Acknowledged, open and waiting, then two past their deadline to acknowledge: the late
    # ones first, then waiting by level, then the acknowledged (as the acknowledge page).
    for n in range(3):
        AcknowledgedEscalationFactory(person=person, level=3, note=f"acknowledged {n}")
    EscalationFactory(person=person, level=1, raised_at=now - datetime.timedelta(hours=2))
    EscalationFactory(person=person, level=2, raised_at=now - datetime.timedelta(hours=1))
    for days in (9, 8):
        EscalationFactory(
            person=person,
            level=1,
            raised_at=now - datetime.timedelta(days=days),
            ack_due_on=TODAY - datetime.timedelta(days=days - 5),
        )
    ResolvedEscalationFactory(person=person, level=3)
    live = Escalation.objects.filter(person=person).exclude(status="resolved")
    late = sorted(live.filter(ack_due_on__lt=TODAY), key=lambda e: e.raised_at)
    waiting = sorted(live.filter(status="open", ack_due_on__gte=TODAY), key=lambda e: -e.level)
    url = reverse("dsr:person-detail", args=[person.pk])
    client = signed_in_client(clerk)

    section = _escalations_section(client.get(url).content.decode())

    links = [f'href="{e.get_absolute_url()}"' for e in [*late, *waiting]]
    assert [section.index(link) for link in links] == sorted(section.index(li) for li in links)
    assert section.count('href="/escalations/') == 5
    assert section.count("Late</strong>") == 2
    assert "The 5 most urgent of 7 live escalations: 2 past the deadline to acknowledge." in section
    assert f'href="{url}?escalations=all#escalations">Show all 7 live escalations</a>' in section

    every = _escalations_section(client.get(url, {"escalations": "all"}).content.decode())

    assert every.count('href="/escalations/') == 7
    assert all(f'href="{e.get_absolute_url()}"' in every for e in live)
    assert "Show all" not in every and "most urgent" not in every


def test_the_person_page_lists_up_to_5_live_escalations_without_a_link_to_more(make_person, clerk):
    person = make_person("RED")
    for level in range(1, 6):
        EscalationFactory(person=person, level=min(level, 3))

    page = signed_in_client(clerk).get(reverse("dsr:person-detail", args=[person.pk]))

    section = _escalations_section(page.content.decode())
    assert section.count('href="/escalations/') == 5
    assert "Show all" not in section and "most urgent" not in section
