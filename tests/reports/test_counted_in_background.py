"""Report figures are counted in the background, never while a reader waits (reports.counting).

A page or feed call reads what was last counted and says when; with nothing counted it says the
figures are being counted and queues their count once; the recount replaces what was counted.
These tests run the service as it runs (`nothing_counted`): no figures are counted on reading.
"""

import datetime
import logging
import socket

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dsr.models import Admission, Person, PersonNeed, Placement, Rating, RegisterEntry, User
from dsr.roles import Role, sync_role_groups
from escalation.models import Escalation
from referrals.models import Referral
from reports import counting, tasks
from reports.api.tokens import token_issue
from reviews.models import Cetr
from tests.conftest import account, signed_in_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "nothing_counted")]

TODAY = datetime.date(2026, 3, 10)  # frozen_now, 09:30
NOTICE = "These figures are being counted. This usually takes a few minutes. Try again shortly."
SNAPSHOT = reverse("reports:snapshot")
# The register's tables, which only a count reads.
REGISTER_TABLES = [
    model._meta.db_table
    for model in (
        Person,
        RegisterEntry,
        Rating,
        Admission,
        Placement,
        PersonNeed,
        Referral,
        Cetr,
        Escalation,
    )
]
# Each page with the count it queues when nothing is counted (the default filters).
PAGES = {
    "snapshot": (SNAPSHOT, ("snapshot", "2026-03-10")),
    "flows": (reverse("reports:flows"), ("flows", "2026-02-01", "2026-02-28")),
    "needs": (reverse("reports:needs"), ("needs", "2026-03-10")),
    "planning": (reverse("reports:planning"), ("planning", 2026, "2026-03-10")),
    "snapshot-csv": (
        reverse("reports:snapshot-csv", args=["age-group"]),
        ("snapshot", "2026-03-10"),
    ),
}


@pytest.fixture
def queued(monkeypatch):
    """The counts sent to the Celery queue (what reports.counting.queue_count sends)."""
    sent = []
    monkeypatch.setattr(tasks.count_figures_task, "delay", lambda *args: sent.append(args))
    return sent


@pytest.fixture
def commissioner(organisations):
    return signed_in_client(account(organisations["icb"], Role.PLANNING_COMMISSIONER))


def _register_read(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if any(f'"{table}"' in q["sql"] for table in REGISTER_TABLES)
    ]


@pytest.mark.parametrize("page", PAGES)
def test_a_page_with_nothing_counted_says_so_counts_nothing_and_queues_the_count_once(
    page, make_person, organisations, commissioner, queued, caplog
):
    make_person("RED")
    url, job = PAGES[page]
    other_reader = signed_in_client(account(organisations["icb"], Role.PLANNING_COMMISSIONER))

    with CaptureQueriesContext(connection) as queries:
        answers = [commissioner.get(url), other_reader.get(url), commissioner.get(url)]

    assert [a.status_code for a in answers] == [503] * 3
    assert all(a["Retry-After"] == "60" for a in answers)
    assert NOTICE in answers[0].content.decode()
    assert _register_read(queries) == []  # nothing was counted in the requests
    assert queued == [job]  # queued once, however many asked
    # Expected, not a fault: logged as information, never as an error.
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("page", ["snapshot", "flows", "needs", "planning"])
def test_after_the_queued_count_the_page_shows_the_figures_and_when_counted(
    page, make_person, commissioner, queued
):
    for rating in ["RED", "AMBER", "GREEN"] * 4:
        make_person(rating)
    url, job = PAGES[page]
    assert commissioner.get(url).status_code == 503

    assert tasks.count_figures_task(*queued[0]) is True  # what the worker runs

    with CaptureQueriesContext(connection) as queries:
        answer = commissioner.get(url)
    assert answer.status_code == 200
    assert "Counted at 09:30 on 10 March 2026" in answer.content.decode()
    assert NOTICE not in answer.content.decode()
    # Read as counted, not counted again. (The flows and planning pages still work out their
    # medians, of one month's or year's rows in the reader's areas, on the request.)
    if page in ("snapshot", "needs"):
        assert _register_read(queries) == []
    else:
        assert len(_register_read(queries)) <= 3
    if page == "snapshot":
        assert answer.context["tables"][0].total.value == 12
    # A second reader's request after the count queues nothing more.
    assert commissioner.get(url).status_code == 200 and len(queued) == 1


