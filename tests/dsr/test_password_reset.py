"""Password reset by email: the request only queues a job, which finds the account and queues its
email; the link is made when the email is sent; requests are limited per client address and per
account (RELIABILITY B-4, C-5; ASVS v5.0.0-6.3.8, 2.4.1)."""

import re
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from kombu.exceptions import OperationalError

from dsr.models import Notification
from dsr.notifications import deliver_due
from dsr.roles import Role
from dsr.tasks import queue_password_reset_task
from tests.conftest import account
from tests.dsr.factories import UserFactory
from tests.figures import record
from tests.password_resets import reset_jobs, run_reset_jobs

pytestmark = pytest.mark.django_db

RESET = reverse("accounts:password-reset")
SENT = reverse("accounts:password-reset-sent")
LINK = re.compile(r"https://dsr\.test(/accounts/password-reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(organisations):
    return account(organisations["icb"], Role.REGISTER_STAFF, email="member@nhs.example")


def _ask(email: str, address: str = "203.0.113.5"):
    return Client(REMOTE_ADDR=address).post(RESET, {"email": email})


def test_the_job_emails_a_known_address_a_link_that_opens_the_new_password_step(member):
    with reset_jobs() as jobs:
        response = _ask("Member@NHS.example")
    assert response["Location"] == SENT
    assert mail.outbox == []  # nothing is sent within the request
    assert jobs == [("member@nhs.example", jobs[0][1])]

    run_reset_jobs(jobs)

    assert [message.to for message in mail.outbox] == [["member@nhs.example"]]
    link = LINK.search(mail.outbox[0].body)
    assert link, mail.outbox[0].body
    assert link.group(1) in mail.outbox[0].alternatives[0][0]
    page = Client().get(link.group(1), follow=True)
    assert "Choose a new password" in page.text
    # The outbox row keeps no link: it is made when the email is sent.
    row = Notification.objects.get()
    assert (row.kind, row.email, row.status) == ("password_reset", member.email, "sent")
    stored = " ".join(str(value) for value in Notification.objects.values().get().values())
    assert link.group(1).rstrip("/").rsplit("/", 1)[1] not in stored


@pytest.mark.parametrize("email", ["nobody@nhs.example", "left@nhs.example"])
def test_the_job_sends_nothing_for_an_unknown_or_deactivated_address(organisations, email):
    UserFactory(email="left@nhs.example", organisation=organisations["icb"], is_active=False)
    with reset_jobs() as jobs:
        response = _ask(email)
    assert response["Location"] == SENT
    assert len(jobs) == 1

    run_reset_jobs(jobs)

    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_a_job_run_twice_for_one_request_sends_one_email(member):
    with reset_jobs() as jobs:
        _ask(member.email)

    run_reset_jobs(jobs)
    run_reset_jobs(jobs)

    assert len(mail.outbox) == 1


def test_twenty_requests_for_one_account_send_no_more_than_the_account_limit(member):
    limit = settings.DSR_PASSWORD_RESET_PER_ACCOUNT_HOUR
    # From twenty addresses, so only the account's own limit applies.
    with reset_jobs() as jobs:
        answers = {_ask(member.email, f"198.51.100.{n}")["Location"] for n in range(1, 21)}

    run_reset_jobs(jobs)

    # Every request is answered alike, those past the limit too; the inbox gets the limit.
    assert answers == {SENT}
    assert len(jobs) == 20
    assert [message.to for message in mail.outbox] == [[member.email]] * limit
    record("C-5 password reset emails sent for 20 requests to one account", len(mail.outbox))


def test_requests_for_another_account_are_not_held_back_by_one_at_its_limit(member, organisations):
    other = UserFactory(email="other@nhs.example", organisation=organisations["icb"])
    with reset_jobs() as jobs:
        for n in range(settings.DSR_PASSWORD_RESET_PER_ACCOUNT_HOUR + 2):
            _ask(member.email, f"198.51.100.{n + 1}")
        _ask(other.email, "198.51.100.99")

    run_reset_jobs(jobs)

    assert mail.outbox[-1].to == [other.email]


def test_past_the_limit_for_one_address_the_page_says_too_many_and_nothing_is_queued(member):
    limit = settings.DSR_PASSWORD_RESET_PER_ADDRESS_HOUR
    client = Client(REMOTE_ADDR="203.0.113.7")
    with reset_jobs() as jobs:
        answers = [client.post(RESET, {"email": f"someone{n}@nhs.example"}) for n in range(limit)]
        refused = client.post(RESET, {"email": member.email})
    elsewhere = _ask(member.email, "203.0.113.8")

    assert {answer.status_code for answer in answers} == {302}
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "Sorry, there have been too many requests" in refused.text
    assert len(jobs) == limit
    assert elsewhere["Location"] == SENT
    record("C-5 password reset requests from one address per hour", limit)


def test_a_broker_that_cannot_be_reached_never_fails_the_request(
    member, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(
            queue_password_reset_task, "delay", side_effect=OperationalError("broker down")
        ) as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = _ask(member.email)

    assert response["Location"] == SENT
    assert delay.call_count == 1


def test_an_account_switched_off_before_its_email_goes_is_sent_no_link(member):
    with reset_jobs() as jobs:
        _ask(member.email)
    queue_password_reset_task(*jobs[0])
    member.is_active = False
    member.save()

    deliver_due()

    assert mail.outbox == []
    assert Notification.objects.get().status == Notification.Status.FAILED
