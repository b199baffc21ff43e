"""Each role's home page is its work, the most urgent item first ("Every role's first screen is
its work"), from the panels each app contributes (dsr.panels.home_panels), in a constant number
of queries whatever the amount of work."""

import datetime
import itertools

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dsr.models import AccessEvent, Notification
from escalation.models import Escalation
from tests.conftest import PERSONAS_BUILT_ONCE, signed_in_client
from tests.dsr.factories import PersonFactory, UserFactory, on_register
from tests.escalation.factories import AcknowledgedEscalationFactory, EscalationFactory
from tests.referrals.factories import ReferralFactory
from tests.reviews.factories import CetrFactory, OverdueActionFactory, PanelMemberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(PERSONAS_BUILT_ONCE)]

HOME = reverse("dsr:home")
_serial = itertools.count()


def _letter(area, status: str, n: int) -> Notification:
    return Notification.objects.create(
        subject_type="referrals.referral",
        subject_id=n,
        local_authority=area,
        kind="referral_outcome",
        recipient_key=f"person-{n}",
        recipient_name=f"Recipient {n}",
        channel="letter",
        postal_address="1 High Street",
        status=status,
    )


def build_work(personas, areas, organisations, n: int) -> dict:
    """`n` of every kind of work each role's home shows, in the north, and the most urgent of
    each, made more urgent than the rest."""
    today = timezone.localdate()
    users = personas["users"]
    staff = users["register_staff"]
    north = areas["north"]
    made: dict = {}

    # Referrals: n due in two to three weeks, and one four days past its deadline.
    for i in range(n):
        ReferralFactory(local_authority=north, decision_due=today + datetime.timedelta(days=10 + i))
    made["urgent_referral"] = ReferralFactory(
        local_authority=north, decision_due=today - datetime.timedelta(days=4)
    )

    # People on the register, with overdue actions, letters and failed messages.
    people = []
    for i in range(n):
        person = PersonFactory(
            local_authority=north, responsible_icb=organisations["icb"], family_name=f"Work{i}"
        )
        on_register(person, rating="RED", by=staff, opened_on=datetime.date(2026, 1, 5))
        people.append(person)
        OverdueActionFactory(person=person, owner=staff)
        _letter(north, Notification.Status.LETTER_READY, next(_serial))
        _letter(north, Notification.Status.FAILED, next(_serial))

    # Escalations: level 2 for the senior managers, level 3 for the executive lead; the most
    # urgent of each is the oldest past its deadline.
    for i, person in enumerate(people):
        EscalationFactory(person=person, level=2, ack_due_on=today + datetime.timedelta(days=2 + i))
        EscalationFactory(person=person, level=3, ack_due_on=today + datetime.timedelta(days=2 + i))
        AcknowledgedEscalationFactory(
            person=person,
            level=3,
            raised_at=timezone.now() - datetime.timedelta(days=3),
            acknowledged_at=timezone.now() - datetime.timedelta(days=1),
        )
    late_person = PersonFactory(
        local_authority=north, responsible_icb=organisations["icb"], family_name="Latest"
    )
    on_register(late_person, rating="RED", by=staff, opened_on=datetime.date(2026, 1, 5))
    made["late_person"] = late_person
    made["late_2"] = EscalationFactory(
        person=late_person, level=2, ack_due_on=today - datetime.timedelta(days=6)
    )
    made["late_3"] = EscalationFactory(
        person=late_person,
        level=3,
        reason=Escalation.Reason.RED_WITHOUT_CETR,
        ack_due_on=today - datetime.timedelta(days=6),
    )

    # C(E)TRs the panel member sits on: one with its pack open (consent recorded), the rest
    # waiting for consent evidence.
    panel_member = users["panel_member"]
    opened = PersonFactory(
        local_authority=north, responsible_icb=organisations["icb"], family_name="Packopen"
    )
    on_register(opened, by=staff, opened_on=datetime.date(2026, 1, 5))
    made["open_cetr"] = CetrFactory(
        person=opened,
        consented=True,
        created_by=staff,
        scheduled_on=today + datetime.timedelta(days=3),
    )
    PanelMemberFactory(cetr=made["open_cetr"], user=panel_member)
    for i, person in enumerate(people):
        cetr = CetrFactory(
            person=person, created_by=staff, scheduled_on=today + datetime.timedelta(days=9 + i)
        )
        PanelMemberFactory(cetr=cetr, user=panel_member)

    # Accounts: n that have not been used for longer than the warning.
    long_ago = timezone.now() - datetime.timedelta(days=200)
    with time_machine.travel(long_ago, tick=False):
        for _ in range(n):
            UserFactory(
                email=f"unused{next(_serial)}@nhs.example",
                organisation=organisations["icb"],
                last_login=long_ago + datetime.timedelta(days=100),
            )
    return made


