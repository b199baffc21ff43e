"""Cheap rendering of the list pages (dsr.rendering, docs/adr/0010-rendering-the-lists.md): the
filter form is rendered once for each set of choices, values and errors and never kept when it
could hold personal data; dates, rating tags and row links come out as the template tags wrote
them; URLs reversed once follow the URL configuration and the script prefix."""

import datetime
import html
import re
import zoneinfo

import pytest
from django.template import engines
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from dsr import rendering
from dsr.forms import RegisterFilterForm, SearchForm
from dsr.models import LocalAuthority
from dsr.roles import Role
from tests.conftest import signed_in_client
from tests.dsr.factories import TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("dsr:register-list")
QUEUE = reverse("referrals:queue")


@pytest.fixture(autouse=True)
def _no_kept_forms(monkeypatch):
    monkeypatch.setattr(rendering, "_forms_rendered", type(rendering._forms_rendered)())


def _field_templates(response) -> list[str]:
    return [t.name for t in response.templates if (t.name or "").startswith("nhsuk/fields/")]


def _selected(response, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', response.text, re.S)
    return re.findall(r'<option value="([^"]*)"[^>]*\sselected', select.group(0))


def _options(response, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', response.text, re.S)
    return re.findall(r"<option [^>]*>([^<]*)</option>", select.group(0))


# --- The filter form, rendered once ----------------------------------------------------------


@pytest.mark.parametrize("url", [LIST, QUEUE])
def test_the_same_filters_are_rendered_once_and_other_filters_afresh(staff_client, url):
    first = staff_client.get(url, {"sort": ""})
    again = staff_client.get(url, {"sort": ""})

    assert "nhsuk/fields/select.html" in _field_templates(first)
    assert _field_templates(again) == []
    assert again.text.count('class="nhsuk-select') == first.text.count('class="nhsuk-select')
    sort = {LIST: "rating", QUEUE: "received"}[url]
    changed = staff_client.get(url, {"sort": sort})
    assert "nhsuk/fields/select.html" in _field_templates(changed)
    assert _selected(changed, "sort") == [sort]


def test_each_request_shows_its_own_values_and_errors(staff_client):
    assert _selected(staff_client.get(LIST, {"rating": "RED"}), "rating") == ["RED"]
    assert _selected(staff_client.get(LIST, {"rating": "AMBER"}), "rating") == ["AMBER"]
    wrong = staff_client.get(LIST, {"rating": "PURPLE"})
    assert "Choose a rating from the list." in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    right = staff_client.get(LIST, {"rating": "RED"})
    assert _selected(right, "rating") == ["RED"]
    assert "Choose a rating from the list." not in right.text
    assert 'aria-invalid="true"' not in right.text


def test_each_user_sees_only_their_own_areas_in_a_kept_form(staff_client, organisations, areas):
    north = UserFactory(organisation=organisations["north_council"], roles=[Role.REGISTER_STAFF])
    TOTPDeviceFactory(user=north)

    assert _options(staff_client.get(LIST), "local_authority") == [
        "Any",
        "Northshire",
        "Southshire",
    ]
    assert _options(signed_in_client(north).get(LIST), "local_authority") == ["Any", "Northshire"]
    LocalAuthority.objects.filter(pk=areas["north"].pk).update(name="North Shire")
    assert _options(staff_client.get(LIST), "local_authority") == [
        "Any",
        "North Shire",
        "Southshire",
    ]


def test_a_form_holding_what_someone_typed_is_rendered_but_never_kept():
    typed = SearchForm({"name": "Alexandra Example", "nhs_number": "943 476 5919"})
    typed.is_valid()

    html = rendering.render_form_once(typed)

    assert 'value="Alexandra Example"' in html
    assert not any("Alexandra" in kept for kept in rendering._forms_rendered.values())
    blank = rendering.render_form_once(SearchForm())
    assert "Alexandra" not in blank
    assert len(rendering._forms_rendered) == 1  # the blank form, which holds nothing


def test_a_kept_form_is_the_same_html_as_rendering_it_afresh(areas):
    from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form

    for data in ({}, {"rating": "RED", "overdue": "on"}, {"age_group": "nonsense"}):
        choices = LocalAuthority.objects.all()
        afresh = as_crispy_form(RegisterFilterForm(data, local_authorities=choices))
        rendering.render_form_once(RegisterFilterForm(data, local_authorities=choices))
        kept = rendering.render_form_once(RegisterFilterForm(data, local_authorities=choices))
        assert kept == afresh


def test_at_most_a_bounded_number_of_renderings_are_kept(monkeypatch, areas):
    monkeypatch.setattr(rendering, "FORMS_KEPT", 3)
    for rating in ("RED", "AMBER", "GREEN", "BLUE"):
        rendering.render_form_once(RegisterFilterForm({"rating": rating}))
    assert len(rendering._forms_rendered) == 3


# --- Dates, tags and links -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        datetime.date(2026, 1, 1),
        datetime.date(2026, 9, 30),
        datetime.date(2010, 6, 1),
        # 23:30 on 31 March in UTC is already 1 April in London (summer time).
        datetime.datetime(2026, 3, 31, 23, 30, tzinfo=zoneinfo.ZoneInfo("UTC")),
        datetime.datetime(2026, 12, 6, 8, 0, tzinfo=zoneinfo.ZoneInfo("UTC")),
        None,
        "",
    ],
)
def test_short_dates_read_as_the_date_filter_writes_them(value):
    template = engines["django"].from_string(
        '{% load lists %}{{ value|date:"j M Y" }}|{{ value|short_date }}'
    )
    ours, django_s = template.render({"value": value}).split("|")[::-1]
    assert ours == django_s