def test_the_recount_replaces_the_figures_and_the_page_says_when(
    make_person, commissioner, frozen_now
):
    for rating in ["RED", "AMBER", "GREEN"] * 3:
        make_person(rating)
    assert tasks.recount_today_task() == 4  # the register, needs, flows and planning
    page = commissioner.get(SNAPSHOT)
    assert page.context["tables"][0].total.value == 9

    for rating in ["RED", "AMBER", "GREEN"]:
        make_person(rating)
    # Until the next count the page shows the last one, and says when it was counted.
    frozen_now.shift(datetime.timedelta(minutes=3))
    page = commissioner.get(SNAPSHOT)
    assert page.context["tables"][0].total.value == 9
    assert "Counted at 09:30 on 10 March 2026" in page.content.decode()

    frozen_now.shift(datetime.timedelta(minutes=2))
    tasks.recount_today_task()
    page = commissioner.get(SNAPSHOT)
    assert page.context["tables"][0].total.value == 12
    assert "Counted at 09:35 on 10 March 2026" in page.content.decode()


def test_the_recount_runs_every_few_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["recount-report-figures"]
    assert entry["task"] == "reports.tasks.recount_today_task"
    assert entry["schedule"] == datetime.timedelta(minutes=settings.DSR_REPORT_RECOUNT_MINUTES)
    # What it counts is kept well past the next recount, so a page always finds the last one.
    assert counting.kept_seconds() > 60 * settings.DSR_REPORT_RECOUNT_MINUTES


def test_two_counts_of_one_report_never_run_at_once(make_person):
    make_person("RED")
    with counting.counting_once("snapshot", "2026-03-10") as held:
        assert held
        with CaptureQueriesContext(connection) as queries:
            # The beat's recount, or a reader's queued count, while one is running: left to it.
            assert tasks.count("snapshot", "2026-03-10") is False
            assert tasks.count_figures_task("snapshot", "2026-03-10") is False
        assert _register_read(queries) == []
    # Once it has ended, the lock is given back.
    assert tasks.count("snapshot", "2026-03-10") is True


def test_a_past_day_nobody_counted_is_queued_then_shown(make_person, commissioner, queued):
    make_person("RED", opened_on=datetime.date(2026, 1, 5))
    day = {"on_day": 3, "on_month": 2, "on_year": 2026}
    assert NOTICE in commissioner.get(SNAPSHOT, day).content.decode()
    assert queued == [("snapshot", "2026-02-03")]
    tasks.count_figures_task(*queued[0])
    assert commissioner.get(SNAPSHOT, day).context["tables"][0].total.value == 1


# --- The read feed -----------------------------------------------------------------------------


@pytest.fixture
def bi_tool(organisations):
    administrator = account(organisations["icb"], Role.ADMINISTRATOR, is_staff=True)
    _token, secret = token_issue(
        name="Power BI", organisation=organisations["icb"], days=365, by=administrator
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.mark.parametrize(
    ("name", "job"),
    [
        ("api-register", ("snapshot", "2026-03-10")),
        ("api-flows", ("flows", "2026-02-01", "2026-02-28")),
        ("api-needs", ("needs", "2026-03-10")),
        ("api-planning", ("planning", 2026, "2026-03-10")),
    ],
)
def test_the_feed_answers_503_with_retry_after_until_counted(
    name, job, make_person, bi_tool, queued, caplog
):
    make_person("RED")
    with CaptureQueriesContext(connection) as queries:
        answers = [bi_tool.get(reverse(f"reports:{name}")) for _ in range(2)]
    assert [a.status_code for a in answers] == [503, 503]
    assert answers[0]["Retry-After"] == "60"
    assert answers[0].json() == {"detail": NOTICE}
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert _register_read(queries) == []
    assert queued == [job]

    tasks.count_figures_task(*job)
    answer = bi_tool.get(reverse(f"reports:{name}"))
    assert answer.status_code == 200
    assert answer.json()["counted_at"].startswith("2026-03-10T09:30")


def test_the_feed_document_describes_the_503():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    answer = schema["paths"]["/api/v1/register/"]["get"]["responses"]["503"]
    assert "Retry-After" in answer["headers"]
    assert "503" not in schema["paths"]["/api/v1/local-authorities/"]["get"]["responses"]


# --- With the cache out of reach -----------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def cache_down():
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=caches):
        yield


