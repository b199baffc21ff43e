"""Scope: a user sees records only in the local authorities their organisation covers."""

import pytest
from django.http import Http404

from dsr.models import Organisation
from dsr.queries import get_organisation_for_user
from tests.conftest import PERSONAS_BUILT_ONCE
from tests.dsr.factories import LocalAuthorityFactory, OrganisationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(PERSONAS_BUILT_ONCE)]


def test_visible_to_keeps_only_records_in_the_users_areas(personas, organisations):
    north_manager = personas["users"]["senior_manager_la"]
    elsewhere = OrganisationFactory(
        name="Elsewhere Council",
        local_authorities=[LocalAuthorityFactory(name="Elsewhere", gss_code="E10000999")],
    )

    visible = set(Organisation.objects.visible_to(north_manager))

    assert organisations["north_council"] in visible
    assert organisations["icb"] in visible
    assert organisations["south_council"] not in visible
    assert elsewhere not in visible


def test_a_record_covering_two_of_the_users_areas_appears_once(personas):
    staff = personas["users"]["register_staff"]

    names = list(Organisation.objects.visible_to(staff).values_list("name", flat=True))

    assert len(names) == len(set(names))


def test_get_for_user_answers_404_out_of_scope_exactly_as_for_a_missing_record(
    personas, organisations
):
    manager = personas["users"]["senior_manager_la"]

    assert get_organisation_for_user(manager, organisations["north_council"].pk)
    with pytest.raises(Http404):
        get_organisation_for_user(manager, organisations["south_council"].pk)
    with pytest.raises(Http404):
        get_organisation_for_user(manager, 10**9)


def test_nobody_without_an_organisation_or_sign_in_sees_anything(personas, organisations):
    from django.contrib.auth.models import AnonymousUser

    staff = personas["users"]["register_staff"]
    staff.organisation = None

    assert not Organisation.objects.visible_to(staff).exists()
    assert not Organisation.objects.visible_to(AnonymousUser()).exists()
