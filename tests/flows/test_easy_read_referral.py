"""The easy-read self-referral from start to confirmation through the HTTP client: one question
a page, each with its picture and text alternative; a wrong or missing answer gets an NHS.UK
error, keeps what was typed and writes nothing; the check page's change links; one referral
with the person as its contact, in easy read, with their consent."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from referrals.forms.easy_read import EASY_READ_STEPS, PICTURE_ALT
from referrals.models import Referral, ReferralContact

pytestmark = pytest.mark.django_db

ANSWERS = {
    "name": {"given_name": "Robin", "family_name": "Ashdown"},
    "birthday": {
        "date_of_birth_day": "14",
        "date_of_birth_month": "2",
        "date_of_birth_year": "2004",
    },
    "disability": {"diagnosis": "autism"},
    "diagnosed": {"diagnosis_status": "awaiting_assessment"},
    "now": {"risks": "I might have to leave my flat. I feel scared a lot."},
    "help": {"would_help": "Someone to talk to every week."},
    "address": {"address": "Flat 2\n10 Mill Lane\nNorwich", "postcode": "nr1 2dh"},
    "email": {"email": "robin@example.com"},
    "agree": {"consent_to_referral": "yes"},
    "share": {"consent_to_share": "yes"},
}
_TOKEN = re.compile(r'name="submission_token" value="([0-9a-f-]{36})"')


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def step_url(slug: str) -> str:
    return reverse("referrals:easy-read-step", kwargs={"step": slug})


def walk(client, answers=ANSWERS, *, until: str | None = None) -> None:
    for step in EASY_READ_STEPS:
        if step.slug == until:
            return
        response = client.post(step_url(step.slug), answers[step.slug])
        assert response.status_code == 302, (step.slug, response.text[:1500])


def send(client):
    page = client.get(reverse("referrals:easy-read-check"))
    token = _TOKEN.search(page.text).group(1)
    return client.post(
        reverse("referrals:easy-read-check"), {"submission_token": token, "form_end": "1"}
    )


def test_an_easy_read_self_referral_is_saved_with_the_person_in_easy_read(client, frozen_now):
    start = client.get(reverse("referrals:easy-read-start"))
    assert start.status_code == 200
    assert step_url("name") in start.text

    walk(client)
    check = client.get(reverse("referrals:easy-read-check"))
    assert "Robin" in check.text and "Ashdown" in check.text
    assert f'href="{step_url("address")}?change=1"' in check.text
    response = send(client)

    assert response["Location"] == reverse("referrals:easy-read-confirmation")
    referral = Referral.objects.get()
    assert (referral.referrer_kind, referral.source) == ("self", "online")
    assert (referral.given_name, referral.family_name) == ("Robin", "Ashdown")
    assert referral.date_of_birth == datetime.date(2004, 2, 14)
    assert (referral.diagnosis, referral.diagnosis_status) == ("autism", "awaiting_assessment")
    assert referral.risks == "I might have to leave my flat. I feel scared a lot."
    assert referral.would_help == "Someone to talk to every week."
    assert referral.accessible_formats == ["easy_read"]
    assert (referral.address, referral.postcode) == ("Flat 2\n10 Mill Lane\nNorwich", "NR1 2DH")
    assert referral.referrer_email == "robin@example.com"
    assert referral.consent_to_referral is True
    assert referral.consent_to_share is True
    assert referral.consent_basis == Referral.ConsentBasis.OWN_CONSENT
    assert referral.outcome_to_referrer is True
    person = ReferralContact.objects.get(referral=referral)
    assert person.role == ReferralContact.Role.PERSON
    assert person.name == "Robin Ashdown"
    assert person.email == "robin@example.com"
    assert person.address == "Flat 2\n10 Mill Lane\nNorwich\nNR1 2DH"
    assert person.preferred_format == ReferralContact.Format.EASY_READ
    assert person.prefers_letter is False

    confirmation = client.get(reverse("referrals:easy-read-confirmation"))
    assert referral.reference in confirmation.text
    assert reverse("pages:next-easy-read") in confirmation.text
    assert "Robin" not in confirmation.text


def test_every_question_has_one_page_with_its_picture_and_text_alternative(client):
    for step in EASY_READ_STEPS:
        page = client.get(step_url(step.slug))
        assert page.status_code == 200, step.slug
        assert f"/static/easy-read/{step.picture}" in page.text
        assert f'alt="{PICTURE_ALT[step.picture]}"' in page.text
        assert "<h1>" in page.text and step.title("self") in page.text
        client.post(step_url(step.slug), ANSWERS[step.slug])


def test_a_postal_address_without_an_email_is_enough_and_asks_for_a_letter(client):
    walk(client, {**ANSWERS, "email": {"email": ""}})
    send(client)

    person = ReferralContact.objects.get()
    assert (person.email, person.prefers_letter) == ("", True)
    assert person.address.endswith("NR1 2DH")


def test_an_email_without_a_postal_address_is_enough(client):
    walk(client, until="address")
    page = client.get(step_url("address"), follow=True).content.decode()
    # Both questions say they may be left empty.
    assert "Your address (optional)" in page and "Your postcode (optional)" in page
    walk(client, {**ANSWERS, "address": {"address": "", "postcode": ""}})
    send(client)

    person = ReferralContact.objects.get()
    assert (person.email, person.address) == ("robin@example.com", "")


def test_someone_under_16_agrees_as_a_child_who_understands(client, frozen_now):
    birthday = {"date_of_birth_day": "1", "date_of_birth_month": "1", "date_of_birth_year": "2012"}
    walk(client, {**ANSWERS, "birthday": birthday})
    send(client)

    assert Referral.objects.get().consent_basis == Referral.ConsentBasis.GILLICK


@pytest.mark.parametrize(
    ("slug", "posted", "field", "message"),
    [
        (
            "name",
            {"given_name": "", "family_name": "Ashdown"},
            "given_name",
            "Write your first name.",
        ),
        (
            "birthday",
            {"date_of_birth_day": "", "date_of_birth_month": "", "date_of_birth_year": ""},
            "date_of_birth_day",
            "Write the date you were born.",
        ),
        ("disability", {}, "diagnosis", "Choose learning disability, autism or both."),
        ("diagnosed", {}, "diagnosis_status", "Choose one answer."),
        ("now", {"risks": ""}, "risks", "Tell us what is hard for you now."),
        (
            "address",
            {"address": "10 Mill Lane", "postcode": ""},
            "postcode",
            "Write your postcode.",
        ),
        (
            "address",
            {"address": "10 Mill Lane", "postcode": "NR1"},
            "postcode",
            "Enter a real postcode, like NR1 2DH.",
        ),
        (
            "email",
            {"email": "robin.example.com"},
            "email",
            "Enter an email address in the right format",
        ),
        ("agree", {}, "consent_to_referral", "Choose yes or no."),
        ("agree", {"consent_to_referral": "no"}, "consent_to_referral", "You said no."),
        ("share", {}, "consent_to_share", "Choose yes or no."),
    ],
)
def test_a_wrong_answer_gets_an_nhsuk_error_keeps_what_was_typed_and_writes_nothing(
    client, slug, posted, field, message
):
    walk(client, until=slug)

    response = client.post(step_url(slug), posted)

    text = response.text.replace("&#x27;", "'")
    assert response.status_code == 200
    assert "nhsuk-error-summary" in text
    assert message in text
    assert f'href="#id_{field}' in text
    assert response.content.decode().count("nhsuk-error-message") >= 1
    for value in posted.values():
        if value and len(value) > 2:
            assert value in text
    assert Referral.objects.count() == 0
    assert ReferralContact.objects.count() == 0


def test_no_email_and_no_address_is_refused_on_the_email_page(client):
    walk(client, {**ANSWERS, "address": {"address": "", "postcode": ""}}, until="email")

    response = client.post(step_url("email"), {"email": ""})

    assert response.status_code == 200
    assert "We need your email address or your home address" in response.text
    assert Referral.objects.count() == 0


def test_a_change_link_goes_back_to_the_check_page_with_the_new_answer(client):
    walk(client)

    response = client.post(step_url("help") + "?change=1", {"would_help": "A key worker."})

    assert response["Location"] == reverse("referrals:easy-read-check")
    assert "A key worker." in client.get(reverse("referrals:easy-read-check")).text


def test_a_question_out_of_order_sends_the_user_to_the_first_unanswered_one(client):
    response = client.get(step_url("email"))

    assert response["Location"] == step_url("name")


def test_the_check_page_without_answers_goes_to_the_start(client):
    response = client.get(reverse("referrals:easy-read-check"))

    assert response["Location"] == reverse("referrals:easy-read-start")


def test_an_unknown_question_is_not_found(client):
    assert client.get(step_url("favourite-colour")).status_code == 404


def test_the_same_send_twice_makes_one_referral(client):
    walk(client)
    page = client.get(reverse("referrals:easy-read-check"))
    token = _TOKEN.search(page.text).group(1)
    posted = {"submission_token": token, "form_end": "1"}

    first = client.post(reverse("referrals:easy-read-check"), posted)
    second = client.post(reverse("referrals:easy-read-check"), posted)

    assert first["Location"] == second["Location"] == reverse("referrals:easy-read-confirmation")
    assert Referral.objects.count() == 1


def test_a_filled_honeypot_writes_nothing(client):
    walk(client)
    page = client.get(reverse("referrals:easy-read-check"))
    token = _TOKEN.search(page.text).group(1)

    response = client.post(
        reverse("referrals:easy-read-check"),
        {"submission_token": token, "form_end": "1", "website": "spam"},
    )

    assert response.status_code == 400
    assert Referral.objects.count() == 0


def test_sent_too_fast_is_refused_and_writes_nothing(client, settings):
    settings.DSR_MIN_FILL_SECONDS = 3
    walk(client)

    response = send(client)

    assert response.status_code == 200
    assert "This page was sent very quickly" in response.text
    assert Referral.objects.count() == 0


def test_easy_read_posts_count_towards_the_referral_limit(client, settings, frozen_now):
    settings.REFERRAL_POSTS_PER_HOUR = 2
    client.post(reverse("referrals:who"), {"who": "self"})
    client.post(step_url("name"), ANSWERS["name"])

    response = client.post(step_url("birthday"), ANSWERS["birthday"])

    assert response.status_code == 429
    assert Referral.objects.count() == 0


@pytest.mark.parametrize("page", ["referrals:start", "pages:start"])
def test_the_start_pages_link_to_the_easy_read_referral(client, page):
    assert reverse("referrals:easy-read-start") in client.get(reverse(page)).text