def _main(response) -> str:
    text = response.content.decode()
    return text[text.index('id="maincontent"') :]


def test_register_staff_see_the_most_urgent_referral_first_and_each_count_links_its_list(
    personas, areas, organisations
):
    made = build_work(personas, areas, organisations, 3)
    referral = made["urgent_referral"]

    response = personas["clients"]["register_staff"].get(HOME)

    main = _main(response)
    detail = reverse("referrals:detail", kwargs={"pk": referral.pk})
    # The most urgent item is the first link on the page, by reference and days past.
    first_link = main.index("<a href=")
    assert main[first_link:].startswith(f'<a href="{detail}">Referral {referral.reference}</a>')
    assert "4 days past its four-week deadline" in main
    queue = reverse("referrals:queue")
    assert f'href="{queue}?due=overdue">1 referral past the four-week deadline' in main
    assert f'href="{queue}?due=week">0 referrals due in the next 7 days' in main
    register = reverse("dsr:register-list")
    assert f'href="{register}?overdue=on&amp;sort=review">' in main
    outbox = reverse("dsr:outbox")
    assert f'href="{outbox}?show=letters">3 letters to print and post' in main
    assert f'href="{outbox}?show=failed">3 messages that could not be sent' in main
    assert "3 actions overdue" in main
    # Counts and references only: nobody is named, so nothing is read about anyone.
    assert "Work0" not in main


def test_register_staff_home_counts_consent_overdue_apart_from_due(personas, areas, organisations):
    staff = personas["users"]["register_staff"]
    today = timezone.localdate()
    due = PersonFactory(local_authority=areas["north"], responsible_icb=organisations["icb"])
    late = PersonFactory(local_authority=areas["north"], responsible_icb=organisations["icb"])
    for person, given in (
        (due, today - datetime.timedelta(days=350)),
        (late, today.replace(year=today.year - 2)),
    ):
        on_register(person, by=staff, opened_on=given)

    main = _main(personas["clients"]["register_staff"].get(HOME))

    assert "1 consent check overdue" in main
    assert "1 consent check due in the next 30 days" in main


def test_senior_manager_sees_their_queue_counts_and_the_oldest_late_escalation_first(
    personas, areas, organisations
):
    made = build_work(personas, areas, organisations, 3)

    response = personas["clients"]["senior_manager_la"].get(HOME)

    main = _main(response)
    # Their level (2) and above: the late one at each level, and three more at each.
    assert "2 escalations past the deadline to acknowledge" in main
    assert "8 escalations in your queue waiting for acknowledgement" in main
    rows = main[main.index("<tbody") :]
    first = rows.index(made["late_2"].get_absolute_url())
    assert first < rows.index("Work0")
    assert "Latest" in rows[first : first + 200]
    # The people named are in the access log.
    assert AccessEvent.objects.filter(
        user=personas["users"]["senior_manager_la"], person=made["late_person"]
    ).exists()
    # Out of scope: the other council's manager has nothing waiting.
    other = _main(personas["clients"]["senior_manager_la_other"].get(HOME))
    assert "0 escalations in your queue waiting for acknowledgement" in other
    assert "Latest" not in other


