"""An escalation from a Red rating to its resolution, through the pages (issue "Escalation",
flow): a person goes Red; the sweep raises an escalation that appears in the queues of the
health and local authority managers covering their area, and not in another area's; it is
acknowledged and resolved; the timeline shows each step; rated Red again later, it raises anew."""

import pytest
from django.urls import reverse

from dsr.roles import Role
from escalation.models import Escalation
from escalation.sweeps import escalation_rules_sweep
from tests.conftest import account, signed_in_client

pytestmark = pytest.mark.django_db

QUEUE = reverse("escalation:queue")


def _rate(client, person, rating, why):
    response = client.post(
        reverse("dsr:person-rating", kwargs={"pk": person.pk}),
        {
            "rating": rating,
            "rationale": why,
            "effective_from_day": "10",
            "effective_from_month": "3",
            "effective_from_year": "2026",
        },
    )
    assert response.status_code == 302, response.content.decode()


def _queue_names(client) -> list[str]:
    return [row.person.family_name for row in client.get(QUEUE).context["page"].rows]


def test_red_to_resolved_and_red_again(make_person, organisations, frozen_now):
    staff = account(organisations["icb"], Role.REGISTER_STAFF)
    health = account(organisations["trust"], Role.SENIOR_MANAGER_HEALTH)
    north = account(organisations["north_council"], Role.SENIOR_MANAGER_LA)
    south = account(organisations["south_council"], Role.SENIOR_MANAGER_LA)
    person = make_person("GREEN", family_name="Hollis")
    staff_client = signed_in_client(staff)

    _rate(staff_client, person, "RED", "The family can no longer cope; crisis team involved.")
    escalation_rules_sweep()
    escalation = Escalation.objects.get(reason="red_rating")
    assert escalation.level == 2

    dashboard = staff_client.get(reverse("dsr:register-dashboard")).content.decode()
    assert "Waiting longest for acknowledgement" in dashboard and "Hollis" in dashboard

    for manager in (health, north):
        assert "Hollis" in _queue_names(signed_in_client(manager))
    south_client = signed_in_client(south)
    assert "Hollis" not in _queue_names(south_client)
    assert south_client.get(escalation.get_absolute_url()).status_code == 404

    north_client = signed_in_client(north)
    acknowledged = north_client.post(
        reverse("escalation:acknowledge", kwargs={"pk": escalation.pk}),
        {"note": "Called the family; a crisis plan meeting is booked."},
    )
    assert acknowledged.status_code == 302
    resolved = north_client.post(
        reverse("escalation:resolve", kwargs={"pk": escalation.pk}),
        {"outcome": "Crisis package in place; the family feel supported."},
    )
    assert resolved.status_code == 302
    escalation.refresh_from_db()
    assert escalation.status == "resolved"

    timeline = staff_client.get(reverse("dsr:person-history", args=[person.pk])).content.decode()
    assert "Escalated: Rated red (level 2)" in timeline
    assert "Escalation acknowledged: Rated red" in timeline
    assert "Called the family; a crisis plan meeting is booked." in timeline
    assert "Escalation resolved: Rated red" in timeline

    # Amber, then Red again later: a new event, a new escalation.
    escalation_rules_sweep()
    assert Escalation.objects.filter(reason="red_rating").count() == 1
    _rate(staff_client, person, "AMBER", "Calmer at home.")
    _rate(staff_client, person, "RED", "Placement breakdown.")
    escalation_rules_sweep()
    assert Escalation.objects.filter(reason="red_rating").count() == 2
    assert Escalation.objects.filter(reason="red_rating", status="open").count() == 1
    assert "Hollis" in _queue_names(north_client)
