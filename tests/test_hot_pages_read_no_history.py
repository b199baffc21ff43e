"""T12: the pages staff use all day never read the history tables (django-simple-history's
`historical*`): history is for audit and the record's own history page, not the hot path."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.figures import record

pytestmark = pytest.mark.django_db


def _reads_history(sql: str) -> bool:
    return "_historical" in sql


def test_the_check_sees_a_page_that_does_read_history(personas, matrix_objects):
    # An edit form carries the record's latest history row (dsr.nhsuk.edits): the check notices it.
    url = reverse("dsr:person-edit", kwargs={"pk": matrix_objects["north_red"].pk})
    with CaptureQueriesContext(connection) as queries:
        assert personas["clients"]["register_staff"].get(url).status_code == 200
    assert any(_reads_history(q["sql"]) for q in queries)


def test_hot_pages_read_no_history_table(personas, matrix_objects):
    clients = personas["clients"]
    pages = [
        ("register_staff", reverse("dsr:register-dashboard")),
        ("register_staff", reverse("dsr:register-list")),
        (
            "register_staff",
            reverse("dsr:person-detail", kwargs={"pk": matrix_objects["north_red"].pk}),
        ),
        ("register_staff", reverse("referrals:queue")),
        ("senior_manager_health", reverse("escalation:queue")),
        ("planning_commissioner", reverse("reports:snapshot")),
        ("planning_commissioner", reverse("reports:flows")),
    ]
    readers = []
    for persona, url in pages:
        with CaptureQueriesContext(connection) as queries:
            assert clients[persona].get(url).status_code == 200, url
        readers += [url for q in queries if _reads_history(q["sql"])]
    assert readers == []
    record("T12 hot pages reading history tables", f"0 of {len(pages)}")
