"""Messages to escalation owners (issue "Every role's first screen is its work", item 3): at most
one digest per owner per working day, with counts and a link to their queue and no personal
details, never one email per escalation; a top-level escalation past its deadline reminds its
owners each working day until acknowledged; weekends and bank holidays send nothing. On a frozen
clock: Tuesday 10 March 2026."""

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from dsr.deadlines import is_working_day
from dsr.models import Notification
from dsr.outbox.delivery import ProviderRefused, deliver_due, render
from dsr.roles import Role
from escalation.models import Escalation
from escalation.services import escalation_acknowledge
from escalation.sweeps import escalation_ladder_sweep, escalation_rules_sweep
from tests.conftest import account, signed_in_client
from tests.escalation.factories import EscalationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TUESDAY = datetime.date(2026, 3, 10)


def digests() -> list[tuple[int, str, dict]]:
    """The digests in the outbox: (day, email, counts), oldest first."""
    return [
        (row.subject_id, row.email, {k: row.context[k] for k in ("new", "overdue", "waiting")})
        for row in Notification.objects.filter(kind="escalation_digest").order_by("id")
    ]


def _escalations(person, count: int, **fields) -> list[Escalation]:
    return Escalation.objects.bulk_create(
        EscalationFactory.build(person=person, **fields) for _ in range(count)
    )


@pytest.fixture
def owners(organisations):
    return {
        "la": account(organisations["north_council"], Role.SENIOR_MANAGER_LA),
        "health": account(organisations["trust"], Role.SENIOR_MANAGER_HEALTH),
        "executive": account(organisations["icb"], Role.EXECUTIVE_LEAD),
        "deputy": account(organisations["icb"], Role.EXECUTIVE_LEAD),
    }


def test_a_ladder_sweep_moving_150_escalations_sends_one_email_per_owner(
    make_person, owners, frozen_now
):
    person = make_person("AMBER", family_name="Hidden")
    # Told at level 2 already; their deadline (Thursday 5 March) has passed.
    _escalations(person, 150, level=2, told_level=2, ack_due_on=datetime.date(2026, 3, 5))

    counts = escalation_ladder_sweep(today=TUESDAY)

    assert (counts["moved_up"], counts["digests"]) == (150, 2)
    day = 20260310
    expected = {"new": 150, "overdue": 0, "waiting": 150}
    assert digests() == [
        (day, owners["deputy"].email, expected),
        (day, owners["executive"].email, expected),
    ] or digests() == [
        (day, owners["executive"].email, expected),
        (day, owners["deputy"].email, expected),
    ]
    # Never one email per escalation.
    assert not Notification.objects.exclude(kind="escalation_digest").exists()
    # Told at level 3 once the digests are sent, not when they are queued.
    assert set(Escalation.objects.values_list("level", "told_level")) == {(3, 2)}

    deliver_due()
    assert set(Escalation.objects.values_list("level", "told_level")) == {(3, 3)}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [owners["executive"].email, owners["deputy"].email]
    )
    sent = mail.outbox[0]
    assert sent.subject == "Dynamic support register: 150 new escalations waiting for you"
    assert "New to you since your last summary: 150." in sent.body
    assert reverse("escalation:summary") in sent.body
    html = sent.alternatives[0][0]
    for text in (sent.subject, sent.body, html):
        assert "Hidden" not in text and person.given_name not in text
        assert "amber" not in text.lower()

    # A second sweep the same day sends nothing, even for an escalation new since: it waits for
    # the next working day's digest.
    _escalations(person, 1, level=3, ack_due_on=datetime.date(2026, 3, 13))
    assert escalation_ladder_sweep(today=TUESDAY)["digests"] == 0
    assert len(digests()) == 2
    frozen_now.move_to("2026-03-11 09:30:00+00:00")
    escalation_ladder_sweep(today=datetime.date(2026, 3, 11))
    assert sorted((d, c["new"]) for d, _, c in digests()[2:]) == [(20260311, 1), (20260311, 1)]


def test_the_digest_waits_for_the_morning(make_person, owners, frozen_now):
    _escalations(make_person("AMBER"), 2, level=2)
    frozen_now.move_to("2026-03-10 06:59:00+00:00")  # London time in March is GMT
    assert escalation_ladder_sweep(today=TUESDAY)["digests"] == 0
    frozen_now.move_to("2026-03-10 07:00:00+00:00")
    assert escalation_ladder_sweep(today=TUESDAY)["digests"] == 2


def test_each_owner_hears_of_their_own_levels_and_areas_only(make_person, owners, organisations):
    south = account(organisations["south_council"], Role.SENIOR_MANAGER_LA)
    north_person = make_person("AMBER", area="north")
    _escalations(north_person, 3, level=2)  # raised by a sweep at level 2: new to its owners
    escalation_ladder_sweep(today=TUESDAY)
    told = {email: counts for _, email, counts in digests()}
    assert told == {
        owners["la"].email: {"new": 3, "overdue": 0, "waiting": 3},
        owners["health"].email: {"new": 3, "overdue": 0, "waiting": 3},
    }
    assert south.email not in told
    row = Notification.objects.get(kind="escalation_digest", email=owners["la"].email)
    assert render(row).text.count(reverse("escalation:queue")) == 1
    # The escalation's page says its owners were told in their daily summary once it is sent.
    client = signed_in_client(owners["la"])
    url = Escalation.objects.first().get_absolute_url()
    assert "have not been told yet" in client.get(url).content.decode()
    deliver_due()
    assert "were told in their daily summary of escalations" in client.get(url).content.decode()


