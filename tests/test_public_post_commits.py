"""The public POSTs commit once: the record, its history rows, its acknowledgement and the
visitor's session (the draft forgotten, what was sent remembered for the confirmation) are
written in one transaction (dsr.nhsuk.intake). A transaction that rolls back leaves the session
as it was, so the same page sent again makes one record."""

import contextlib

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import IntegrityError, connection
from django.test import Client
from django.urls import reverse

from dsr.security.sessions import SessionStore
from referrals.models import Referral
from reviews.models import CetrRequest
from tests.referrals.helpers import answers_for, submit, token_from, walk
from tests.reviews.test_requests import _answers, _token

WRITES = ("INSERT", "UPDATE", "DELETE")


@contextlib.contextmanager
def _transactions():
    """Counts the commits, and the writes made outside any transaction (each its own commit)."""
    seen = {"commits": 0, "writes_alone": [], "session_writes": 0}
    commit = connection.commit

    def counted_commit():
        seen["commits"] += 1
        return commit()

    def watch(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(WRITES):
            if not connection.in_atomic_block:
                seen["writes_alone"].append(sql[:80])
            if "django_session" in sql:
                seen["session_writes"] += 1
        return execute(sql, params, many, context)

    connection.commit = counted_commit
    try:
        with connection.execute_wrapper(watch):
            yield seen
    finally:
        del connection.commit


def _session_row(client) -> dict:
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(session_key=key).get_decoded()


@pytest.mark.django_db(transaction=True)
def test_the_cetr_request_post_commits_once_with_the_session(areas):
    cache.clear()
    client = Client()
    token = _token(client)

    with _transactions() as seen:
        response = client.post(
            reverse("reviews:request-public"),
            {**_answers(areas["north"]), "submission_token": token},
        )

    assert response.status_code == 302
    assert seen["commits"] == 1
    assert seen["writes_alone"] == []
    assert seen["session_writes"] == 1
    sent = CetrRequest.objects.get()
    # The session row, as committed, remembers the request and no longer holds its token.
    row = _session_row(client)
    assert row["cetr_request_submitted"] == {"id": sent.pk, "token": token}
    assert "cetr_request_token" not in row
    assert sent.reference in client.get(response["Location"]).content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_referral_send_commits_once_with_the_session(areas):
    cache.clear()
    client = Client()
    walk(client, "family", answers_for("family", areas["north"].pk))
    token = token_from(client)

    with _transactions() as seen:
        response = submit(client, token)

    assert response.status_code == 302
    assert seen["commits"] == 1
    assert seen["writes_alone"] == []
    assert seen["session_writes"] == 1
    referral = Referral.objects.get()
    row = _session_row(client)
    assert row["referral_submitted"] == {"id": referral.pk, "token": token}
    assert "referral_draft" not in row  # the answers leave the session with the send
    assert referral.reference in client.get(response["Location"]).content.decode()
    # Sent again, the same page ends on the same confirmation, with no second referral.
    assert submit(client, token)["Location"] == reverse("referrals:confirmation")
    assert Referral.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_send_rolled_back_after_the_session_was_written_leaves_the_session_as_it_was(
    areas, monkeypatch
):
    cache.clear()
    client = Client()
    token = _token(client)
    data = {**_answers(areas["north"]), "submission_token": token}
    written = SessionStore.save_in_transaction

    def then_refused(self):
        written(self)
        raise IntegrityError("refused at commit")

    monkeypatch.setattr(SessionStore, "save_in_transaction", then_refused)
    refused = client.post(reverse("reviews:request-public"), data)

    assert refused.status_code == 200
    assert "could not be saved" in refused.content.decode()
    assert CetrRequest.objects.count() == 0
    row = _session_row(client)
    assert row["cetr_request_token"] == token
    assert "cetr_request_submitted" not in row

    monkeypatch.setattr(SessionStore, "save_in_transaction", written)
    sent = client.post(reverse("reviews:request-public"), data)

    assert sent["Location"] == reverse("reviews:request-confirmation")
    assert CetrRequest.objects.count() == 1
    assert CetrRequest.objects.get().reference in client.get(sent["Location"]).content.decode()
