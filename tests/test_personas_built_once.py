"""Personas made once for a module (tests/conftest.py, PERSONAS_BUILT_ONCE): each test still starts
from the rows, objects and sessions as they were made, whatever an earlier test did to them. The
two tests run in this order; the second fails if the first's changes outlive it."""

import pytest
from django.urls import reverse

from dsr.models import LocalAuthority, User
from tests.conftest import PERSONAS_BUILT_ONCE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(PERSONAS_BUILT_ONCE)]

HOME = reverse("dsr:home")


def test_a_test_changes_an_account_adds_an_area_and_signs_a_persona_out(personas, areas):
    staff = personas["users"]["register_staff"]
    staff.full_name = "Changed By The First Test"
    staff.save()
    LocalAuthority.objects.create(name="Added by the first test", gss_code="E10000999")
    client = personas["clients"]["register_staff"]
    assert client.get(HOME).status_code == 200
    client.post(reverse("accounts:sign-out"))

    lead = personas["clients"]["dsr_lead"].session
    lead["noted_by_the_first_test"] = True
    lead.save()

    assert client.get(HOME).status_code == 302
    assert personas["clients"]["dsr_lead"].get(HOME).status_code == 200
    assert "noted_by_the_first_test" in personas["clients"]["dsr_lead"].session


def test_the_next_test_starts_from_what_the_module_made(personas, areas, staff_client):
    staff = personas["users"]["register_staff"]

    assert staff.full_name == "Register Staff"
    assert User.objects.get(pk=staff.pk).full_name == "Register Staff"
    assert not LocalAuthority.objects.filter(gss_code="E10000999").exists()
    assert set(LocalAuthority.objects.values_list("pk", flat=True)) == {
        areas["north"].pk,
        areas["south"].pk,
    }
    # Signed in again, as the module left every persona, and the page shows the name as made.
    response = personas["clients"]["register_staff"].get(HOME)
    assert response.status_code == 200
    assert "Register Staff" in response.text
    assert staff_client.get(HOME).status_code == 200
    assert "noted_by_the_first_test" not in personas["clients"]["dsr_lead"].session
    # The other personas' sessions are as they were made: refused where they were refused.
    assert (
        personas["clients"]["password_only"]
        .get(HOME)["Location"]
        .startswith(reverse("accounts:verify"))
    )
    assert (
        personas["clients"]["deactivated"]
        .get(HOME)["Location"]
        .startswith(reverse("accounts:sign-in"))
    )
