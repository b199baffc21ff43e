import re

import pytest
from django.urls import reverse

from dsr.roles import ROLE_SUMMARIES, Role
from tests.conftest import ROLE_PERSONAS, account, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", list(ROLE_PERSONAS))
def test_each_role_home_says_what_the_role_may_do_and_where(personas, persona):
    user = personas["users"][persona]
    role = ROLE_PERSONAS[persona][0]

    response = personas["clients"][persona].get(reverse("dsr:home"))

    assert response.status_code == 200
    assert ROLE_SUMMARIES[role] in response.text
    assert user.organisation.name in response.text
    for area in user.organisation.local_authorities.all():
        assert area.name in response.text


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_a_description_under_what_you_can_do(organisations, role):
    user = account(organisations["icb"], role)

    page = signed_in_client(user).get(reverse("dsr:home")).text

    section = page[page.index("<h2>What you can do</h2>") :]
    card = re.search(
        r'<h3 class="nhsuk-card__heading">(.*?)</h3>\s*'
        r'<p class="nhsuk-card__description">(.*?)</p>',
        section,
        re.S,
    )
    assert card is not None
    assert card.group(1) == role.label
    assert len(card.group(2).strip()) > 40
    assert card.group(2).strip() == ROLE_SUMMARIES[role]


def test_only_administrators_are_offered_account_management(personas):
    link = reverse("admin:index")

    admin_page = personas["clients"]["administrator"].get(reverse("dsr:home"))
    staff_page = personas["clients"]["register_staff"].get(reverse("dsr:home"))

    assert f'href="{link}"' in admin_page.text
    assert f'href="{link}"' not in staff_page.text


def test_navigation_marks_the_current_page_and_has_a_skip_link(staff_client):
    response = staff_client.get(reverse("dsr:home"))

    assert 'href="#maincontent"' in response.text
    assert 'aria-current="page"' in response.text
    assert "Sign out" in response.text


def test_public_pages_have_no_navigation_and_offer_staff_sign_in(client):
    response = client.get(reverse("pages:start"))

    assert "nhsuk-header__navigation-list" not in response.text
    assert reverse("accounts:sign-in") in response.text
