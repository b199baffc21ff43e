"""The public pages' hourly limits (the forms, a partner's action page) are settings read from
the environment (issue 16, item 8c): a trust whose staff share one internet address can be given
a higher limit without a release."""

import json

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from referrals.models import Referral
from tests.referrals.helpers import answers_for, step_url, submit, token_from, walk
from tests.test_settings import PRODUCTION, run_settings

pytestmark = pytest.mark.django_db

LIMITS = [
    "REFERRAL_SUBMISSIONS_PER_HOUR",
    "REFERRAL_POSTS_PER_HOUR",
    "CETR_REQUEST_SUBMISSIONS_PER_HOUR",
    "CETR_REQUEST_POSTS_PER_HOUR",
    "ACTION_LINK_PAGES_PER_HOUR",
]
READ_LIMITS = f"""
import json, django
django.setup()
from django.conf import settings
print(json.dumps({{name: getattr(settings, name) for name in {LIMITS!r}}}))
"""


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_the_limits_default_to_ten_sent_and_three_hundred_pages_an_hour():
    # The action page's limit counts pages too.
    result = run_settings(PRODUCTION, READ_LIMITS)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == dict(zip(LIMITS, [10, 300, 10, 300, 300], strict=True))


def test_the_limits_are_read_from_the_environment():
    chosen = {name: str(40 + n) for n, name in enumerate(LIMITS)}

    result = run_settings({**PRODUCTION, **chosen}, READ_LIMITS)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {name: int(value) for name, value in chosen.items()}


@pytest.mark.parametrize("name", LIMITS)
def test_a_limit_below_one_refuses_to_start(name):
    result = run_settings({**PRODUCTION, name: "0"})

    assert result.returncode != 0
    assert "rate limit must be 1 or more" in result.stderr


def _referrals_sent(client: Client, areas, times: int) -> list[int]:
    answers = answers_for("self", areas["north"].pk)
    statuses = []
    for _ in range(times):
        walk(client, "self", answers)
        statuses.append(submit(client, token_from(client)).status_code)
    return statuses


def test_raising_the_referral_limit_lets_a_shared_address_send_more(client, areas, frozen_now):
    """Colleagues behind one address: past the limit they are refused, and a higher setting
    lets the same number through."""
    with override_settings(REFERRAL_SUBMISSIONS_PER_HOUR=2):
        assert _referrals_sent(client, areas, 3) == [302, 302, 429]
    cache.clear()
    with override_settings(REFERRAL_SUBMISSIONS_PER_HOUR=3):
        assert _referrals_sent(Client(), areas, 3) == [302, 302, 302]
    assert Referral.objects.count() == 5


@pytest.mark.parametrize("limit", [1, 4])
def test_the_cetr_request_page_limit_follows_its_setting(areas, frozen_now, limit):
    client = Client()
    with override_settings(CETR_REQUEST_POSTS_PER_HOUR=limit):
        statuses = [
            client.post(reverse("reviews:request-public"), {"website": ""}).status_code
            for _ in range(limit + 1)
        ]

    assert statuses == [200] * limit + [429]


@pytest.mark.parametrize("limit", [1, 4])
def test_the_referral_page_limit_follows_its_setting(areas, frozen_now, limit):
    client = Client()
    answers = answers_for("self", areas["north"].pk)
    with override_settings(REFERRAL_POSTS_PER_HOUR=limit):
        statuses = [
            client.post(step_url("self", "about-you"), answers["about-you"]).status_code
            for _ in range(limit + 1)
        ]

    assert statuses == [302] * limit + [429]
