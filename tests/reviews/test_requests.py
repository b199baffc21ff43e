"""C(E)TR requests through the HTTP client: the public form and its confirmation, double
submits, bad input, the honeypot, and triage by the register team (arrange or decline), with
who may see which pages. On a frozen clock: Tuesday 10 March 2026, 09:30."""

import datetime
import re
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dsr.models import AccessEvent, Notification
from dsr.roles import Role
from reviews.models import Cetr, CetrRequest
from reviews.services import cetr_request_decline
from tests.conftest import signed_in_client
from tests.dsr.factories import TOTPDeviceFactory, UserFactory
from tests.reviews.factories import CetrRequestFactory, DeclinedCetrRequestFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

NHS_NUMBER = "9434765919"
_TOKEN = re.compile(r'name="submission_token" value="([0-9a-f-]{36})"')


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _html(response) -> str:
    return response.content.decode()


def _answers(area=None, **changes) -> dict[str, str]:
    """A complete public form, as posted: a family member asking by email."""
    data = {
        "relationship": "family",
        "requester_name": "Morgan Ward",
        "requester_organisation": "",
        "contact_by": "email",
        "requester_email": "morgan@example.com",
        "requester_address": "",
        "requester_phone": "",
        "given_name": "Ellis",
        "family_name": "Ward",
        "date_of_birth_day": "1",
        "date_of_birth_month": "4",
        "date_of_birth_year": "2000",
        "nhs_number": "",
        "postcode": "nr1 2dh",
        "local_authority": str(area.pk) if area else "not_known",
        "in_hospital": "no",
        "hospital_name": "",
        "reason": "Things are getting harder at home and the placement may break down.",
        "person_knows": "yes",
        "website": "",
    }
    data.update(changes)
    return data


def _token(client) -> str:
    page = client.get(reverse("reviews:request-public"))
    assert page.status_code == 200
    return _TOKEN.search(_html(page)).group(1)


def _send(client, area=None, **changes):
    token = changes.pop("submission_token", None) or _token(client)
    return client.post(
        reverse("reviews:request-public"), {**_answers(area, **changes), "submission_token": token}
    )


def _detail(cetr_request) -> str:
    return reverse("reviews:request-detail", kwargs={"pk": cetr_request.pk})


# --- The public form -------------------------------------------------------------------------


def test_anyone_can_open_the_form_from_the_start_page(client, areas):
    start = client.get(reverse("pages:start"))
    assert reverse("reviews:request-public") in _html(start)
    page = client.get(reverse("reviews:request-public"))
    assert page.status_code == 200
    assert "Ask for a Care (Education) and Treatment Review" in _html(page)
    assert "Northshire" in _html(page)
    assert 'name="local_authority" type="radio" value="not_known"' in _html(page)
    assert "no-cache" in page["Cache-Control"]


def test_a_request_is_saved_acknowledged_and_its_reference_shown(client, areas):
    response = _send(client, areas["north"], nhs_number="943 476 5919")

    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:request-confirmation")
    saved = CetrRequest.objects.get()
    assert (saved.given_name, saved.family_name) == ("Ellis", "Ward")
    assert saved.date_of_birth == datetime.date(2000, 4, 1)
    assert saved.nhs_number == NHS_NUMBER
    assert saved.postcode == "NR1 2DH"
    assert saved.local_authority == areas["north"]
    assert saved.person_knows is True
    assert saved.channel == CetrRequest.Channel.ONLINE
    assert saved.status == CetrRequest.Status.RECEIVED
    assert saved.entered_by is None
    message = Notification.objects.get()
    assert (message.kind, message.channel, message.email) == (
        "cetr_request_received",
        "email",
        "morgan@example.com",
    )
    assert message.context["reference"] == saved.reference

    confirmation = client.get(reverse("reviews:request-confirmation"))
    assert saved.reference in _html(confirmation)
    assert "Ward" not in _html(confirmation)  # the reference only, no name


def test_a_request_by_letter_with_the_area_not_known_is_saved(client, areas):
    _send(
        client,
        contact_by="letter",
        requester_email="",
        requester_address="1 High Street\r\nNorwich\r\nNR1 2DH",
    )
    saved = CetrRequest.objects.get()
    assert saved.local_authority is None
    assert saved.contact_by == "letter"
    message = Notification.objects.get()
    assert (message.channel, message.postal_address) == (
        "letter",
        "1 High Street\nNorwich\nNR1 2DH",
    )


def test_sending_the_same_page_twice_makes_one_request(client, areas):
    token = _token(client)
    first = _send(client, areas["north"], submission_token=token)
    second = _send(client, areas["north"], submission_token=token)

    assert first["Location"] == second["Location"] == reverse("reviews:request-confirmation")
    assert CetrRequest.objects.count() == 1
    assert Notification.objects.count() == 1