def test_executive_lead_sees_top_level_escalations_by_area_and_reason_and_the_time_to_acknowledge(
    personas, areas, organisations
):
    made = build_work(personas, areas, organisations, 2)

    main = _main(personas["clients"]["executive_lead"].get(HOME))

    assert main.index(made["late_3"].get_absolute_url()) < main.index("Work0")
    assert "Red without a community C(E)TR or exception" in main
    assert "Northshire" in main
    # Two acknowledged, each two days after being raised.
    assert (
        "2 level 3 escalations were acknowledged. Half of them were acknowledged within 2.0 "
        "days of being raised (the median)." in main
    )
    # Level 2 escalations are not the executive lead's.
    assert made["late_2"].get_absolute_url() not in main


def test_panel_member_sees_their_cetrs_by_date_with_a_name_only_once_the_pack_opens(
    personas, areas, organisations
):
    made = build_work(personas, areas, organisations, 2)

    main = _main(personas["clients"]["panel_member"].get(HOME))

    pack = reverse("reviews:cetr-pack", args=[made["open_cetr"].pk])
    assert f'href="{pack}"' in main
    # The link names the review for screen readers: "the community CTR on 13 March 2026".
    day = f"{made['open_cetr'].scheduled_on:%-d %B %Y}"
    assert (
        f'Read the pack<span class="nhsuk-u-visually-hidden"> for the community CTR on {day}'
        in main
    )
    assert "Packopen" in main
    assert "Work0" not in main and "Work1" not in main
    assert main.count("Not open yet") == 2
    assert main.index("Packopen") < main.index("Not open yet")


def test_commissioner_sees_their_reports_with_the_latest_figures_date(personas):
    today = timezone.localdate()

    main = _main(personas["clients"]["planning_commissioner"].get(HOME))

    assert f'href="{reverse("reports:snapshot")}">The register on {today:%-d %B %Y}' in main
    assert reverse("reports:flows") in main
    assert reverse("reports:needs") in main


def test_administrator_sees_accounts_to_review(personas, areas, organisations):
    build_work(personas, areas, organisations, 2)

    main = _main(personas["clients"]["administrator"].get(HOME))

    assert "2 active accounts not used for 76 days or more" in main
    assert reverse("dsr:account-review") in main
    assert reverse("dsr:invitation-list") in main


def test_referrer_keeps_their_referrals_panel(personas):
    main = _main(personas["clients"]["professional_referrer"].get(HOME))

    assert "Your referrals" in main
    assert "Most urgent referral" not in main


@pytest.mark.parametrize(
    ("persona", "others"),
    [
        ("register_staff", ["Your escalation queue", "Your C(E)TRs", "Accounts to review"]),
        ("senior_manager_la", ["Most urgent referral", "Letters and messages", "Your reports"]),
        ("executive_lead", ["Your escalation queue", "Most urgent referral"]),
        ("panel_member", ["Most urgent referral", "Your escalation queue"]),
        ("planning_commissioner", ["Most urgent referral", "Reviews and consent"]),
        ("administrator", ["Most urgent referral", "Reviews and consent", "Your C(E)TRs"]),
    ],
)
def test_each_role_sees_only_its_own_work(personas, areas, organisations, persona, others):
    build_work(personas, areas, organisations, 1)

    main = _main(personas["clients"][persona].get(HOME))

    for heading in others:
        assert heading not in main


