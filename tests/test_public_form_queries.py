"""T1 for the public pages the benchmark drives: the referral start page and the public C(E)TR
request (its page and a valid POST that saves one request) run the same number of queries
with a small register and a larger one."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reviews.models import CetrRequest
from tests.figures import record
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
