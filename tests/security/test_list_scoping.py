"""A-3: every list, search and export shows each role exactly the people it should, compared with
a set worked out here, from ACCESS.md's rules over all the rows, not through the app's queries.

People are planted in three areas: Northshire and Southshire (the ICB's), and Westshire, which
no test organisation covers (another ICB's). Each person's family name is the sentinel plus a
tag, so every identifiable name on a page can be found and compared."""

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse

from dsr.models import Person, RegisterEntry
from dsr.services import register_close
from escalation.models import Escalation
from escalation.sweeps import escalation_ladder_sweep, escalation_rules_sweep
from referrals.models import Referral
from reviews.models import Action, Agency, Meeting
from reviews.services import Owner, action_create, agenda_add, meeting_create
from tests.conftest import SENTINEL
from tests.dsr.factories import LocalAuthorityFactory, PersonFactory, on_register
from tests.figures import record
from tests.referrals.factories import ReferralFactory
from tests.reviews.helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

NAMES = re.compile(rf"{SENTINEL}[A-Za-z]+")
REFERENCES = re.compile(r"DSR-\d{4}-\d+")
SENIOR_MANAGER_LEVEL = 2  # escalation.rules: level 2 is the senior managers'


@pytest.fixture
def population(organisations, areas, personas, clerk):
    west = LocalAuthorityFactory(name="Westshire", gss_code="E10000903")
    every_area = {"North": areas["north"], "South": areas["south"], "West": west}
    meeting = meeting_create(
        kind=Meeting.Kind.URGENT, held_at=at(_today(), 8), chair=clerk, by=clerk
    )
    sm_la = personas["users"]["senior_manager_la"]
    for area_name, area in every_area.items():
        for rating in ("RED", "AMBER", "GREEN"):
            person = PersonFactory(
                local_authority=area,
                responsible_icb=organisations["icb"],
                family_name=f"{SENTINEL}{area_name}{rating.title()}",
            )
            on_register(person, rating=rating, by=clerk)
            # An action on each person the ICB covers: the Northshire manager owns those on
            # the people they see (Red and Amber in Northshire), the clerk the rest.
            if area_name == "West":
                continue
            owner = sm_la if area_name == "North" and rating != "GREEN" else clerk
            action_create(
                person=person,
                agenda_item=agenda_add(meeting=meeting, person=person, by=clerk),
                description="Find a placement.",
                owner=Owner(user=owner),
                agency=Agency.SOCIAL_CARE,
                due_on=_today(),
                by=clerk,
            )
        # One person off the register (closed entries stay out of the register list).
        gone = PersonFactory(
            local_authority=area,
            responsible_icb=organisations["icb"],
            family_name=f"{SENTINEL}{area_name}Closed",
        )
        on_register(gone, rating="GREEN", by=clerk)
        register_close(
            entry=gone.register_entries.get(), reason="risk_reduced", closed_on=_today(), by=clerk
        )
    for index, referrer in enumerate(("professional_referrer", "professional_referrer_other")):
        for area_name, area in every_area.items():
            ReferralFactory(
                local_authority=area,
                family_name=f"{SENTINEL}Referral{area_name}{'AB'[index]}",
                submitted_by=personas["users"][referrer],
                referrer_kind=Referral.ReferrerKind.PROFESSIONAL,
            )
    escalation_rules_sweep(today=_today())
    escalation_ladder_sweep(today=_today())


def _today():
    return datetime.date(2026, 3, 10)  # the frozen clock's day


def _scope(user) -> set[int]:
    return set(user.organisation.local_authorities.values_list("pk", flat=True))


def _names(people) -> set[str]:
    return {person.family_name for person in people}


def _on_register_in(user) -> set[str]:
    return _names(
        person
        for person in Person.objects.all()
        if person.local_authority_id in _scope(user)
        and RegisterEntry.objects.filter(person=person, status="open").exists()
    )


def _queue_for(user, level: int) -> set[str]:
    """ACCESS.md and the escalation queue: the Red and Amber people in scope, and anyone in scope
    with a live escalation at `level` or above."""
    red_or_amber = {
        entry.person
        for entry in RegisterEntry.objects.select_related("person")
        if entry.status == "open" and entry.rating in ("RED", "AMBER")
    }
    escalated = {
        escalation.person
        for escalation in Escalation.objects.select_related("person")
        if escalation.status in ("open", "acknowledged")
        and escalation.level >= level
        and escalation.person is not None
    }
    return _names(p for p in red_or_amber | escalated if p.local_authority_id in _scope(user))


def _shown(response) -> set[str]:
    assert response.status_code == 200, response.status_code
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return set(NAMES.findall(content.decode()))


def _references(response) -> set[str]:
    assert response.status_code == 200, response.status_code
    return set(REFERENCES.findall(response.content.decode()))


def _csv_names(response) -> set[str]:
    text = b"".join(response.streaming_content) if response.streaming else response.content
    rows = csv.reader(io.StringIO(text.decode()))
    return {match for row in rows for cell in row for match in NAMES.findall(cell)}


def test_every_list_search_and_export_shows_each_role_exactly_its_people(population, personas):
    clients, users = personas["clients"], personas["users"]
    checks = 0

    def check(persona, url, expected, *, post=None, parse=_shown):
        nonlocal checks
        client = clients[persona]
        response = client.post(url, post) if post is not None else client.get(url)
        assert parse(response) == expected, (persona, url)
        checks += 1

    for persona in ("register_staff", "dsr_lead"):
        user = users[persona]
        on_register = _on_register_in(user)
        assert on_register and not any("West" in name for name in on_register)
        check(persona, reverse("dsr:register-list"), on_register)
        check(persona, reverse("dsr:register-export"), on_register, parse=_csv_names)
        searchable = _names(p for p in Person.objects.all() if p.local_authority_id in _scope(user))
        check(persona, reverse("dsr:register-search"), searchable, post={"name": SENTINEL})
        check(persona, reverse("escalation:queue"), _queue_for(user, 1))
        referrals = {
            r.family_name for r in Referral.objects.all() if r.local_authority_id in _scope(user)
        }
        check(persona, reverse("referrals:queue"), referrals)

    for persona in ("senior_manager_health", "senior_manager_la", "senior_manager_la_other"):
        user = users[persona]
        expected = _queue_for(user, SENIOR_MANAGER_LEVEL)
        assert expected, persona  # the Red people's escalations reach level 2
        check(persona, reverse("escalation:queue"), expected)

    # My actions: the owner's own; nobody else's.
    owned = _names(a.person for a in Action.objects.filter(owner=users["senior_manager_la"]))
    assert len(owned) == 2
    check("senior_manager_la", reverse("reviews:my-actions"), owned)
    check("senior_manager_health", reverse("reviews:my-actions"), set())

    # A referrer sees the referrals they submitted, in any area, by reference (no names), and
    # no others.
    for persona in ("professional_referrer", "professional_referrer_other"):
        mine = {r.reference for r in Referral.objects.filter(submitted_by=users[persona])}
        assert len(mine) == 3
        check(persona, reverse("referrals:mine"), mine, parse=_references)
        check(persona, reverse("referrals:mine"), set())  # and no one's name

    # The roles that see no identifiable row: their home pages name nobody.
    for persona in ("executive_lead", "panel_member", "planning_commissioner", "administrator"):
        check(persona, reverse("dsr:home"), set())
    record("A-3 lists, searches and exports compared with the expected set", checks)