def _count(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    return len(queries.captured_queries)


# The most queries each role's home may run: the page's own (the user's permissions, the
# organisation and its areas; the session, user and device come from the cache once kept) and
# its panels'.
MAX_QUERIES = {
    "register_staff": 20,
    "dsr_lead": 20,
    "senior_manager_la": 16,
    "senior_manager_health": 16,
    "executive_lead": 17,
    "panel_member": 15,
    "planning_commissioner": 12,
    "administrator": 14,
    "professional_referrer": 13,
}


@pytest.mark.parametrize("persona", list(MAX_QUERIES))
def test_each_role_home_runs_the_same_queries_with_little_and_much_work(
    personas, areas, organisations, persona, django_assert_max_num_queries, settings
):
    settings.DSR_DASHBOARD_CACHE_SECONDS = 0  # count every time: the worst case
    build_work(personas, areas, organisations, 1)
    client = signed_in_client(personas["users"][persona])
    _count(client)  # the first request after sign-in may do one-off work
    small = _count(client)
    build_work(personas, areas, organisations, 12)
    # Accounts made for the work change the accounts' version: the next request reads the
    # signed-in user afresh (dsr.security.signed_in), once.
    _count(client)
    large = _count(client)

    assert small == large
    with django_assert_max_num_queries(MAX_QUERIES[persona]):
        client.get(HOME)


def test_register_staff_home_reuses_the_dashboards_kept_counts(
    personas, areas, organisations, settings
):
    """While the dashboard's counts are kept, the home page counts nothing again for them."""
    settings.DSR_DASHBOARD_CACHE_SECONDS = 60
    build_work(personas, areas, organisations, 2)
    client = personas["clients"]["register_staff"]
    client.get(reverse("dsr:register-dashboard"))

    with CaptureQueriesContext(connection) as queries:
        client.get(HOME)

    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "rating_review_due" not in sql
    assert '"reviews_action"' not in sql


def test_the_dashboard_has_a_referrals_section_with_due_this_week_and_overdue(personas, areas):
    today = timezone.localdate()
    overdue = ReferralFactory(
        local_authority=areas["north"], decision_due=today - datetime.timedelta(days=2)
    )
    ReferralFactory(local_authority=areas["north"], decision_due=today + datetime.timedelta(days=3))
    ReferralFactory(
        local_authority=areas["north"], decision_due=today + datetime.timedelta(days=20)
    )

    main = _main(personas["clients"]["register_staff"].get(reverse("dsr:register-dashboard")))

    section = main[main.index('<h2 id="referrals">') :]
    assert section.startswith('<h2 id="referrals">Referrals due this week and overdue</h2>')
    assert f"Referral {overdue.reference}</a>" in section
    assert "2 days past its four-week deadline" in section
    assert "1 referral past the four-week deadline" in section
    assert "1 referral due in the next 7 days" in section


def test_the_dashboard_consent_heading_says_it_lists_overdue_reviews_too(
    personas, areas, organisations
):
    staff = personas["users"]["register_staff"]
    today = timezone.localdate()
    late = PersonFactory(
        local_authority=areas["north"], responsible_icb=organisations["icb"], family_name="Late"
    )
    on_register(late, by=staff, opened_on=today.replace(year=today.year - 2))

    main = _main(personas["clients"]["register_staff"].get(reverse("dsr:register-dashboard")))

    section = main[main.index('<h2 id="consent">') :]
    assert section.startswith(
        '<h2 id="consent">Consent reviews overdue or due in the next 30 days</h2>'
    )
    assert "1 of them overdue" in section
    assert "Late" in section
    assert "Consent reviews due in the next 30 days</h2>" not in main


def test_the_time_to_acknowledge_is_the_median_so_one_long_wait_does_not_hide_the_rest(
    personas, areas, organisations
):
    staff = personas["users"]["register_staff"]
    person = PersonFactory(local_authority=areas["north"], responsible_icb=organisations["icb"])
    on_register(person, rating="RED", by=staff, opened_on=datetime.date(2026, 1, 5))
    now = timezone.now()
    for days in (1, 2, 9):  # mean 4 days, median 2
        AcknowledgedEscalationFactory(
            person=person,
            level=3,
            raised_at=now - datetime.timedelta(days=days + 1),
            acknowledged_at=now - datetime.timedelta(days=1),
        )
    main = _main(personas["clients"]["executive_lead"].get(HOME))
    assert "Half of them were acknowledged within 2.0 days of being raised (the median)." in main
