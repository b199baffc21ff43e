"""The DSR team's contact details: kept once by the DSR lead, with history, and shown to the
public and in the outcome messages as they are when a message is sent."""

import pytest
from django.urls import reverse

from dsr.models import Notification, TeamContact
from dsr.outbox.delivery import render
from dsr.outbox.letters import letter_html
from dsr.queries import team_contact
from dsr.services import team_contact_save
from tests.conftest import make_persona, signed_in_client

pytestmark = pytest.mark.django_db

URL = reverse("dsr:team-contact")
NOT_SET = "The DSR team's contact details have not been set up yet."

ANSWERS = {
    "phone": "01632 960 001",
    "email": "dsr.team@nhs.example",
    "address": "DSR team\r\n1 Example Street\r\nNorwich",
    "postcode": "nr1 2dh",
    "opening_hours": "Monday to Friday, 9am to 5pm",
    "complaints": "Write to us and ask us to look at the decision again.",
    "young_people_guide_url": "https://www.england.nhs.uk/example-young-people-guides/",
}
DEFAULT_GUIDE = "https://www.england.nhs.uk/learning-disabilities/care/"


@pytest.fixture
def lead(organisations):
    return make_persona("dsr_lead", organisations)


@pytest.fixture
def saved(lead):
    return team_contact_save(
        by=lead, **{**ANSWERS, "address": "DSR team\n1 Example Street", "postcode": "NR1 2DH"}
    )


def test_the_dsr_lead_saves_the_details_and_the_change_is_kept_in_history(lead):
    client = signed_in_client(lead)

    page = client.get(URL)
    response = client.post(URL, ANSWERS, follow=True)

    assert page.status_code == 200 and "Team contact details" in page.text
    assert "Team contact details saved." in response.text
    contact = team_contact()
    assert (contact.phone, contact.email, contact.postcode) == (
        "01632 960 001",
        "dsr.team@nhs.example",
        "NR1 2DH",
    )
    assert contact.address == "DSR team\n1 Example Street\nNorwich"
    assert contact.young_people_guide_url == ANSWERS["young_people_guide_url"]
    history = contact.history.get()
    assert (history.history_user_id, history.history_change_reason) == (
        lead.pk,
        "Team contact details saved",
    )


def test_a_second_save_changes_the_one_row_and_adds_a_history_row(lead, saved):
    signed_in_client(lead).post(URL, {**ANSWERS, "phone": "01632 960 999"})

    assert TeamContact.objects.count() == 1
    assert team_contact().phone == "01632 960 999"
    assert saved.history.count() == 2


def test_the_page_shows_the_details_already_saved(lead, saved):
    page = signed_in_client(lead).get(URL)

    assert 'value="01632 960 001"' in page.text
    assert 'value="NR1 2DH"' in page.text


@pytest.mark.parametrize(
    "persona", ["register_staff", "administrator", "senior_manager_health", "panel_member"]
)
def test_other_roles_are_refused(organisations, persona):
    client = signed_in_client(make_persona(persona, organisations))

    assert client.get(URL).status_code == 403
    assert client.post(URL, ANSWERS).status_code == 403
    assert team_contact() is None


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert team_contact() is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "", "Enter a phone number"),
        ("phone", "abc", "Enter a phone number, like 01632 960 001 or 07700 900 982"),
        ("phone", "0" * 31, "Phone number must be 30 characters or fewer"),
        ("email", "", "Enter an email address"),
        ("email", "dsr.team.example", "Enter an email address in the right format"),
        ("address", "", "Enter a postal address"),
        ("address", "x" * 501, "Postal address must be 500 characters or fewer"),
        ("postcode", "", "Enter a postcode"),
        ("postcode", "NR1", "Enter a real postcode, like NR1 2DH"),
        ("postcode", "NR1 2DH NR1 2DH NR1", "Enter a real postcode, like NR1 2DH"),
        ("opening_hours", "", "Enter the opening hours"),
        ("opening_hours", "x" * 501, "Opening hours must be 500 characters or fewer"),
        ("complaints", "", "Enter how to complain or ask for a decision to be looked at again"),
        ("complaints", "x" * 2001, "How to complain must be 2000 characters or fewer"),
        ("opening_hours", "9am\x00", "Opening hours must not contain hidden control characters"),
        ("young_people_guide_url", "not a web address", "Enter a web address that starts"),
        ("young_people_guide_url", "http://www.england.nhs.uk/", "Enter a web address that starts"),
        ("young_people_guide_url", "javascript:alert(1)", "Enter a web address that starts"),
    ],
)
def test_a_wrong_answer_gets_the_nhsuk_error_and_nothing_is_written(lead, field, value, message):
    response = signed_in_client(lead).post(URL, {**ANSWERS, field: value})

    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.text
    assert message in response.text.replace("&#x27;", "'")
    assert f'href="#id_{field}"' in response.text
    assert TeamContact.objects.count() == 0
    assert TeamContact.history.count() == 0


