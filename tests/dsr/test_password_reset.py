"""Password reset by email: the request only writes its row and queues a job with the row's id,
which finds the account and queues its email (a sweep does it when the job could not be queued);
the link is made when the email is sent; requests are limited per client address and per account
(RELIABILITY B-4, C-5, E-4, G-4; ASVS v5.0.0-6.3.8, 2.4.1)."""

import logging
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from kombu.exceptions import OperationalError

from dsr.accounts import PASSWORD_RESET_KEEP, PASSWORD_RESET_SWEEP_AFTER
from dsr.celery import app
from dsr.models import Notification, PasswordResetRequest
from dsr.outbox.delivery import deliver_due
from dsr.roles import Role
from dsr.tasks import queue_password_reset_task, sweep_password_resets_task
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
    request = PasswordResetRequest.objects.get()
    assert jobs == [request.pk]  # the job is sent the request's id
    assert request.email == "member@nhs.example"  # the address typed, in lower case

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


@pytest.mark.parametrize(("hours", "said"), [(None, "1 hour"), (2, "2 hours")])
def test_the_email_and_the_sent_page_say_how_long_the_link_works(member, hours, said):
    timeout = settings.PASSWORD_RESET_TIMEOUT if hours is None else hours * 3600
    with override_settings(PASSWORD_RESET_TIMEOUT=timeout):
        with reset_jobs() as jobs:
            response = _ask(member.email)
        run_reset_jobs(jobs)
        sent = Client().get(response["Location"])

    assert settings.PASSWORD_RESET_TIMEOUT == 3600  # the default: one hour, not Django's 3 days
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    assert f"The link works once, for {said}." in message.body
    assert f"The link works once, for {said}." in html
    assert "limited time" not in message.body + html
    assert f"The link works for {said} and only once." in sent.text
    # The HTML email gives the web address as text too, so it can be copied.
    url = "https://dsr.test" + LINK.search(message.body).group(1)
    assert f"copy this web address into your browser:<br>{url}</p>" in html


def test_a_link_older_than_its_lifetime_is_refused_and_changes_nothing(member, frozen_now):
    with reset_jobs() as jobs:
        _ask(member.email)
    run_reset_jobs(jobs)
    link = LINK.search(mail.outbox[0].body).group(1)
    lifetime = timedelta(hours=settings.DSR_PASSWORD_RESET_HOURS)  # the lifetime configured

    frozen_now.shift(lifetime - timedelta(minutes=1))
    assert "Choose a new password" in Client().get(link, follow=True).text
    frozen_now.shift(timedelta(minutes=2))
    client = Client()
    page = client.get(link, follow=True)
    client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else link,
        {"new_password1": "granite pelican orchard", "new_password2": "granite pelican orchard"},
    )

    assert "This link has expired" in page.text
    assert "Choose a new password</h1>" not in page.text
    member.refresh_from_db()
    assert not member.check_password("granite pelican orchard")


def _new_password_page(member) -> tuple[Client, str]:
    """A client on the new-password step of a reset link sent to member, and that step's URL."""
    with reset_jobs() as jobs:
        _ask(member.email)
    run_reset_jobs(jobs)
    client = Client()
    page = client.get(LINK.search(mail.outbox[0].body).group(1), follow=True)
    return client, page.redirect_chain[-1][0]


def _error_under(page: str, field: str) -> str:
    """The error message shown with the field of this id (its "<id>-error" span), or ""."""
    found = re.search(rf'id="{field}-error"[^>]*>(.*?</span>.*?)</span>', page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()) if found else ""


def test_a_weak_new_password_is_shown_on_the_new_password_box_and_changes_nothing(member):
    client, url = _new_password_page(member)
    before = member.password

    page = client.get(url).text
    response = client.post(url, {"new_password1": "short", "new_password2": "short"})

    assert "New password" in page and "Enter the new password again" in page
    assert "Use at least 12 characters, and not a common password or anything like" in page
    assert "Your password can" not in page  # Django's four bullets are gone
    assert response.status_code == 200
    assert '<a href="#id_new_password1">This password is too short.' in response.text
    assert "#id_new_password2" not in response.text
    assert "This password is too short" in _error_under(response.text, "id_new_password1")
    assert _error_under(response.text, "id_new_password2") == ""
    member.refresh_from_db()
    assert member.password == before


