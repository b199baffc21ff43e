"""The escalation queue's order is kept in a table (escalation.queue_order): the page read from
it shows exactly the people, order, totals and counts that sorting the whole queue gave; every
change that moves someone keeps it in step in the same transaction; and the hourly check puts
back anything out of step and tells the DSR leads (HZ-19)."""

import datetime
import logging
import random

import pytest
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from dsr.models import RAG, Notification, Person, RegisterEntry
from dsr.roles import Role
from dsr.services import person_update, rating_change, register_close
from escalation import queries, rules
from escalation.models import LIVE, Escalation, QueuePlace
from escalation.queries import QueueFilters, awaiting_acknowledgement, queue_page
from escalation.queue_order import queue_order_rebuild
from escalation.services import (
    escalation_acknowledge,
    escalation_raise_by_hand,
    escalation_resolve,
)
from escalation.sweeps import escalation_ladder_sweep, escalation_rules_sweep
from escalation.tasks import check_escalation_queue_task
from tests.conftest import account, signed_in_client
from tests.dsr.factories import PersonFactory
from tests.escalation.factories import (
    AcknowledgedEscalationFactory,
    EscalationFactory,
    ResolvedEscalationFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

QUEUE = reverse("escalation:queue")
TODAY = datetime.date(2026, 3, 10)
FAR_FUTURE = datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC)
OLD_KEYS = ["waiting_rank", "rating_rank", "oldest_key", "id"]


