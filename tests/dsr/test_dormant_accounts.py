"""Unused accounts: the nightly job switches off accounts not signed in to for
DSR_ACCOUNT_DORMANT_DAYS, records why, ends their sessions and tells the administrators."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dsr.accounts import accounts_disable_dormant, invitation_accept, invitation_create
from dsr.models import Notification, User
from dsr.outbox.delivery import deliver_due
from dsr.roles import Role
from dsr.tasks import disable_dormant_accounts_task
from tests.conftest import account, signed_in_client
from tests.dsr.factories import UserFactory
from tests.figures import record

NOW = datetime.datetime(2026, 6, 1, 2, 45, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)


def at(when: datetime.datetime):
    return time_machine.travel(when, tick=False)


def made_at(when: datetime.datetime, **fields) -> User:
    with at(when):
        return UserFactory(**fields)


def last_signed_in(user: User, when: datetime.datetime) -> None:
    # last_login is bookkeeping, outside the history.
    User.objects.filter(pk=user.pk).update(last_login=when)


def active(*users: User) -> list[bool]:
    return [User.objects.get(pk=user.pk).is_active for user in users]


def test_the_cutoff_is_exactly_the_dormant_days_since_the_last_sign_in(organisations):
    on_the_day = made_at(NOW - 200 * DAY)
    a_second_more = made_at(NOW - 200 * DAY)
    last_signed_in(on_the_day, NOW - 90 * DAY)
    last_signed_in(a_second_more, NOW - 90 * DAY - SECOND)

    with at(NOW):
        switched_off = accounts_disable_dormant()

    assert switched_off == [a_second_more.pk]
    assert active(on_the_day, a_second_more) == [True, False]
    record("dormant cutoff at the default setting (days without signing in)", 90)


def test_never_used_accounts_count_from_their_creation_or_invitation_acceptance(organisations):
    created_91_days_ago = made_at(NOW - 91 * DAY)
    created_89_days_ago = made_at(NOW - 89 * DAY)
    administrator = made_at(NOW - 200 * DAY, roles=[Role.ADMINISTRATOR])
    with at(NOW - 95 * DAY):
        invitation = invitation_create(
            email="late@example.org",
            full_name="Late Starter",
            organisation=organisations["icb"],
            roles=["panel_member"],
            by=administrator,
        )
    with at(NOW - 89 * DAY):
        accepted_89_days_ago = invitation_accept(invitation=invitation, password="a-long-password")
    last_signed_in(administrator, NOW)

    with at(NOW):
        accounts_disable_dormant()

    assert active(created_91_days_ago, created_89_days_ago, accepted_89_days_ago) == [
        False,
        True,
        True,
    ]


def test_an_account_switched_back_on_is_not_switched_off_again_the_next_night(organisations):
    user = made_at(NOW - 200 * DAY)
    with at(NOW - 10 * DAY):
        accounts_disable_dormant()
    assert active(user) == [False]
    with at(NOW - 5 * DAY):
        user.refresh_from_db()
        user.is_active = True
        user.save()  # an administrator switches it back on in the admin site

    with at(NOW):
        kept = accounts_disable_dormant()
    with at(NOW + 86 * DAY):
        later = accounts_disable_dormant()

    assert kept == []
    assert later == [user.pk]


def test_switching_off_records_why_ends_live_sessions_and_tells_the_administrators(
    organisations, caplog
):
    with at(NOW - 200 * DAY):
        sleeper = account(organisations["icb"], Role.REGISTER_STAFF, full_name="Sam Sleeper")
        dormant_admin = account(organisations["icb"], Role.ADMINISTRATOR, full_name="Old Admin")
        admin = account(organisations["icb"], Role.ADMINISTRATOR, full_name="Ada Admin")
    with at(NOW):
        client = signed_in_client(sleeper)
        # Twice: the second request reads the user from the copy kept by the first.
        for _ in range(2):
            assert client.get(reverse("dsr:home")).status_code == 200
        last_signed_in(sleeper, NOW - 100 * DAY)
        last_signed_in(dormant_admin, NOW - 100 * DAY)
        last_signed_in(admin, NOW - DAY)

        with caplog.at_level("INFO", logger="dsr.audit"):
            switched_off = accounts_disable_dormant()
        response = client.get(reverse("dsr:home"))
        deliver_due()

    assert sorted(switched_off) == sorted([sleeper.pk, dormant_admin.pk])
    # Each switch-off is an audit event (E-1), as when an administrator does it.
    audited = [r for r in caplog.records if getattr(r, "event", "") == "account_deactivated"]
    assert sorted(r.user_id for r in audited) == sorted(switched_off)
    latest = sleeper.history.latest()
    assert latest.history_change_reason == "Not signed in for 90 days: switched off"
    assert latest.is_active is False
    # The live session no longer works: the next page is the sign-in page.
    assert response["Location"].startswith(reverse("accounts:sign-in"))
    # One summary, to the administrator still active.
    assert [m.to for m in mail.outbox] == [[admin.email]]
    body = mail.outbox[0].body
    assert "2 accounts were switched off" in body
    assert "Sam Sleeper" in body
    assert "Old Admin" in body
    assert "https://dsr.test/access/review/" in body
    record("B-7 dormant account: live session refused after switching off", "yes")


def test_a_second_run_changes_nothing_and_sends_nothing_more(organisations):
    made_at(NOW - 200 * DAY)
    made_at(NOW - 200 * DAY, roles=[Role.ADMINISTRATOR])
    with at(NOW):
        first = disable_dormant_accounts_task()
        second = disable_dormant_accounts_task()

    assert (first, second) == (2, 0)
    assert Notification.objects.count() == 0  # the administrator was switched off too


@pytest.mark.parametrize("count", [3, 30])
def test_the_job_runs_the_same_queries_whatever_the_number_of_accounts(organisations, count):
    for _ in range(count):
        made_at(NOW - 200 * DAY)
    admin = made_at(NOW - 200 * DAY, roles=[Role.ADMINISTRATOR])
    last_signed_in(admin, NOW)

    with at(NOW), CaptureQueriesContext(connection) as queries:
        switched_off = accounts_disable_dormant()

    assert len(switched_off) == count
    # Savepoints, the locked select, one bulk update, one history insert, the administrators,
    # the outbox insert.
    assert len(queries) <= 8
    record(f"dormant job queries for {count} accounts", len(queries))


def test_the_job_is_scheduled_every_night():
    from dsr.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["disable-dormant-accounts"]
    assert entry["task"] == "dsr.tasks.disable_dormant_accounts_task"
    assert entry["task"] in app.tasks
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {45})


@pytest.mark.django_db
def test_superusers_are_never_switched_off_so_someone_can_switch_accounts_back_on():
    owner = made_at(NOW - 200 * DAY, is_superuser=True, is_staff=True)
    last_signed_in(owner, NOW - 300 * DAY)
    with at(NOW):
        assert accounts_disable_dormant() == []
    assert active(owner) == [True]