def test_two_different_new_passwords_are_shown_on_the_confirmation_box(member):
    client, url = _new_password_page(member)
    before = member.password

    response = client.post(
        url, {"new_password1": "granite pelican orchard", "new_password2": "granite pelican"}
    )

    assert response.status_code == 200
    assert '<a href="#id_new_password2">Enter the same password in both boxes.</a>' in (
        response.text
    )
    assert "Enter the same password in both boxes." in _error_under(
        response.text, "id_new_password2"
    )
    assert _error_under(response.text, "id_new_password1") == ""
    member.refresh_from_db()
    assert member.password == before


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


def test_a_job_run_twice_for_one_request_sends_one_email(member, frozen_now):
    with reset_jobs() as jobs:
        _ask(member.email)

    run_reset_jobs(jobs)
    run_reset_jobs(jobs)
    frozen_now.shift(PASSWORD_RESET_SWEEP_AFTER + timedelta(seconds=1))
    assert sweep_password_resets_task() == {"handled": 0, "deleted": 0}  # nothing left to do

    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1
    assert PasswordResetRequest.objects.get().processed_at is not None


def test_the_job_is_sent_the_request_id_and_never_the_address(
    member, django_capture_on_commit_callbacks
):
    published = []

    def publish(name, args=None, kwargs=None, **options):
        published.append((name, args, kwargs))

    with (
        mock.patch.object(app, "send_task", side_effect=publish),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = _ask(" Member@NHS.example ")

    assert response["Location"] == SENT
    request = PasswordResetRequest.objects.get()
    assert published == [("dsr.tasks.queue_password_reset_task", (request.pk,), {})]
    assert "member@nhs" not in repr(published).lower()  # RELIABILITY E-4: ids, not personal data


def test_a_request_made_while_the_broker_is_down_is_answered_and_its_email_sent_by_the_sweep(
    member, django_capture_on_commit_callbacks, frozen_now, caplog
):
    with (
        mock.patch.object(app, "send_task", side_effect=OperationalError("broker down")) as publish,
        django_capture_on_commit_callbacks(execute=True),
        caplog.at_level(logging.ERROR, logger="django.db.backends.base"),
    ):
        response = _ask(member.email)

    assert response["Location"] == SENT  # answered as usual
    assert publish.call_count == 1
    assert any(
        "dsr.tasks.queue_password_reset_task" in r.getMessage() and r.levelname == "ERROR"
        for r in caplog.records
    ), "the failed enqueue is logged, naming the task"
    assert not Notification.objects.exists()

    # A request only just made is left to its job, which may still be on its way.
    assert sweep_password_resets_task() == {"handled": 0, "deleted": 0}
    frozen_now.shift(PASSWORD_RESET_SWEEP_AFTER + timedelta(seconds=1))
    assert sweep_password_resets_task() == {"handled": 1, "deleted": 0}
    deliver_due()

    row = Notification.objects.get()
    assert (row.kind, row.email, row.status) == ("password_reset", member.email, "sent")
    assert [message.to for message in mail.outbox] == [[member.email]]
    assert LINK.search(mail.outbox[0].body)


def test_a_request_and_the_address_typed_are_deleted_a_day_after_it_was_handled(member, frozen_now):
    with reset_jobs() as jobs:
        _ask(member.email)
        _ask("nobody@nhs.example")
    run_reset_jobs(jobs)
    assert PasswordResetRequest.objects.filter(processed_at__isnull=False).count() == 2

    frozen_now.shift(PASSWORD_RESET_KEEP - timedelta(seconds=1))
    assert sweep_password_resets_task() == {"handled": 0, "deleted": 0}
    assert PasswordResetRequest.objects.count() == 2
    frozen_now.shift(timedelta(seconds=2))
    assert sweep_password_resets_task() == {"handled": 0, "deleted": 2}

    assert not PasswordResetRequest.objects.exists()
    # The email it led to is an outbox row, kept (and anonymised) under the retention schedule.
    assert Notification.objects.get().email == member.email


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
    assert f'<a href="{reverse("accounts:sign-in")}">Go back to sign in</a>' in refused.text
    assert len(jobs) == limit
    assert elsewhere["Location"] == SENT
    record("C-5 password reset requests from one address per hour", limit)


def test_an_account_switched_off_before_its_email_goes_is_sent_no_link(member):
    with reset_jobs() as jobs:
        _ask(member.email)
    queue_password_reset_task(jobs[0])
    member.is_active = False
    member.save()

    deliver_due()

    assert mail.outbox == []
    assert Notification.objects.get().status == Notification.Status.FAILED