def test_no_message_on_the_form_ends_with_a_full_stop(lead):
    """The NHS.UK design system's error messages have no full stop at the end."""
    wrong = {
        "phone": "abc",
        "email": "dsr.team.example",
        "address": "x" * 501,
        "postcode": "NR1",
        "opening_hours": "9am\x00",
        "complaints": "",
    }
    response = signed_in_client(lead).post(URL, wrong)

    errors = response.context["form"].errors
    assert set(errors) == set(wrong)
    for field, messages in errors.items():
        for message in messages:
            assert not message.endswith("."), (field, message)


def test_the_dsr_lead_reaches_the_page_from_the_settings_in_the_header(lead, organisations):
    settings_url = reverse("dsr:settings")
    lead_home = signed_in_client(lead).get(reverse("dsr:home"))
    staff_home = signed_in_client(make_persona("register_staff", organisations)).get(
        reverse("dsr:home")
    )
    settings_page = signed_in_client(lead).get(settings_url)

    assert f'href="{settings_url}"' in lead_home.text
    assert f'href="{settings_url}"' not in staff_home.text
    assert f'href="{URL}"' in settings_page.text


# Every page anyone may open, signed in or not (the account pages, for staff, aside).
PUBLIC_PAGES = [
    "pages:start",
    "pages:privacy",
    "pages:accessibility",
    "pages:cookies",
    "referrals:start",
    "referrals:who",
    "referrals:printable",
    "referrals:confirmation",
    "reviews:request-public",
    "reviews:request-confirmation",
    "pages:deciding",
    "pages:deciding-easy-read",
    "pages:next-easy-read",
    "referrals:easy-read-start",
    "referrals:easy-read-confirmation",
]


@pytest.fixture
def anonymous(client):
    from django.core.cache import cache

    cache.clear()  # the public forms' hourly limits count per address
    yield client
    cache.clear()


@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_every_public_page_shows_the_details_once(anonymous, saved, page):
    response = anonymous.get(reverse(page))

    assert response.status_code == 200
    html = response.text
    assert "How to contact the DSR team" in html
    assert '<a href="tel:01632960001">01632 960 001</a>' in html
    assert '<a href="mailto:dsr.team@nhs.example">dsr.team@nhs.example</a>' in html
    assert "NR1 2DH" in html
    assert "Write to us and ask us to look at the decision again." in html
    assert NOT_SET not in html
    assert html.count("How to contact the DSR team") == 1


@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_every_public_page_says_plainly_when_the_details_are_not_set(anonymous, page):
    response = anonymous.get(reverse(page))

    assert NOT_SET in response.text
    assert "Phone:" not in response.text


def test_a_referral_form_step_shows_the_details(anonymous, saved):
    anonymous.post(reverse("referrals:who"), {"who": "self"})

    response = anonymous.get(reverse("referrals:step", args=["self", "about-you"]))

    assert response.status_code == 200
    assert response.text.count("How to contact the DSR team") == 1
    assert "01632 960 001" in response.text


def test_staff_pages_and_the_account_pages_leave_the_details_out(
    anonymous, saved, lead, organisations
):
    staff = signed_in_client(make_persona("register_staff", organisations))

    for response in (
        staff.get(reverse("dsr:home")),
        signed_in_client(lead).get(URL),
        anonymous.get(reverse("accounts:sign-in")),
        anonymous.get(reverse("accounts:password-reset")),
    ):
        assert response.status_code == 200
        assert "How to contact the DSR team" not in response.text


def _where_to_send(response) -> str:
    html = response.text
    return html[html.index("<h2>Where to send it</h2>") : html.index("We look at every referral")]


def test_the_printable_form_says_to_send_it_to_the_dsr_team(anonymous, saved, settings):
    settings.REFERRAL_POSTAL_ADDRESS = ""
    settings.REFERRAL_EMAIL = ""

    where = _where_to_send(anonymous.get(reverse("referrals:printable")))

    assert "Post it to:<br>DSR team<br>1 Example Street<br>NR1 2DH" in where
    assert "Or scan or photograph it and email it to dsr.team@nhs.example" in where
    assert "phone the DSR team on 01632 960 001" in where


def test_the_printable_form_uses_the_referral_addresses_when_they_are_set(
    anonymous, saved, settings
):
    settings.REFERRAL_POSTAL_ADDRESS = "Referrals\nPO Box 1"
    settings.REFERRAL_EMAIL = ""

    where = _where_to_send(anonymous.get(reverse("referrals:printable")))

    assert "Post it to:<br>Referrals<br>PO Box 1" in where
    assert "email it to dsr.team@nhs.example" in where
    assert "1 Example Street" not in where


def test_the_printable_form_says_plainly_when_the_details_are_not_set(anonymous, settings):
    settings.REFERRAL_POSTAL_ADDRESS = ""
    settings.REFERRAL_EMAIL = ""

    where = _where_to_send(anonymous.get(reverse("referrals:printable")))

    assert NOT_SET in where
    assert "Post it to:" not in where


