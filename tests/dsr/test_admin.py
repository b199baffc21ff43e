"""Administrators manage accounts without being able to grant themselves clinical access."""

import pytest
from django.urls import reverse

from dsr.models import User
from tests.conftest import PERSONAS_BUILT_ONCE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(PERSONAS_BUILT_ONCE)]


def _change_form(user, personas):
    return personas["clients"]["administrator"].get(
        reverse("admin:dsr_user_change", args=[user.pk])
    )


def test_an_administrator_cannot_make_anyone_a_superuser_or_change_their_own_roles(personas):
    admin = personas["users"]["administrator"]
    form = _change_form(admin, personas).context["adminform"].form

    assert "is_superuser" not in form.fields
    assert "groups" not in form.fields
    assert "is_staff" not in form.fields


def test_an_administrator_may_change_someone_elses_roles(personas):
    staff = personas["users"]["register_staff"]
    form = _change_form(staff, personas).context["adminform"].form

    assert "groups" in form.fields
    assert "is_superuser" not in form.fields


def test_posting_superuser_to_ones_own_account_changes_nothing(personas):
    admin = personas["users"]["administrator"]
    url = reverse("admin:dsr_user_change", args=[admin.pk])

    personas["clients"]["administrator"].post(
        url,
        {
            "email": admin.email,
            "full_name": admin.full_name,
            "is_superuser": "on",
            "is_staff": "on",
            "is_active": "on",
            "groups": [],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    admin = User.objects.get(pk=admin.pk)
    assert not admin.is_superuser
    assert [role.value for role in admin.roles] == ["administrator"]


def test_the_access_log_shows_administrators_person_ids_not_names(personas, register_objects):
    staff_client = personas["clients"]["register_staff"]
    staff_client.get(reverse("dsr:person-detail", args=[register_objects["north_red"].pk]))

    response = personas["clients"]["administrator"].get(reverse("admin:dsr_accessevent_changelist"))

    assert response.status_code == 200
    assert register_objects["north_red"].family_name not in response.text
