"""The people around someone on the person page: family and carers apart from the
professionals, and the form that adds them."""

import re

import pytest
from django.urls import reverse

from dsr.models import PersonContact

pytestmark = pytest.mark.django_db


def _section(page: str, heading: str) -> str:
    return page.split(f"<h3>{heading}</h3>", 1)[1].split("<h", 1)[0]


def test_people_a_referral_named_are_shown_with_family_and_the_referrer_with_key_people(
    personas, register_objects
):
    person = register_objects["north_red"]
    PersonContact.objects.all().delete()
    for role, name in [
        ("parent_carer", "Mary Mum"),
        ("representative", "Rob Advocate"),
        ("other", "Fay Friend"),
        ("referrer", "Dr Sam Reid"),
        ("social_worker", "Sol Worker"),
    ]:
        PersonContact.objects.create(person=person, role=role, name=name)

    page = personas["clients"]["register_staff"].get(
        reverse("dsr:person-detail", kwargs={"pk": person.pk})
    )

    family = _section(page.text, "Family and carers")
    assert all(name in family for name in ("Mary Mum", "Rob Advocate", "Fay Friend"))
    assert "Dr Sam Reid" not in family and "Sol Worker" not in family
    assert "Dr Sam Reid" in page.text and "Sol Worker" in page.text


def test_the_contact_form_offers_only_real_roles(personas, register_objects):
    person = register_objects["north_red"]

    response = personas["clients"]["register_staff"].get(
        reverse("dsr:person-contact-add", kwargs={"pk": person.pk})
    )

    radios = [tag for tag in re.findall(r"<input[^>]*>", response.text) if 'name="role"' in tag]
    values = [re.search(r'value="([^"]*)"', tag).group(1) for tag in radios]
    assert values == [value for value, _ in PersonContact.Role.choices]
    assert "---------" not in response.text