def test_a_token_this_session_was_not_given_saves_nothing_until_sent_again(client, areas):
    _token(client)
    response = _send(client, areas["north"], submission_token=str(uuid.uuid4()))
    assert response.status_code == 200
    assert "This page had changed" in _html(response)
    assert CetrRequest.objects.count() == 0

    again = client.post(
        reverse("reviews:request-public"),
        {**_answers(areas["north"]), "submission_token": _TOKEN.search(_html(response)).group(1)},
    )
    assert again.status_code == 302
    assert CetrRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reason": ""}, "Enter why you are asking for a C(E)TR."),
        ({"requester_email": ""}, "Enter your email address, or choose Letter."),
        (
            {"contact_by": "letter", "requester_address": ""},
            "Enter your postal address, or choose Email.",
        ),
        ({"date_of_birth_year": "2027"}, "The date of birth must be today or in the past."),
        ({"relationship": ""}, "Choose who you are."),
        ({"nhs_number": "1234567890"}, "NHS number"),
        ({"local_authority": "99999"}, "Choose one of the options."),
        # Only a crafted request can put a line break in a one-line box (found by C-1).
        (
            {"family_name": "Ward\r\nWard"},
            "The person&#x27;s last name must be one line of text, without hidden characters.",
        ),
        (
            {"requester_name": "Morgan\u202eWard"},
            "Your full name must be one line of text, without hidden characters.",
        ),
    ],
)
def test_bad_answers_show_the_error_summary_and_save_nothing(client, areas, changes, message):
    response = _send(client, areas["north"], **changes)

    assert response.status_code == 200
    html = _html(response)
    assert "nhsuk-error-summary" in html
    assert message in html
    assert "<title>Error: " in html
    assert CetrRequest.objects.count() == 0
    assert Notification.objects.count() == 0


def test_a_filled_honeypot_is_refused_and_nothing_saved(client, areas):
    response = _send(client, areas["north"], website="http://spam.example")

    assert response.status_code == 400
    assert "We could not accept this form" in _html(response)
    assert CetrRequest.objects.count() == 0
    assert Notification.objects.count() == 0


def test_the_confirmation_shows_nothing_without_a_request_from_this_browser(client, areas):
    CetrRequestFactory(local_authority=areas["north"])
    response = client.get(reverse("reviews:request-confirmation"))
    assert response.status_code == 200
    assert "There is no request to show" in _html(response)
    assert "CR-" not in _html(response)


def test_too_many_requests_from_one_address_are_refused(client, areas, settings):
    settings.CETR_REQUEST_SUBMISSIONS_PER_HOUR = 1
    assert _send(client, areas["north"]).status_code == 302
    refused = _send(client, areas["north"])
    assert refused.status_code == 429
    assert CetrRequest.objects.count() == 1


# --- The staff pages ---------------------------------------------------------------------------


def test_a_new_request_is_on_the_staff_list_waiting_to_be_triaged(client, staff_client, areas):
    _send(client, areas["north"])
    saved = CetrRequest.objects.get()

    page = staff_client.get(reverse("reviews:request-list"))
    assert page.status_code == 200
    html = _html(page)
    assert saved.reference in html
    assert _detail(saved) in html
    assert "Waiting to be triaged" in html
    assert "Family member" in html
    assert "Ellis Ward" in html


def test_the_list_puts_waiting_requests_first_oldest_first(staff_client, staff_user, areas):
    older = CetrRequestFactory(
        local_authority=areas["north"],
        given_name="Older",
        received_at=timezone.now() - datetime.timedelta(days=2),
    )
    newer = CetrRequestFactory(local_authority=areas["north"], given_name="Newer")
    declined = DeclinedCetrRequestFactory(
        local_authority=areas["north"], given_name="Declined", triaged_by=staff_user
    )

    html = _html(staff_client.get(reverse("reviews:request-list")))
    assert (
        html.index(older.reference) < html.index(newer.reference) < html.index(declined.reference)
    )


def test_the_list_runs_the_same_number_of_queries_with_3_and_30_requests(
    staff_client, staff_user, areas, django_assert_max_num_queries
):
    def add(count: int) -> None:
        for n in range(count):
            area = areas["north" if n % 2 else "south"]
            if n % 3 == 0:
                DeclinedCetrRequestFactory(local_authority=area, triaged_by=staff_user)
            else:
                CetrRequestFactory(local_authority=area)

    url = reverse("reviews:request-list")
    add(3)
    staff_client.get(url)  # warm any per-process caches first
    with CaptureQueriesContext(connection) as small:
        assert staff_client.get(url).status_code == 200

    add(27)
    assert CetrRequest.objects.count() == 30
    with django_assert_max_num_queries(len(small)):
        response = staff_client.get(url)
    assert response.content.count(b"CR-2026-") == 30