def test_with_the_cache_down_a_page_says_so_at_once_and_counts_nothing(
    make_person, commissioner, bi_tool, queued, cache_down
):
    make_person("RED")
    with CaptureQueriesContext(connection) as queries:
        page = commissioner.get(SNAPSHOT)
        feed = bi_tool.get(reverse("reports:api-register"))
    assert page.status_code == 503 and page["Retry-After"] == "60"
    assert "These figures cannot be shown just now" in page.content.decode()
    assert feed.status_code == 503 and "cannot be shown just now" in feed.json()["detail"]
    assert _register_read(queries) == []
    assert queued == []  # nothing could keep a count: none is queued
    # A count started while it is down does not run: what it counted could not be kept.
    with CaptureQueriesContext(connection) as queries:
        assert tasks.count("snapshot", "2026-03-10") is False
    assert _register_read(queries) == []


# --- Counting ahead of the first reader --------------------------------------------------------

READ_AT_ONCE = ["snapshot", "flows", "needs", "planning"]


def _every_page_answers_at_once(client: Client) -> None:
    for page in READ_AT_ONCE:
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(PAGES[page][0])
        assert answer.status_code == 200, page
        if page in ("snapshot", "needs"):
            assert _register_read(queries) == [], page


def test_the_count_command_counts_what_the_pages_read(make_person, commissioner, queued):
    make_person("RED")
    call_command("count_report_figures")
    _every_page_answers_at_once(commissioner)
    # Yesterday's register was counted too, as each night.
    yesterday = {"on_day": 9, "on_month": 3, "on_year": 2026}
    assert commissioner.get(SNAPSHOT, yesterday).status_code == 200
    assert queued == []


@override_settings(DEBUG=True)
def test_the_demo_loader_counts_the_figures_for_the_first_visit(queued):
    sync_role_groups(apps)  # a test run with the database flushed has lost the migrations' groups
    call_command("seed_demo")
    commissioner = signed_in_client(User.objects.get(email="commissioner@dsr.example"))
    _every_page_answers_at_once(commissioner)
    assert queued == []


@pytest.mark.parametrize("page", READ_AT_ONCE)
def test_reading_counted_figures_takes_the_same_queries_at_two_sizes(
    page, make_person, commissioner
):
    queries = []
    for people in (5, 40):
        for index in range(people - (5 if people == 40 else 0)):
            make_person(["RED", "AMBER", "GREEN"][index % 3])
        tasks.recount_today_task()
        commissioner.get(PAGES[page][0])  # the signed-in user read once, then kept
        with CaptureQueriesContext(connection) as captured:
            assert commissioner.get(PAGES[page][0]).status_code == 200
        queries.append(len(captured.captured_queries))
    assert queries[0] == queries[1]


def test_each_readers_page_is_made_once_from_a_count_and_again_after_the_next(
    make_person, commissioner, settings, frozen_now
):
    """A page is worked out from a whole counted family once, kept for everyone with the same
    scope, and made afresh as soon as a count keeps new figures."""
    settings.DSR_REPORT_PAGE_SECONDS = 300
    for rating in ["RED", "AMBER", "GREEN"] * 3:
        make_person(rating)
    tasks.recount_today_task()
    assert commissioner.get(SNAPSHOT).context["tables"][0].total.value == 9

    # Kept: the counted family is not read again (taken away here, a reader would be told the
    # figures are being counted).
    counting.figures_cache().delete(counting._key("snapshot-family", (TODAY,)))
    page = commissioner.get(SNAPSHOT)
    assert page.status_code == 200
    assert page.context["tables"][0].total.value == 9

    for rating in ["RED", "AMBER", "GREEN"]:
        make_person(rating)
    frozen_now.shift(datetime.timedelta(minutes=5))
    tasks.recount_today_task()
    page = commissioner.get(SNAPSHOT)
    assert page.context["tables"][0].total.value == 12
    assert "Counted at 09:35 on 10 March 2026" in page.content.decode()