def _sorted_queue(user, filters: QueueFilters, today):
    """The queue as the page worked it out before the table: every person in scope, ranked
    and sorted whole on every page. Kept here as the reference the table must match."""
    live = Escalation.objects.filter(person=OuterRef("pk"), status__in=LIVE)
    waiting = awaiting_acknowledgement(user).filter(person=OuterRef("pk"))
    past_deadline = waiting.filter(ack_due_on__lt=today)
    placing = (
        live
        if user.has_perm("dsr.view_register")
        else live.filter(level__gte=max(rules.level_for(user), 1))
    )
    people = (
        Person.objects.visible_to(user)
        .annotate(
            open_entry=FilteredRelation(
                "register_entries",
                condition=Q(register_entries__status=RegisterEntry.Status.OPEN),
            )
        )
        .annotate(entry_rating=F("open_entry__rating"))
        .filter(Q(entry_rating__in=[RAG.RED, RAG.AMBER]) | Q(Exists(placing)))
        .annotate(
            waiting_rank=Case(
                When(Exists(past_deadline), then=Value(0)),
                When(Exists(waiting), then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            rating_rank=Case(
                When(entry_rating=RAG.RED, then=Value(0)),
                When(entry_rating=RAG.AMBER, then=Value(1)),
                When(entry_rating=RAG.BLUE, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            ),
            oldest_key=Coalesce(
                Subquery(live.order_by("raised_at").values("raised_at")[:1]), Value(FAR_FUTURE)
            ),
        )
    )
    if filters.local_authority:
        people = people.filter(local_authority_id=filters.local_authority)
    if filters.organisation:
        people = people.filter(local_authority__organisations=filters.organisation)
    if filters.level:
        people = people.filter(Exists(live.filter(level=filters.level)))
    if filters.past_deadline:
        people = people.filter(Exists(past_deadline))
    return people


def _level_counts(user, filters: QueueFilters, today) -> list[tuple[int, int, int]]:
    area = QueueFilters(local_authority=filters.local_authority, organisation=filters.organisation)
    in_queue = _sorted_queue(user, area, today).values("pk")
    live = Escalation.objects.filter(status__in=LIVE, person__in=in_queue)
    return [
        (
            level,
            live.filter(level=level).count(),
            live.filter(level=level, status=Escalation.Status.OPEN).count(),
        )
        for level in range(1, rules.top_level() + 1)
    ]


def _walk(user, filters: QueueFilters) -> tuple[list[tuple[int, int]], list]:
    """Every person the table-driven page shows, page after page, with their waiting rank."""
    shown, after, pages = [], "", []
    while True:
        page = queue_page(user, filters, after=after)
        pages.append(page)
        shown += [(row.person.pk, row.person.waiting_rank) for row in page.rows]
        if not page.next_after:
            return shown, pages
        after = page.next_after


def _random_register(rng, make_person, areas) -> None:
    """People rated at random in two areas, some not on the register at all, each with up to
    three escalations at random levels, states, deadlines (none, past, today, to come) and
    ages, a few raised in the other area or in none, and some raised at the same moment."""
    now = timezone.now()
    moments = [now - datetime.timedelta(days=rng.randint(0, 30)) for _ in range(6)]
    for _ in range(36):
        area = rng.choice(["north", "south"])
        rating = rng.choice([RAG.RED, RAG.AMBER, RAG.GREEN, None])
        if rating is None:
            person = PersonFactory(local_authority=areas[area])
        else:
            person = make_person(rating, area=area)
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            factory = rng.choice(
                [EscalationFactory] * 3 + [AcknowledgedEscalationFactory, ResolvedEscalationFactory]
            )
            raised_area = rng.choice(
                [areas[area]] * 3 + [areas["south" if area == "north" else "north"], None]
            )
            factory(
                person=person,
                local_authority=raised_area,
                level=rng.randint(1, rules.top_level()),
                raised_at=rng.choice(moments),
                ack_due_on=rng.choice(
                    [
                        None,
                        TODAY - datetime.timedelta(days=3),
                        TODAY,
                        TODAY + datetime.timedelta(days=2),
                    ]
                ),
            )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_page_read_from_the_table_matches_sorting_the_whole_queue_on_random_data(
    seed, make_person, areas, organisations, monkeypatch
):
    _random_register(random.Random(seed), make_person, areas)  # noqa: S311  (test data)
    # Small pages, so that every page boundary between the groups is crossed by keyset.
    monkeypatch.setattr(queries, "PAGE_SIZE", 4)
    users = [
        account(organisations["icb"], Role.REGISTER_STAFF),
        account(organisations["north_council"], Role.SENIOR_MANAGER_LA),
        account(organisations["trust"], Role.SENIOR_MANAGER_HEALTH),
        account(organisations["icb"], Role.DSR_LEAD),
    ]
    choices = [
        QueueFilters(),
        QueueFilters(local_authority=areas["north"].pk),
        QueueFilters(organisation=organisations["south_council"].pk),
        QueueFilters(level=2),
        QueueFilters(past_deadline=True),
        QueueFilters(local_authority=areas["south"].pk, level=3, past_deadline=True),
    ]
    compared = 0
    for user in users:
        for filters in choices:
            expected = list(
                _sorted_queue(user, filters, TODAY)
                .order_by(*OLD_KEYS)
                .values_list("pk", "waiting_rank")
            )
            shown, pages = _walk(user, filters)
            assert shown == expected, (user.roles, filters)
            assert {page.total for page in pages} == {len(expected)}
            counts = pages[0].counts
            assert [(c["level"], c["live"], c["waiting"]) for c in counts.levels] == _level_counts(
                user, filters, TODAY
            )
            compared += len(expected)
    assert compared > 100  # the data put plenty of people in the queues


def _in_step() -> dict[str, int]:
    """What the check would repair now: nothing when every write kept the table in step."""
    return queue_order_rebuild().as_counts()


IN_STEP = {"missing": 0, "extra": 0, "changed": 0, "red_missing": 0}


def test_every_change_that_moves_someone_keeps_the_queue_in_step(
    make_person, areas, organisations, clerk, frozen_now
):
    manager = account(organisations["north_council"], Role.SENIOR_MANAGER_LA)
    person = make_person("GREEN", family_name="Moves")

    def page():
        # Signed in afresh each time: the clock moves on by weeks below.
        return signed_in_client(manager).get(QUEUE).context["page"]

    def shown() -> list[str]:
        return [row.person.family_name for row in page().rows]

    assert shown() == [] and _in_step() == IN_STEP
    entry = RegisterEntry.objects.get(person=person, status=RegisterEntry.Status.OPEN)
    rating_change(entry=entry, rating=RAG.RED, rationale="Crisis.", by=clerk)
    assert shown() == ["Moves"] and _in_step() == IN_STEP
    escalation = escalation_raise_by_hand(person=person, level=2, note="Urgent.", by=clerk)
    assert [r.person.family_name for r in page().waiting_rows] == ["Moves"]
    assert _in_step() == IN_STEP
    escalation_acknowledge(escalation=escalation, by=manager)
    shown_now = page()
    assert shown_now.waiting_rows == []
    assert [r.person.family_name for r in shown_now.other_rows] == ["Moves"]
    assert _in_step() == IN_STEP
    escalation_resolve(escalation=escalation, by=manager, outcome="Support in place.")
    assert _in_step() == IN_STEP
    # The rules sweep raises in SQL (Red without a community C(E)TR, and so on); the ladder
    # starts the clocks, and days later moves up what was not acknowledged.
    escalation_rules_sweep()
    assert _in_step() == IN_STEP
    frozen_now.move_to(timezone.now() + datetime.timedelta(days=20))
    escalation_ladder_sweep()
    assert Escalation.objects.filter(level__gt=2).exists()
    assert _in_step() == IN_STEP
    # Moved to another area: out of the north's queue.
    person_update(person=person, by=clerk, local_authority=areas["south"])
    assert shown() == [] and _in_step() == IN_STEP
    person_update(person=person, by=clerk, local_authority=areas["north"])
    entry = RegisterEntry.objects.get(person=person, status=RegisterEntry.Status.OPEN)
    rating_change(entry=entry, rating=RAG.GREEN, rationale="Settled.", by=clerk)
    assert _in_step() == IN_STEP
    register_close(entry=entry, reason=RegisterEntry.ClosureReason.RISK_REDUCED, by=clerk)
    assert _in_step() == IN_STEP


def test_the_check_puts_back_a_red_person_missing_from_a_managers_queue_and_tells_the_dsr_lead(
    make_person, organisations, caplog
):
    lead = account(organisations["icb"], Role.DSR_LEAD, email="lead@nhs.example")
    manager = account(organisations["north_council"], Role.SENIOR_MANAGER_LA)
    client = signed_in_client(manager)
    red = make_person("RED", family_name="Missing")
    make_person("AMBER", family_name="Present")
    # A write that forgot the queue: the person rated Red is gone from it.
    QueuePlace.objects.filter(person=red).delete()
    assert [r.person.family_name for r in client.get(QUEUE).context["page"].rows] == ["Present"]

    with caplog.at_level(logging.ERROR, logger="escalation.sweeps"):
        counts = check_escalation_queue_task()

    assert counts == {
        "missing": rules.top_level(),
        "extra": 0,
        "changed": 0,
        "red_missing": rules.top_level(),
    }
    assert "out of step with the records" in caplog.text and f"{red.pk}" in caplog.text
    assert "Missing" not in caplog.text  # ids only in the log
    (sent,) = Notification.objects.filter(kind="escalation_queue_repaired")
    assert (sent.email, sent.context["red_missing"]) == (lead.email, rules.top_level())
    assert [r.person.family_name for r in client.get(QUEUE).context["page"].rows] == [
        "Missing",
        "Present",
    ]


def test_the_check_repairs_a_place_out_of_order_and_one_without_a_reason(
    make_person, organisations
):
    account(organisations["icb"], Role.DSR_LEAD)
    manager = account(organisations["north_council"], Role.SENIOR_MANAGER_LA)
    client = signed_in_client(manager)
    red = make_person("RED", family_name="Red")
    amber = make_person("AMBER", family_name="Amber")
    green = make_person("GREEN", family_name="Green")
    QueuePlace.objects.filter(person=red).update(rating_rank=2)
    QueuePlace.objects.create(
        level=2,
        person=green,
        local_authority=green.local_authority,
        rating_rank=3,
        oldest_raised_at=FAR_FUTURE,
        waiting=False,
    )
    assert [r.person.family_name for r in client.get(QUEUE).context["page"].rows] == [
        "Amber",
        "Red",
        "Green",
    ]
    counts = check_escalation_queue_task()
    assert counts == {"missing": 0, "extra": 1, "changed": rules.top_level(), "red_missing": 0}
    assert [r.person for r in client.get(QUEUE).context["page"].rows] == [red, amber]


def test_the_check_says_nothing_when_the_queue_is_in_step(make_person, organisations):
    account(organisations["icb"], Role.DSR_LEAD)
    make_person("RED")
    EscalationFactory(person=make_person("AMBER"), level=2)
    assert check_escalation_queue_task() == IN_STEP
    assert not Notification.objects.filter(kind="escalation_queue_repaired").exists()
    assert QueuePlace.objects.exists()


def test_the_queue_check_runs_every_hour(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["escalation-queue-check"]
    assert entry["task"] == "escalation.tasks.check_escalation_queue_task"
    assert entry["schedule"].minute == {40} and len(entry["schedule"].hour) == 24


def test_the_table_holds_a_handful_of_places_per_person_not_the_register(make_person):
    for rating in ("RED", "AMBER", "GREEN", "GREEN"):
        make_person(rating)
    assert QueuePlace.objects.values("person").distinct().count() == 2
    assert QueuePlace.objects.aggregate(n=Count("id"))["n"] == 2 * rules.top_level()