def test_staff_enter_a_request_taken_by_phone(staff_client, staff_user, areas):
    page = staff_client.get(reverse("reviews:request-create"))
    assert page.status_code == 200
    token = _TOKEN.search(_html(page)).group(1)
    data = {**_answers(areas["south"]), "submission_token": token}

    first = staff_client.post(reverse("reviews:request-create"), data)
    second = staff_client.post(reverse("reviews:request-create"), data)

    saved = CetrRequest.objects.get()
    assert first["Location"] == second["Location"] == _detail(saved)
    assert saved.channel == CetrRequest.Channel.STAFF
    assert saved.entered_by == staff_user
    assert Notification.objects.filter(kind="cetr_request_received").count() == 1


def test_declining_tells_the_requester_why(staff_client, staff_user, areas):
    waiting = CetrRequestFactory(local_authority=areas["north"])
    reason = "Ellis has a review with the community team next week. Ask again after it."

    response = staff_client.post(_detail(waiting), {"decision": "decline", "reason": reason})

    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:request-list")
    waiting.refresh_from_db()
    assert waiting.status == CetrRequest.Status.DECLINED
    assert waiting.decline_reason == reason
    assert waiting.triaged_by == staff_user
    message = Notification.objects.get(kind="cetr_request_declined")
    assert message.recipient_key == "requester"
    assert message.email == "morgan@example.com"
    assert message.context["reason"] == reason
    listed = staff_client.get(response["Location"])
    assert "declined" in _html(listed)


def test_declining_needs_a_reason(staff_client, areas):
    waiting = CetrRequestFactory(local_authority=areas["north"])
    response = staff_client.post(_detail(waiting), {"decision": "decline", "reason": " "})

    assert response.status_code == 200
    assert "nhsuk-error-summary" in _html(response)
    assert "Enter why you are declining the request." in _html(response)
    waiting.refresh_from_db()
    assert waiting.status == CetrRequest.Status.RECEIVED
    assert not Notification.objects.filter(kind="cetr_request_declined").exists()


def test_the_detail_page_offers_people_on_the_register_who_match(
    staff_client, staff_user, areas, make_person
):
    by_number = make_person(area="north", nhs_number=NHS_NUMBER)
    by_name = make_person(
        area="south",
        given_name="Ellis",
        family_name="Ward",
        date_of_birth=datetime.date(2000, 4, 1),
    )
    someone_else = make_person(area="north", given_name="Ellis", family_name="Ward")
    waiting = CetrRequestFactory(local_authority=areas["north"], nhs_number=NHS_NUMBER)

    page = staff_client.get(_detail(waiting))

    assert page.status_code == 200
    html = _html(page)
    assert "the letter already greets them and signs off, so do not add either" in html
    assert f'value="{by_number.pk}"' in html
    assert f'value="{by_name.pk}"' in html
    assert f'value="{someone_else.pk}"' not in html  # same name, another date of birth
    assert "943 476 5919" in html
    shown = set(
        AccessEvent.objects.filter(
            user=staff_user, action=AccessEvent.Action.SEARCH_REGISTER
        ).values_list("person_id", flat=True)
    )
    assert shown == {by_number.pk, by_name.pk}
    assert AccessEvent.objects.filter(
        user=staff_user, action=AccessEvent.Action.VIEW_PERSON, detail__cetr_request=waiting.pk
    ).exists()


