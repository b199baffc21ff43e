"""T1 for the public pages the benchmark drives: the referral start page and the public C(E)TR
request (its page and a valid POST that saves one request) run the same number of queries
with a small register and a larger one."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dsr.models import Notification
from referrals.models import Referral
from reviews.models import CetrRequest
from tests.figures import record
from tests.referrals.helpers import answers_for, submit, token_from, walk
from tests.reviews.test_requests import _answers, _token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def _counts(areas) -> tuple[int, int, int]:
    cache.clear()  # the hourly limits count per address
    client = Client()
    with CaptureQueriesContext(connection) as start:
        assert client.get(reverse("referrals:start")).status_code == 200
    with CaptureQueriesContext(connection) as page:
        token = _token(client)
    before = CetrRequest.objects.count()
    with CaptureQueriesContext(connection) as post:
        response = client.post(
            reverse("reviews:request-public"),
            {**_answers(areas["north"]), "submission_token": token},
        )
    assert response.status_code == 302
    assert CetrRequest.objects.count() == before + 1
    return len(start), len(page), len(post)


def test_the_public_pages_run_the_same_queries_at_two_sizes(make_person, areas):
    for _ in range(3):
        make_person("AMBER")
    small = _counts(areas)
    for _ in range(60):
        make_person("GREEN", area="south")
    large = _counts(areas)
    assert small == large
    record(
        "T1 queries: public start page / C(E)TR request page / its valid POST (3 / 63 people)",
        " / ".join(map(str, large)),
    )


# What each public POST costs in queries, the same for any size of register (counted in a test,
# where each transaction is a savepoint; bench/README.md counts them as served):
# (the visitor's session is read from the cache: dsr.security.sessions)
# - the C(E)TR request: the council areas (the form's choices), a savepoint, the
#   request, its history row and its acknowledgement (one insert), the visitor's session (one
#   update, in the same transaction: dsr.nhsuk.intake), the savepoint released (7);
# - the referral: the council areas (the person step checked again), a savepoint,
#   any live referral for the same person, the referral and its history row, its first status
#   move, its contacts and their history rows (one insert each, whatever their number), the
#   acknowledgements (one insert), the visitor's session (one update), the savepoint released
#   (11).
CETR_REQUEST_POST_QUERIES = 7
REFERRAL_POST_QUERIES = 11


def _referral_post(areas, family_name: str) -> int:
    cache.clear()  # the hourly limits count per address
    client = Client()
    answers = answers_for("family", areas["north"].pk)
    # A person of their own, so this referral is not linked to an earlier one.
    answers["person"] |= {"family_name": family_name, "nhs_number": ""}
    walk(client, "family", answers)
    token = token_from(client)
    before = Notification.objects.count()
    with CaptureQueriesContext(connection) as post:
        response = submit(client, token)
    assert response.status_code == 302
    referral = Referral.objects.get(family_name=family_name)
    # Its two contacts (the person, and the father with parental responsibility) are saved and
    # acknowledged, as before the contacts were written in one insert.
    assert referral.contacts.count() == 2
    assert Notification.objects.count() > before
    return len(post)


def test_each_public_post_makes_a_fixed_number_of_queries_at_two_sizes(make_person, areas):
    for _ in range(3):
        make_person("AMBER")
    small = (_counts(areas)[2], _referral_post(areas, "Quillfeather"))
    for _ in range(60):
        make_person("GREEN", area="south")
    large = (_counts(areas)[2], _referral_post(areas, "Thistlewood"))
    assert small == large == (CETR_REQUEST_POST_QUERIES, REFERRAL_POST_QUERIES)
    record(
        "T1 queries: public C(E)TR request POST / public referral POST", " / ".join(map(str, large))
    )
