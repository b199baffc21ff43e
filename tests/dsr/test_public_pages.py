"""What the public pages tell people, in plain words: what the register (DSR) and a C(E)TR are,
deciding whether to be on the register (and its easy-read version), and where each page leads."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from dsr.models import RiskFactor, TeamContact
from referrals.forms.steps import PUBLIC_RISK_FACTORS, RisksForm
from tests.referrals.helpers import answers_for, step_url, walk

pytestmark = pytest.mark.django_db

DECIDING = reverse("pages:deciding")
DECIDING_EASY_READ = reverse("pages:deciding-easy-read")


def _text(response) -> str:
    """The page's visible words, without tags, entities decoded enough for plain matching."""
    html = response.content.decode().replace("&#x27;", "'").replace("&amp;", "&")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _main(response) -> str:
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


@pytest.mark.parametrize("name", ["pages:start", "referrals:start"])
def test_the_start_pages_say_what_dsr_means(client, name):
    text = _text(client.get(reverse(name)))

    assert "dynamic support register (DSR)" in text
    assert DECIDING in client.get(reverse(name)).text


def test_the_start_page_title_does_not_repeat_itself(client):
    title = re.search(r"<title>(.*?)</title>", client.get(reverse("pages:start")).text).group(1)

    assert title == "Get support to stay well at home - Dynamic support register - NHS"


def test_the_start_page_has_an_easy_read_link(client):
    page = client.get(reverse("pages:start"))

    assert f'<a href="{reverse("referrals:easy-read-start")}">Easy read</a>' in page.text


def test_the_referral_start_button_comes_before_the_contact_and_complaints_text(client):
    TeamContact.objects.create(
        phone="01632 960 001",
        email="dsr.team@nhs.example",
        address="DSR team",
        postcode="NR1 2DH",
        opening_hours="Monday to Friday",
        complaints="Write to us.",
    )
    page = client.get(reverse("referrals:start")).content.decode()

    start = page.index("Start your referral")
    assert start < page.index("How to contact the DSR team")  # in the footer, after the page
    assert start < page.index("How to complain")
    assert start < page.index("If someone is in danger now")


def test_the_deciding_page_explains_the_register_reviews_sharing_and_saying_no(client):
    text = _text(client.get(DECIDING))

    for words in (
        "The dynamic support register (DSR) is a list",
        "What being on the register means",
        "Care and Treatment Review (CTR)",
        "Care, Education and Treatment Review (CETR)",
        "Who sees your information",
        "How to say no, or come off the register",
        "You can change your mind at any time and ask to come off the register.",
        "For young people aged 16 to 25",
    ):
        assert words in text
    assert DECIDING_EASY_READ in client.get(DECIDING).text


def test_the_easy_read_deciding_page_has_a_picture_with_a_text_alternative_for_each_part(client):
    page = client.get(DECIDING_EASY_READ)
    text = _text(page)

    for words in (
        "The dynamic support register is a list.",
        "We call it the DSR.",
        "C(E)TR means Care (Education) and Treatment Review.",
        "You can say no.",
        "You can ask to come off the register.",
    ):
        assert words in text
    pictures = re.findall(r'<img [^>]*src="/static/easy-read/([a-z-]+\.svg)"[^>]*>', page.text)
    assert len(pictures) == 7
    assert all('alt="A picture of' in tag for tag in re.findall(r"<img [^>]*>", page.text))
    assert DECIDING in page.text


def test_the_easy_read_next_page_says_when_and_how_we_decide(client):
    text = _text(client.get(reverse("pages:next-easy-read")))

    assert "We decide in 4 weeks or less." in text
    assert "We send you an email or a letter in easy read." in text


def test_the_consent_step_of_the_standard_referral_links_to_the_deciding_pages(client, areas):
    cache.clear()
    walk(client, "self", answers_for("self", areas["north"].pk), until="consent")

    page = client.get(step_url("self", "consent"))
    cache.clear()

    assert f'href="{DECIDING}"' in page.text
    assert f'href="{DECIDING_EASY_READ}"' in page.text


def test_the_public_risk_questions_use_plain_words(client, areas):
    form = RisksForm(kind="self")
    labels = dict(form.fields["risk_factors"].choices)

    assert set(labels) == set(RiskFactor.values)
    assert labels["services_exhausted"] == PUBLIC_RISK_FACTORS[RiskFactor.SERVICES_EXHAUSTED]
    assert "Local services exhausted" not in labels.values()
    assert "Significant behaviour that challenges" not in labels.values()