@pytest.fixture
def outcome_messages(areas, frozen_now):
    """A referral decided, its outcome email and letter in the outbox (not yet sent)."""
    from referrals.services import referral_decide
    from tests.dsr.factories import UserFactory
    from tests.referrals.test_services import reviewed, submit

    clerk = UserFactory()
    referral = reviewed(
        submit(
            areas,
            contacts=[{"role": "person", "name": "Ada", "address": "1 High St, Norwich NR1 2DH"}],
        ),
        clerk,
    )
    referral_decide(
        referral,
        decision="not_eligible",
        reason="No diagnosis yet.",
        signposting="GP.",
        by=clerk,
    )
    return Notification.objects.filter(kind="referral_outcome")


def test_the_outcome_email_gives_the_details_as_they_are_at_send_time(
    outcome_messages, lead, saved
):
    # Changed after the message was queued: the message says what is true when it is sent.
    team_contact_save(by=lead, phone="01632 960 123")
    email = render(outcome_messages.get(channel="email"))

    for text in (email.text, email.html):
        assert "How to contact the DSR team" in text
        assert "01632 960 123" in text
        assert "dsr.team@nhs.example" in text
        # The outcome is a decision: it says how to complain or ask us to look at it again.
        assert "How to complain or ask us to look at a decision again" in text
        assert "Write to us and ask us to look at the decision again." in text
    assert "01632 960 001" not in email.text


def test_the_outcome_letter_gives_the_details(outcome_messages, saved):
    html = letter_html(outcome_messages.get(channel="letter"))

    assert "How to contact the DSR team" in html
    assert "01632 960 001" in html and "NR1 2DH" in html


def test_an_outcome_message_says_plainly_when_the_details_are_not_set(outcome_messages):
    email = render(outcome_messages.get(channel="email"))

    assert "The DSR team's contact details have not been set up yet." in email.text
    assert "Phone:" not in email.text


def test_the_referral_confirmation_page_shows_the_details(client, areas, saved):
    from django.core.cache import cache

    from tests.referrals.helpers import answers_for, submit, token_from, walk

    cache.clear()  # the hourly limits count per address
    client.post(reverse("referrals:who"), {"who": "self"})
    walk(client, "self", answers_for("self", areas["north"].pk))
    submit(client, token_from(client))
    confirmation = client.get(reverse("referrals:confirmation"))
    cache.clear()

    assert confirmation.status_code == 200
    assert "How to contact the DSR team" in confirmation.text
    assert "01632 960 001" in confirmation.text


def test_a_live_service_without_the_details_is_warned(settings):
    from dsr.checks import team_contact_set

    settings.DEBUG = False

    assert [w.id for w in team_contact_set(databases=["default"])] == ["dsr.W001"]
    assert team_contact_set(databases=None) == []


def test_no_warning_once_the_details_are_set_or_in_development(settings, saved):
    from dsr.checks import team_contact_set

    settings.DEBUG = False
    assert team_contact_set(databases=["default"]) == []
    TeamContact.objects.all().delete()
    settings.DEBUG = True
    assert team_contact_set(databases=["default"]) == []


# --- The link to NHS England's guides for young people ----------------------------------------


def test_the_guide_link_is_offered_with_its_default_before_anything_is_saved(lead):
    page = signed_in_client(lead).get(URL)

    assert f'value="{DEFAULT_GUIDE}"' in page.text
    assert "Link to NHS England&#x27;s guides for young people (optional)" in page.text


def test_a_changed_guide_link_is_kept_in_history_and_shown_on_the_deciding_pages(
    lead, saved, client
):
    signed_in_client(lead).post(
        URL, {**ANSWERS, "young_people_guide_url": "https://www.england.nhs.uk/new-guides/"}
    )

    assert team_contact().young_people_guide_url == "https://www.england.nhs.uk/new-guides/"
    assert [h.young_people_guide_url for h in team_contact().history.order_by("history_id")] == [
        ANSWERS["young_people_guide_url"],
        "https://www.england.nhs.uk/new-guides/",
    ]
    for name in ("pages:deciding", "pages:deciding-easy-read"):
        page = client.get(reverse(name))
        assert 'href="https://www.england.nhs.uk/new-guides/"' in page.text
        assert DEFAULT_GUIDE not in page.text


def test_an_empty_guide_link_shows_no_link_but_says_to_ask_the_team(lead, saved, client):
    signed_in_client(lead).post(URL, {**ANSWERS, "young_people_guide_url": ""})

    assert team_contact().young_people_guide_url == ""
    for name in ("pages:deciding", "pages:deciding-easy-read"):
        page = client.get(reverse(name))
        assert DEFAULT_GUIDE not in page.text
        assert "Ask the DSR team for a copy." in page.text


def test_the_deciding_pages_link_the_default_guide_before_the_details_are_saved(client):
    for name in ("pages:deciding", "pages:deciding-easy-read"):
        assert f'href="{DEFAULT_GUIDE}"' in client.get(reverse(name)).text