def test_arranging_links_the_person_and_plans_a_cetr(staff_client, staff_user, areas, make_person):
    person = make_person(area="north", nhs_number=NHS_NUMBER)
    waiting = CetrRequestFactory(local_authority=areas["north"], nhs_number=NHS_NUMBER)

    response = staff_client.post(
        _detail(waiting),
        {"decision": "arrange", "person": str(person.pk), "kind": Cetr.Kind.COMMUNITY},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:request-list")
    waiting.refresh_from_db()
    assert waiting.status == CetrRequest.Status.ARRANGED
    assert waiting.person == person
    cetr = Cetr.objects.get(person=person)
    assert (cetr.kind, cetr.status) == (Cetr.Kind.COMMUNITY, Cetr.Status.PLANNED)
    assert waiting.cetr == cetr
    assert Notification.objects.filter(kind="cetr_request_arranged").count() == 1

    staff_client.get(_detail(waiting))
    assert AccessEvent.objects.filter(
        user=staff_user, person=person, action=AccessEvent.Action.VIEW_PERSON
    ).exists()


def test_arranging_shows_the_services_refusal_on_the_form(staff_client, areas, make_person):
    person = make_person(area="north", nhs_number=NHS_NUMBER)
    waiting = CetrRequestFactory(local_authority=areas["north"], nhs_number=NHS_NUMBER)

    # Not in hospital: an inpatient C(E)TR needs an admission (reviews.services.cetr_plan).
    response = staff_client.post(
        _detail(waiting),
        {"decision": "arrange", "person": str(person.pk), "kind": Cetr.Kind.INPATIENT},
    )

    assert response.status_code == 200
    assert "nhsuk-error-summary" in _html(response)
    assert "record the admission first" in _html(response)
    waiting.refresh_from_db()
    assert waiting.status == CetrRequest.Status.RECEIVED
    assert not Cetr.objects.exists()


def test_with_no_match_the_page_says_to_make_a_referral_first(staff_client, areas, make_person):
    make_person(area="north")  # on the register, but not this person
    waiting = CetrRequestFactory(local_authority=areas["north"], nhs_number=NHS_NUMBER)

    page = staff_client.get(_detail(waiting))
    assert "make a referral for them" in _html(page)
    assert f'href="{reverse("referrals:create")}"' in _html(page)

    response = staff_client.post(_detail(waiting), {"decision": "arrange", "kind": "community"})
    assert response.status_code == 200
    assert "No one on the register matches this request" in _html(response)
    waiting.refresh_from_db()
    assert waiting.status == CetrRequest.Status.RECEIVED


def test_a_person_outside_the_users_areas_is_not_offered(areas, organisations, make_person):
    south_person = make_person(area="south", nhs_number=NHS_NUMBER)
    user = UserFactory(organisation=organisations["north_council"], roles=[Role.REGISTER_STAFF])
    TOTPDeviceFactory(user=user)
    waiting = CetrRequestFactory(local_authority=areas["north"], nhs_number=NHS_NUMBER)

    client = signed_in_client(user)
    page = client.get(_detail(waiting))
    assert page.status_code == 200
    assert f'value="{south_person.pk}"' not in _html(page)
    response = client.post(
        _detail(waiting),
        {"decision": "arrange", "person": str(south_person.pk), "kind": "community"},
    )
    assert response.status_code == 200
    assert not Cetr.objects.exists()


def test_a_triaged_request_shows_the_outcome_and_no_form(staff_client, staff_user, areas):
    declined = CetrRequestFactory(local_authority=areas["north"])
    cetr_request_decline(request=declined, reason="Not now.", by=staff_user)

    page = staff_client.get(_detail(declined))
    assert page.status_code == 200
    assert "Not now." in _html(page)
    assert 'name="decision"' not in _html(page)
    again = staff_client.post(_detail(declined), {"decision": "decline", "reason": "Again."})
    assert again.status_code == 302
    assert Notification.objects.filter(kind="cetr_request_declined").count() == 1


# --- Who may see what --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["professional_referrer", "planning_commissioner"])
def test_other_roles_may_not_use_the_staff_pages(personas, areas, persona):
    client = personas["clients"][persona]
    waiting = CetrRequestFactory(local_authority=areas["north"])
    for url in (
        reverse("reviews:request-list"),
        reverse("reviews:request-create"),
        _detail(waiting),
    ):
        assert client.get(url).status_code == 403
    assert (
        client.post(_detail(waiting), {"decision": "decline", "reason": "No."}).status_code == 403
    )
    waiting.refresh_from_db()
    assert waiting.status == CetrRequest.Status.RECEIVED


def test_a_request_in_another_area_is_not_found(areas, organisations):
    user = UserFactory(organisation=organisations["north_council"], roles=[Role.REGISTER_STAFF])
    TOTPDeviceFactory(user=user)
    client = signed_in_client(user)
    north = CetrRequestFactory(local_authority=areas["north"], given_name="Northern")
    south = CetrRequestFactory(local_authority=areas["south"], given_name="Southern")
    unknown = CetrRequestFactory(local_authority=None, given_name="Unplaced")

    assert client.get(_detail(north)).status_code == 200
    assert client.get(_detail(south)).status_code == 404
    assert client.get(_detail(unknown)).status_code == 404  # only ICB staff see these
    listed = _html(client.get(reverse("reviews:request-list")))
    assert north.reference in listed
    assert south.reference not in listed
    assert unknown.reference not in listed
    declined = client.post(_detail(south), {"decision": "decline", "reason": "No."})
    assert declined.status_code == 404
    south.refresh_from_db()
    assert south.status == CetrRequest.Status.RECEIVED


def test_council_staff_enter_requests_only_for_their_own_area(areas, organisations):
    user = UserFactory(organisation=organisations["north_council"], roles=[Role.REGISTER_STAFF])
    TOTPDeviceFactory(user=user)
    client = signed_in_client(user)
    page = _html(client.get(reverse("reviews:request-create")))
    assert "Northshire" in page
    assert "Southshire" not in page
    assert 'name="local_authority" type="radio" value="not_known"' not in page
