"""The dashboard's headline counts are kept for a minute per scope (PERFORMANCE.md T7), and
counted afresh after a committed change to the register (tests/dsr/test_kept_totals.py); the
lists of urgent work are always live."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from dsr.roles import Role
from tests.conftest import account, signed_in_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def test_counts_are_kept_per_scope_and_say_when(make_person, organisations, settings):
    settings.DSR_DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    make_person("RED")
    icb = signed_in_client(account(organisations["icb"], Role.REGISTER_STAFF))
    url = reverse("dsr:register-dashboard")
    assert icb.get(url).context["board"].total == 1
    make_person("AMBER", area="south")  # never committed: the register has not changed
    page = icb.get(url)
    assert page.context["board"].total == 1  # kept
    assert "Counted at 09:30" in page.content.decode()
    # Another scope counts its own: a Southshire-only team sees its one person.
    south = signed_in_client(account(organisations["south_council"], Role.REGISTER_STAFF))
    assert south.get(url).context["board"].total == 1
    cache.clear()
    assert icb.get(url).context["board"].total == 2