def test_a_rules_sweep_sends_no_email_per_escalation_by_default(make_person, owners):
    make_person("RED", opened_on=TUESDAY)
    make_person("RED", opened_on=TUESDAY)
    escalation_rules_sweep(today=TUESDAY)
    assert not Notification.objects.filter(kind="escalation_raised").exists()
    escalation_ladder_sweep(today=TUESDAY)
    assert {email: c["new"] for _, email, c in digests()} == {
        owners["la"].email: 2,
        owners["health"].email: 2,
    }


def test_red_escalations_may_also_be_told_at_once(make_person, owners, settings):
    settings.DSR_ESCALATION_RED_AT_ONCE = True
    make_person("RED", opened_on=TUESDAY)
    make_person("AMBER", opened_on=datetime.date(2026, 1, 5))  # amber_unreviewed, level 1
    escalation_rules_sweep(today=TUESDAY)
    told = Notification.objects.filter(kind="escalation_raised")
    assert sorted(told.values_list("email", flat=True)) == sorted(
        [owners["la"].email, owners["health"].email]
    )
    # Told at once, so not new in the digest: only the waiting count has it.
    escalation_ladder_sweep(today=TUESDAY)
    assert digests() == []


def test_at_the_top_an_escalation_past_its_deadline_reminds_each_working_day_until_acknowledged(
    make_person, owners, frozen_now
):
    person = make_person("AMBER")
    escalation = EscalationFactory(person=person, level=3, told_level=3, ack_due_on=TUESDAY)
    executives = sorted([owners["executive"].email, owners["deputy"].email])

    def sweep(day: datetime.date) -> list[str]:
        frozen_now.move_to(f"{day:%Y-%m-%d} 09:30:00+00:00")
        before = Notification.objects.filter(kind="escalation_digest").count()
        escalation_ladder_sweep(today=day)
        escalation_ladder_sweep(today=day)  # a second sweep the same day adds nothing
        rows = Notification.objects.filter(kind="escalation_digest").order_by("id")[before:]
        return sorted(row.email for row in rows)

    assert sweep(TUESDAY) == []  # the deadline is today: not late yet
    assert sweep(datetime.date(2026, 3, 11)) == executives
    assert digests()[-1][2] == {"new": 0, "overdue": 1, "waiting": 1}
    assert sweep(datetime.date(2026, 3, 12)) == executives
    assert sweep(datetime.date(2026, 3, 13)) == executives
    # The weekend is skipped; Monday reminds again.
    assert sweep(datetime.date(2026, 3, 14)) == []
    assert sweep(datetime.date(2026, 3, 15)) == []
    assert sweep(datetime.date(2026, 3, 16)) == executives
    # Good Friday and Easter Monday are bank holidays: no digest.
    for holiday in (datetime.date(2026, 4, 3), datetime.date(2026, 4, 6)):
        assert not is_working_day(holiday)
        assert sweep(holiday) == []
    assert sweep(datetime.date(2026, 4, 7)) == executives

    escalation_acknowledge(escalation=escalation, by=owners["executive"])
    assert sweep(datetime.date(2026, 4, 8)) == []

    row = Notification.objects.filter(kind="escalation_digest").last()
    text = render(row).text
    assert "Past the deadline to acknowledge, at the top level: 1." in text
    assert "reminded each working day until it is acknowledged" in text


def test_with_the_digest_off_each_escalation_is_told_at_once(make_person, owners, settings):
    settings.DSR_ESCALATION_DIGEST = False
    make_person("RED", opened_on=TUESDAY)
    escalation_rules_sweep(today=TUESDAY)
    assert sorted(
        Notification.objects.filter(kind="escalation_raised").values_list("email", flat=True)
    ) == sorted([owners["la"].email, owners["health"].email])
    escalation_ladder_sweep(today=TUESDAY)
    assert digests() == []


@pytest.mark.django_db(transaction=True)
def test_two_ladder_sweeps_at_once_send_one_digest_per_owner(make_person, owners):
    person = make_person("AMBER")
    _escalations(person, 20, level=2, told_level=2, ack_due_on=datetime.date(2026, 3, 5))
    barrier = threading.Barrier(2)

    def sweep():
        barrier.wait()
        try:
            return escalation_ladder_sweep(today=TUESDAY)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = [pool.submit(sweep) for _ in range(2)]
    results = [outcome.result() for outcome in outcomes]

    assert sum(r["moved_up"] for r in results) == 20
    assert sum(r["digests"] for r in results) == 2
    assert sorted(email for _, email, _ in digests()) == sorted(
        [owners["executive"].email, owners["deputy"].email]
    )
    assert sum(c["new"] for _, _, c in digests()) == 40  # each owner told of all 20


