"""Resolving while the cause remains (issue "Every role's first screen is its work", item 4): an
escalation resolved by hand whose rule's cause is still there after the cooling-off period
(DSR_ESCALATION_RERAISE_DAYS, 28 days) is raised again, as the next raise number linked to the
one resolved before, and its page says when and why that one was resolved. On a frozen clock:
Tuesday 10 March 2026."""

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from dsr.models import RAG
from dsr.roles import Role
from dsr.services import rating_change
from escalation.models import Escalation, EscalationTransition
from escalation.services import escalation_resolve
from escalation.sweeps import escalation_rules_sweep
from tests.conftest import account, signed_in_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TUESDAY = datetime.date(2026, 3, 10)


@pytest.fixture
def manager(organisations):
    return account(organisations["north_council"], Role.SENIOR_MANAGER_LA)


@pytest.fixture
def resolved(make_person, manager):
    """A person rated Red whose red_rating escalation was resolved on 10 March, still Red."""
    person = make_person("RED", opened_on=TUESDAY)
    escalation_rules_sweep(today=TUESDAY)
    escalation = Escalation.objects.get(reason="red_rating")
    escalation_resolve(escalation=escalation, by=manager, outcome="Crisis team in place.")
    return person, escalation


def _sweep_on(frozen_now, day: datetime.date) -> dict[str, int]:
    frozen_now.move_to(f"{day:%Y-%m-%d} 09:30:00+00:00")
    return escalation_rules_sweep(today=day)


def red_ratings() -> list[tuple[int, str, int | None]]:
    return list(
        Escalation.objects.filter(reason="red_rating")
        .order_by("raise_number")
        .values_list("raise_number", "status", "previous_id")
    )


def test_the_cause_still_there_after_the_cooling_off_period_raises_again(
    resolved, frozen_now, manager
):
    _, first = resolved
    # 27 days on: still cooling off.
    _sweep_on(frozen_now, datetime.date(2026, 4, 6))
    assert red_ratings() == [(1, "resolved", None)]
    # 28 days on: raised again, linked to the one resolved before, at the rule's level.
    counts = _sweep_on(frozen_now, datetime.date(2026, 4, 7))
    assert counts["red_rating again"] == 1
    assert red_ratings() == [(1, "resolved", None), (2, "open", first.pk)]
    again = Escalation.objects.get(reason="red_rating", raise_number=2)
    assert (again.level, again.person, again.trigger_id) == (2, first.person, first.trigger_id)
    assert again.ack_due_on == datetime.date(2026, 4, 8)  # its clock has started (Red: 1 day)
    assert EscalationTransition.objects.filter(escalation=again, from_status="").count() == 1
    # Sweeping again raises nothing more.
    _sweep_on(frozen_now, datetime.date(2026, 4, 8))
    assert len(red_ratings()) == 2

    page = signed_in_client(manager).get(again.get_absolute_url()).content.decode()
    assert "Raised again: resolved on 10 March 2026 because Crisis team in place." in page


def test_the_cooling_off_period_is_a_setting(resolved, frozen_now, settings):
    settings.DSR_ESCALATION_RERAISE_DAYS = 7
    _sweep_on(frozen_now, datetime.date(2026, 3, 16))
    assert len(red_ratings()) == 1
    _sweep_on(frozen_now, datetime.date(2026, 3, 17))
    assert len(red_ratings()) == 2


def test_nothing_is_raised_again_when_the_cause_has_cleared(resolved, frozen_now, clerk):
    person, _ = resolved
    entry = person.register_entries.get()
    rating_change(entry=entry, rating=RAG.AMBER, rationale="Calmer now.", by=clerk)
    _sweep_on(frozen_now, datetime.date(2026, 4, 20))
    assert red_ratings() == [(1, "resolved", None)]


def test_after_a_new_red_spell_only_its_escalation_is_raised_again(
    resolved, frozen_now, clerk, manager
):
    person, first = resolved
    entry = person.register_entries.get()
    rating_change(entry=entry, rating=RAG.AMBER, rationale="Calmer.", by=clerk)
    rating_change(entry=entry, rating=RAG.RED, rationale="Crisis again.", by=clerk)
    escalation_rules_sweep(today=TUESDAY)
    second = Escalation.objects.get(reason="red_rating", raise_number=1, status="open")
    escalation_resolve(escalation=second, by=manager, outcome="Respite booked.")
    _sweep_on(frozen_now, datetime.date(2026, 4, 8))
    again = Escalation.objects.get(reason="red_rating", raise_number=2)
    assert again.previous == second
    assert Escalation.objects.filter(reason="red_rating").count() == 3
    assert not Escalation.objects.filter(previous=first).exists()


def test_an_escalation_raised_again_and_resolved_again_is_raised_a_third_time(
    resolved, frozen_now, manager
):
    _sweep_on(frozen_now, datetime.date(2026, 4, 7))
    again = Escalation.objects.get(reason="red_rating", raise_number=2)
    escalation_resolve(escalation=again, by=manager, outcome="Placement found.")
    _sweep_on(frozen_now, datetime.date(2026, 5, 5))
    assert red_ratings() == [
        (1, "resolved", None),
        (2, "resolved", resolved[1].pk),
        (3, "open", again.pk),
    ]


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_raise_again_once(resolved, frozen_now):
    frozen_now.move_to("2026-04-08 09:30:00+00:00")
    barrier = threading.Barrier(2)

    def sweep():
        barrier.wait()
        try:
            escalation_rules_sweep(today=datetime.date(2026, 4, 8))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = [pool.submit(sweep) for _ in range(2)]
    for outcome in outcomes:
        outcome.result()

    assert red_ratings() == [(1, "resolved", None), (2, "open", resolved[1].pk)]
    again = Escalation.objects.get(reason="red_rating", raise_number=2)
    assert EscalationTransition.objects.filter(escalation=again).count() == 1
