"""The register search in Chromium: the terms never appear in any URL the browser requests."""

import pytest
from django.urls import reverse

from dsr.roles import Role
from tests.browser.helpers import sign_in
from tests.dsr.factories import (
    OrganisationFactory,
    PersonFactory,
    TOTPDeviceFactory,
    UserFactory,
    on_register,
)
from tests.figures import record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_terms_never_travel_in_a_url(page, live_server, areas, screenshot):
    icb = OrganisationFactory(name="Browser ICB", local_authorities=[areas["north"]])
    staff = UserFactory(email="searcher@nhs.example", organisation=icb, roles=[Role.REGISTER_STAFF])
    device = TOTPDeviceFactory(user=staff)
    person = PersonFactory(
        given_name="Zebedee",
        family_name="Quixote",
        local_authority=areas["north"],
        responsible_icb=icb,
    )
    on_register(person, by=staff)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    sign_in(page, live_server.url + reverse("dsr:register-list"), staff, device)
    page.get_by_label("Name").fill("Quixote")
    page.get_by_label("NHS number").fill("")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()

    assert page.get_by_role("link", name="Zebedee Quixote").is_visible()
    screenshot("register-search-results")
    assert requested, "the browser requested nothing"
    assert [url for url in requested if "Quixote" in url or "quixote" in url.lower()] == []
    record("Search terms found in URLs the browser requested", f"0 of {len(requested)}")