def test_digests_queued_for_several_days_and_sent_late_send_only_todays(
    make_person, owners, frozen_now
):
    """The worker was down from Thursday to Tuesday: each working day's sweep queued a digest
    for the level 2 owners. When it starts again each owner gets one email, Tuesday's, with
    today's counts; the older ones are cancelled, not sent with out-of-date counts. Nobody was
    told of the escalations the cancelled ones carried, so Tuesday's carries all four as new."""
    person = make_person("RED", family_name="Hidden")
    days = [datetime.date(2026, 3, 5), datetime.date(2026, 3, 6), datetime.date(2026, 3, 9)]
    for day in [*days, TUESDAY]:
        frozen_now.move_to(
            datetime.datetime(day.year, day.month, day.day, 9, 30, tzinfo=datetime.UTC)
        )
        _escalations(person, 1, level=2, ack_due_on=day + datetime.timedelta(days=5))
        escalation_ladder_sweep(today=day)
    assert (
        Notification.objects.filter(kind="escalation_digest", email=owners["la"].email).count() == 4
    )

    deliver_due()

    sent = sorted(m.to[0] for m in mail.outbox)
    assert sent == sorted([owners["la"].email, owners["health"].email])
    assert all("New to you since your last summary: 4." in m.body for m in mail.outbox)
    late = Notification.objects.filter(kind="escalation_digest", subject_id__lt=20260310)
    assert set(late.values_list("status", flat=True)) == {Notification.Status.CANCELLED}
    assert set(Escalation.objects.values_list("told_level", flat=True)) == {2}

    # Another summary for today queued after one was sent is not sent: one a day at most.
    again = Notification.objects.get(
        kind="escalation_digest", subject_id=20260310, email=owners["la"].email
    )
    again.pk, again.recipient_key = None, f"{again.recipient_key}-again"
    again.status, again.sent_at = Notification.Status.PENDING, None
    again.save()
    mail.outbox.clear()
    deliver_due()
    assert mail.outbox == []
    again.refresh_from_db()
    assert again.status == Notification.Status.CANCELLED


def _sweep(frozen_now, day: datetime.date) -> list[tuple[str, int]]:
    """The ladder sweep at 09:30 on `day`: the digests it queued, as (email, new)."""
    frozen_now.move_to(f"{day:%Y-%m-%d} 09:30:00+00:00")
    digests = Notification.objects.filter(kind="escalation_digest").order_by("email")
    before = list(digests.values_list("pk", flat=True))
    escalation_ladder_sweep(today=day)
    return [(row.email, row.context["new"]) for row in digests.exclude(pk__in=before)]


def test_a_digest_that_fails_for_good_leaves_its_escalations_for_the_next_digest(
    make_person, owners, frozen_now
):
    _escalations(make_person("AMBER"), 3, level=2)
    both = sorted([owners["la"].email, owners["health"].email])
    assert _sweep(frozen_now, TUESDAY) == [(email, 3) for email in both]

    refused = ProviderRefused("The mail server refused the address for good.")
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=refused):
        assert deliver_due() == {"failed": 2}
    assert mail.outbox == []
    # Nobody was told: Wednesday's digests carry the same three, and sending them tells.
    assert set(Escalation.objects.values_list("told_level", flat=True)) == {None}
    assert _sweep(frozen_now, datetime.date(2026, 3, 11)) == [(email, 3) for email in both]
    assert deliver_due() == {"sent": 2}
    assert all("New to you since your last summary: 3." in m.body for m in mail.outbox)
    assert set(Escalation.objects.values_list("told_level", flat=True)) == {2}
    # Told: Thursday has nothing new for them, so no digest.
    assert _sweep(frozen_now, datetime.date(2026, 3, 12)) == []


def test_a_digest_cancelled_as_out_of_date_leaves_its_escalations_for_the_next_digest(
    make_person, owners, frozen_now
):
    _escalations(make_person("AMBER"), 2, level=2)
    both = sorted([owners["la"].email, owners["health"].email])
    assert _sweep(frozen_now, TUESDAY) == [(email, 2) for email in both]
    # The worker was down until Wednesday afternoon: Tuesday's digests are cancelled, not sent.
    frozen_now.move_to("2026-03-11 14:00:00+00:00")
    assert deliver_due() == {"cancelled": 2}
    assert set(Escalation.objects.values_list("told_level", flat=True)) == {None}
    # One escalation moved up to level 3 meanwhile: it is new to the level 3 owners instead.
    moved = Escalation.objects.first()
    Escalation.objects.filter(pk=moved.pk).update(level=3)
    executives = sorted([owners["deputy"].email, owners["executive"].email])
    queued = _sweep(frozen_now, datetime.date(2026, 3, 11))
    assert sorted(queued) == sorted([*[(e, 1) for e in both], *[(e, 1) for e in executives]])
    deliver_due()
    assert sorted(Escalation.objects.values_list("level", "told_level")) == [(2, 2), (3, 3)]