def test_a_date_time_is_shown_on_its_london_day():
    late = datetime.datetime(2026, 3, 31, 23, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))
    template = engines["django"].from_string("{% load lists %}{{ value|short_date }}")
    with timezone.override("Europe/London"):
        assert template.render({"value": late}) == "1 Apr 2026"


@pytest.mark.parametrize(
    ("rating", "tag"),
    [
        ("RED", '<strong class="nhsuk-tag nhsuk-tag--red">Red</strong>'),
        ("AMBER", '<strong class="nhsuk-tag nhsuk-tag--orange">Amber</strong>'),
        ("GREEN", '<strong class="nhsuk-tag nhsuk-tag--green">Green</strong>'),
        ("BLUE", '<strong class="nhsuk-tag nhsuk-tag--blue">Blue</strong>'),
        ("", '<strong class="nhsuk-tag nhsuk-tag--grey">Not on the register</strong>'),
    ],
)
def test_a_rating_is_its_nhsuk_tag_in_colour_and_words(rating, tag):
    assert rendering.rating_tag(rating) == tag


@pytest.mark.parametrize("pk", [1, 7, 2024, 98765])
def test_a_row_link_is_the_reversed_url(pk):
    assert rendering.url_with_pk(pk, "dsr:person-detail") == reverse(
        "dsr:person-detail", kwargs={"pk": pk}
    )
    assert rendering.url_with_pk(pk, "referrals:detail") == reverse(
        "referrals:detail", kwargs={"pk": pk}
    )


@pytest.mark.parametrize(("person", "row"), [(1, 2), (7, 7), (2024, 5), (98765, 123456)])
def test_a_link_to_a_persons_row_is_the_reversed_url(person, row):
    for name in ("dsr:person-contact-edit", "dsr:person-contact-remove"):
        assert rendering.url_with_pks(name, person, row) == reverse(name, args=[person, row])
    assert rendering.url_with_pks("dsr:person-detail", person) == reverse(
        "dsr:person-detail", args=[person]
    )


def test_a_route_without_those_integer_arguments_is_refused():
    with pytest.raises(Exception):  # noqa: B017, PT011  (NoReverseMatch or ValueError)
        rendering.url_with_pks("dsr:person-detail", 5, 6)


def test_urls_reversed_once_follow_the_script_prefix():
    plain = (
        rendering.reverse_once("dsr:register-list"),
        rendering.url_with_pk(5, "dsr:person-detail"),
    )
    set_script_prefix("/dsr/")
    try:
        prefixed = (
            rendering.reverse_once("dsr:register-list"),
            rendering.url_with_pk(5, "dsr:person-detail"),
        )
    finally:
        set_script_prefix("/")
    assert plain == (LIST, reverse("dsr:person-detail", kwargs={"pk": 5}))
    assert prefixed == ("/dsr" + plain[0], "/dsr" + plain[1])


def test_a_route_without_one_integer_pk_is_refused():
    with pytest.raises(Exception):  # noqa: B017, PT011  (NoReverseMatch or ValueError)
        rendering.url_with_pk(5, "dsr:register-list")


def test_the_header_and_list_links_follow_the_script_prefix(staff_client):
    staff_client.get(LIST)  # the links reversed once without a prefix
    set_script_prefix("/dsr/")  # as the WSGI handler sets it for a service under /dsr
    try:
        response = staff_client.get(LIST)
    finally:
        set_script_prefix("/")
    assert f'href="/dsr{LIST}"' in response.text  # the header's "People" and "Clear filters"
    assert f'action="/dsr{LIST}"' in response.text
    assert f'href="{LIST}"' not in response.text


# --- Rows rendered by Jinja2 -----------------------------------------------------------------


def test_the_register_rows_escape_what_was_typed_and_link_each_person(
    staff_client, staff_user, areas, frozen_now
):
    from tests.dsr.factories import PersonFactory, on_register

    person = PersonFactory(
        local_authority=areas["north"], given_name='<b id="x">Al</b>', family_name="O'Neil & Co"
    )
    on_register(person, rating="RED", by=staff_user)

    text = staff_client.get(LIST).text

    link = f'<a href="{reverse("dsr:person-detail", kwargs={"pk": person.pk})}">'
    shown = text.split(link)[1].split("</a>")[0]
    assert "<b" not in shown and "&lt;b" in shown
    assert html.unescape(shown) == """<b id="x">Al</b> O'Neil & Co"""
    assert (
        '<td class="nhsuk-table__cell"><strong class="nhsuk-tag nhsuk-tag--red">Red</strong>'
        in text
    )
    assert "10 Mar 2026" in text  # on the register since today


def test_the_queue_rows_escape_what_was_typed_and_show_the_london_day(staff_client, areas):
    from referrals.models import Referral
    from tests.referrals.factories import ReferralFactory

    late = datetime.datetime(2026, 3, 31, 23, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))
    referral = ReferralFactory(
        local_authority=areas["north"],
        given_name="<i>Jo</i>",
        received_at=late,
        status=Referral.Status.RECEIVED,
    )

    text = staff_client.get(QUEUE).text

    assert "<i>Jo</i>" not in text and "&lt;i&gt;Jo&lt;/i&gt;" in text
    assert f'<a href="{reverse("referrals:detail", kwargs={"pk": referral.pk})}">' in text
    assert "1 Apr 2026" in text  # received 00:30 on 1 April, London time
