"""The staff referral pages: who may use them, scope, the queue, staff entry, the referral page
and every move of the review through the HTTP client, the attachment download and a
professional referrer's own list (ACCESS.md; DOMAIN.md 3 to 5; PERFORMANCE.md T1 and T5)."""

import datetime
import html
import re
import uuid
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dsr.models import AccessEvent, Notification, Person, RegisterEntry
from dsr.roles import Role
from referrals.models import Referral, ReferralContact, ReferralTransition
from referrals.notifications import SUBJECT
from referrals.recipients import outcome_recipients
from referrals.services.decisions import _register_person
from referrals.views.staff import download_name
from tests.conftest import PERSONAS_BUILT_ONCE, ROLE_PERSONAS, signed_in_client
from tests.dsr.factories import PersonFactory, TOTPDeviceFactory, UserFactory, on_register
from tests.edit_pages import edit_version
from tests.figures import record
from tests.referrals.factories import (
    ReferralAttachmentFactory,
    ReferralContactFactory,
    ReferralFactory,
    ReviewedReferralFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(PERSONAS_BUILT_ONCE)]

TODAY = datetime.date(2026, 3, 10)  # the frozen_now fixture's date
QUEUE = reverse("referrals:queue")
CREATE = reverse("referrals:create")
MINE = reverse("referrals:mine")
ALLOWED = {"register_staff", "dsr_lead"}
REFERRERS = {"professional_referrer", "professional_referrer_other"}
VALID_NHS_NUMBER = "9434765919"


def _received(day: datetime.date) -> datetime.datetime:
    """Mid-morning London time on `day`."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))


def _days_ago(days: int) -> datetime.datetime:
    return _received(TODAY - datetime.timedelta(days=days))


def _url(name: str, referral, **kwargs) -> str:
    return reverse(f"referrals:{name}", kwargs={"pk": referral.pk, **kwargs})


def _state(referral) -> tuple:
    """What a refused move must leave unchanged: status, transitions, outbox, contacts."""
    referral.refresh_from_db()
    return (
        referral.status,
        referral.review_held_on,
        ReferralTransition.objects.filter(referral=referral).count(),
        Notification.objects.filter(subject_type=SUBJECT, subject_id=referral.pk).count(),
        list(ReferralContact.objects.filter(referral=referral).values_list("override", flat=True)),
    )


def _errors(response) -> list[str]:
    """The NHS.UK error summary's messages on the page."""
    assert response.status_code == 200
    summary = re.search(r'nhsuk-error-summary__list">(.*?)</ul>', response.text, re.S)
    assert summary, "no error summary on the page"
    items = re.findall(r"<li>(.*?)</li>", summary[1], re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def _staff_in(organisation, roles=(Role.REGISTER_STAFF,)):
    user = UserFactory(organisation=organisation, roles=list(roles))
    TOTPDeviceFactory(user=user)
    return user


@pytest.fixture
def north(areas):
    return areas["north"]


@pytest.fixture
def referral(north, frozen_now):
    """A live referral in Northshire, received now (the frozen clock): due 7 April 2026."""
    return ReferralFactory(local_authority=north)


# --- Access ----------------------------------------------------------------------------------


def _routes(referral, other) -> dict[str, tuple[str, str]]:
    """Every staff route: (URL, method used to probe it)."""
    contact = referral.contacts.get()
    attachment = ReferralAttachmentFactory(referral=referral)
    return {
        "queue": (QUEUE, "get"),
        "create": (CREATE, "get"),
        "detail": (_url("detail", referral), "get"),
        "start-review": (_url("start-review", referral), "get"),
        "request-info": (_url("request-info", referral), "get"),
        "review": (_url("review", referral), "get"),
        "assign": (_url("assign", referral), "get"),
        "decide": (_url("decide", referral), "get"),
        "recipient-add": (_url("recipient-add", referral), "get"),
        "recipient-change": (_url("recipient-change", referral, contact_pk=contact.pk), "get"),
        "attachment": (_url("attachment", referral, attachment_pk=attachment.pk), "get"),
    }


def test_only_register_staff_and_the_dsr_lead_may_use_the_staff_referral_pages(personas, referral):
    routes = _routes(referral, None)
    for name, (url, method) in routes.items():
        answers = {
            persona: getattr(personas["clients"][persona], method)(url).status_code
            for persona in ROLE_PERSONAS
        }
        expected = {persona: 200 if persona in ALLOWED else 403 for persona in ROLE_PERSONAS}
        assert answers == expected, name


def test_only_professional_referrers_may_see_their_own_referrals_page(personas):
    answers = {name: personas["clients"][name].get(MINE).status_code for name in ROLE_PERSONAS}

    assert answers == {name: 200 if name in REFERRERS else 403 for name in ROLE_PERSONAS}


def test_workflow_posts_are_refused_to_roles_without_referral_work(personas, referral):
    before = _state(referral)
    for persona in set(ROLE_PERSONAS) - ALLOWED:
        response = personas["clients"][persona].post(_url("start-review", referral))
        assert response.status_code == 403, persona

    assert _state(referral) == before


def test_anonymous_visitors_are_sent_to_sign_in_from_every_staff_referral_page(client, referral):
    for name, (url, _) in {**_routes(referral, None), "mine": (MINE, "get")}.items():
        response = client.get(url)
        assert response.status_code == 302, name
        assert urlsplit(response["Location"]).path == reverse("accounts:sign-in"), name


def test_the_navigation_offers_referrals_to_staff_and_my_referrals_to_referrers(personas):
    staff = personas["clients"]["register_staff"].get(reverse("dsr:home")).text
    referrer = personas["clients"]["professional_referrer"].get(reverse("dsr:home")).text

    assert f'href="{QUEUE}"' in staff and f'href="{MINE}"' not in staff
    assert f'href="{MINE}"' in referrer and f'href="{QUEUE}"' not in referrer


# --- Scope -----------------------------------------------------------------------------------


def test_a_referral_outside_the_users_areas_is_404_on_every_route(organisations, areas):
    southern = ReferralFactory(local_authority=areas["south"])
    client = signed_in_client(_staff_in(organisations["north_council"]))

    for name, (url, method) in _routes(southern, None).items():
        if name in ("queue", "create"):
            continue
        assert getattr(client, method)(url).status_code == 404, name
    assert client.post(_url("start-review", southern)).status_code == 404
    assert southern.reference not in client.get(QUEUE).text


def test_a_referral_with_no_local_authority_is_seen_by_icb_staff_only(organisations):
    unplaced = ReferralFactory(local_authority=None)
    icb = signed_in_client(_staff_in(organisations["icb"]))
    council = signed_in_client(_staff_in(organisations["north_council"]))

    assert icb.get(_url("detail", unplaced)).status_code == 200
    assert unplaced.reference in icb.get(QUEUE).text
    assert council.get(_url("detail", unplaced)).status_code == 404
    assert unplaced.reference not in council.get(QUEUE).text


# --- The queue -------------------------------------------------------------------------------


@pytest.fixture
def queue_referrals(areas, staff_user, frozen_now):
    north, south = areas["north"], areas["south"]
    first = ReferralFactory(local_authority=north, received_at=_days_ago(21), family_name="Later")
    return {
        # Received 2026-02-01: due 2026-03-01, nine days ago.
        "overdue": ReferralFactory(
            local_authority=north, received_at=_days_ago(37), family_name="Overdue"
        ),
        # Received 2026-02-12: due 2026-03-12, in two days.
        "week": ReferralFactory(
            local_authority=south,
            received_at=_days_ago(26),
            family_name="Soon",
            status=Referral.Status.MORE_INFO,
            more_info_request="The latest care plan.",
            assigned_to=staff_user,
        ),
        # Due 2026-03-17: a week today, so not "this week".
        "later": first,
        "decided": ReviewedReferralFactory(
            local_authority=north,
            received_at=_days_ago(5),
            family_name="Decided",
            status=Referral.Status.WITHDRAWN,
            decided_at=_days_ago(1),
            decided_by=staff_user,
            withdrawn_reason="The family asked to withdraw.",
        ),
        "duplicate": ReferralFactory(
            local_authority=north,
            received_at=_days_ago(3),
            family_name="Duplicate",
            duplicate_of=first,
        ),
    }


def _queue(client, **params) -> list[str]:
    response = client.get(QUEUE, params)
    assert response.status_code == 200
    return [row.referral.family_name for row in response.context["rows"]]


def test_the_queue_lists_live_first_referrals_by_due_date_with_derived_days_left(
    staff_client, queue_referrals
):
    response = staff_client.get(QUEUE)

    assert [row.referral.family_name for row in response.context["rows"]] == [
        "Overdue",
        "Soon",
        "Later",
    ]
    assert [row.days_left for row in response.context["rows"]] == [-9, 2, 7]
    assert '<strong class="nhsuk-tag nhsuk-tag--red">Overdue by 9 days</strong>' in response.text
    assert response.text.count('<strong class="nhsuk-tag nhsuk-tag--orange">Due this week') == 1
    assert "Decided" not in response.text and "Duplicate" not in response.text
    assert 'href="/referrals/new/"' in response.text


def test_days_left_move_with_the_clock_and_nothing_is_stored(
    staff_client, queue_referrals, frozen_now
):
    frozen_now.move_to("2026-03-11 09:30:00+00:00")

    response = staff_client.get(QUEUE)

    assert [row.days_left for row in response.context["rows"]] == [-10, 1, 6]
    assert "Overdue by 10 days" in response.text
    assert response.text.count('<strong class="nhsuk-tag nhsuk-tag--orange">Due this week') == 2


def test_the_referral_page_flags_an_overdue_decision(staff_client, queue_referrals):
    overdue = staff_client.get(_url("detail", queue_referrals["overdue"])).text
    soon = staff_client.get(_url("detail", queue_referrals["week"])).text

    assert '<strong class="nhsuk-tag nhsuk-tag--red">Overdue by 9 days</strong>' in overdue
    assert '<strong class="nhsuk-tag nhsuk-tag--orange">Due this week</strong>' in soon


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"due": "overdue"}, ["Overdue"]),
        ({"due": "week"}, ["Soon"]),
        ({"status": "more_info"}, ["Soon"]),
        ({"status": "received"}, ["Overdue", "Later"]),
        ({"assigned": "me"}, ["Soon"]),
        ({"assigned": "unassigned"}, ["Overdue", "Later"]),
        ({"sort": "received"}, ["Overdue", "Soon", "Later"]),
    ],
)
def test_the_queue_filters_and_sorts_from_the_query_string(
    staff_client, queue_referrals, params, expected
):
    assert _queue(staff_client, **params) == expected


def test_the_queue_filters_by_local_authority(staff_client, queue_referrals, areas):
    assert _queue(staff_client, local_authority=areas["south"].pk) == ["Soon"]
    assert _queue(staff_client, local_authority=areas["north"].pk) == ["Overdue", "Later"]


def test_an_invalid_queue_filter_shows_an_error_and_no_rows(staff_client, queue_referrals):
    response = staff_client.get(QUEUE, {"due": "yesterday"})

    assert _errors(response) == ["Choose when the decision is due from the list."]
    assert response.context["rows"] == []


def _bulk_referrals(area, count: int, *, start: int = 0) -> list[Referral]:
    """`count` live referrals received over the last four weeks, in one INSERT."""
    rows = [
        ReferralFactory.build(
            local_authority=area,
            received_at=_days_ago((start + i) % 28),
            status=[Referral.Status.RECEIVED, Referral.Status.UNDER_REVIEW][i % 2],
        )
        for i in range(count)
    ]
    return Referral.objects.bulk_create(rows)


@pytest.mark.parametrize("sort", ["due", "received"])
def test_keyset_pages_visit_every_referral_once(staff_client, north, frozen_now, sort):
    created = {r.pk for r in _bulk_referrals(north, 120)}
    seen: list[int] = []
    url = f"{QUEUE}?sort={sort}"
    pages = 0
    while url:
        response = staff_client.get(url)
        assert response.status_code == 200
        seen += [row.referral.pk for row in response.context["rows"]]
        url = response.context["next_url"]
        pages += 1

    assert pages == 3
    assert len(seen) == len(set(seen)) == 120
    assert set(seen) == created


def _queries(client, url: str) -> int:
    client.get(url)  # warm any per-process caches first
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_queue_runs_the_same_number_of_queries_with_5_and_500_referrals(
    staff_client, staff_user, areas, frozen_now, django_assert_max_num_queries
):
    _bulk_referrals(areas["north"], 5)
    first = Referral.objects.order_by("decision_due", "received_at", "id").first()
    Referral.objects.filter(pk=first.pk).update(assigned_to=staff_user)
    urls = [QUEUE, f"{QUEUE}?after={first.pk}", f"{QUEUE}?due=overdue&assigned=me"]
    small = [_queries(staff_client, url) for url in urls]

    _bulk_referrals(areas["south"], 495, start=5)
    Referral.objects.filter(local_authority=areas["south"]).update(assigned_to=staff_user)
    large = [_queries(staff_client, url) for url in urls]

    record("T1 queries: referral queue (5 / 500 referrals)", f"{small[0]} / {large[0]}")
    assert small == large
    # Measured 13 / 14 / 13. Every page: session, user, second-factor device, user and group
    # permissions, the user's areas and organisation, and saving the session (3, with its
    # savepoint): 10. The queue: the count, the page (with its areas and reviewers in the same
    # query) and the local authority choices: 3, plus the cursor row on a later page.
    with django_assert_max_num_queries(small[0]):
        staff_client.get(urls[0])
    with django_assert_max_num_queries(small[1]):
        staff_client.get(urls[1])


# --- Staff entry -----------------------------------------------------------------------------


def _entry(area, **overrides) -> dict[str, str]:
    data = {
        "submission_token": str(uuid.uuid4()),
        "source": "paper",
        "received_on_day": "2",
        "received_on_month": "3",
        "received_on_year": "2026",
        "received_time": "14:30",
        "referrer_kind": "family",
        "given_name": "Alex",
        "family_name": "Paperform",
        "date_of_birth_day": "17",
        "date_of_birth_month": "5",
        "date_of_birth_year": "2001",
        "nhs_number": "943 476 5919",
        "postcode": "nr1 2dh",
        "local_authority": str(area.pk),
        "diagnosis": "autism",
        "diagnosis_status": "confirmed",
        "risk_factors": ["crisis", "breakdown"],
        "risks": "Two crisis team visits this month.",
        "has_ehcp": "no",
        "referrer_name": "Jo Carer",
        "referrer_address": "1 High Street, Norwich NR1 2DH",
        "consent_to_referral": "yes",
        "consent_to_share": "yes",
        "consent_basis": "own_consent",
        "outcome_to_referrer": "yes",
        "contact_role": "person",
        "contact_name": "Alex Paperform",
        "contact_email": "alex@example.org",
        "contact_preferred_format": "easy_read",
    }
    data.update(overrides)
    return data


def test_the_entry_page_offers_a_fresh_token_and_todays_date(staff_client, frozen_now):
    first = staff_client.get(CREATE)
    second = staff_client.get(CREATE)

    token = first.context["form"].initial["submission_token"]
    assert token != second.context["form"].initial["submission_token"]
    assert f'value="{token}"' in first.text
    assert first.context["form"].initial["received_on"] == TODAY


def test_staff_enter_a_paper_referral_received_in_the_past(
    staff_client, staff_user, north, frozen_now
):
    response = staff_client.post(CREATE, _entry(north))

    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("detail", referral)
    assert referral.source == Referral.Source.PAPER
    assert referral.entered_by == staff_user
    assert referral.submitted_by is None
    assert timezone.localtime(referral.received_at) == _received(datetime.date(2026, 3, 2)).replace(
        hour=14, minute=30
    )
    # Four weeks from receipt, not from the day it was entered.
    assert referral.decision_due == datetime.date(2026, 3, 30)
    assert referral.nhs_number == VALID_NHS_NUMBER
    assert referral.postcode == "NR1 2DH"
    assert referral.risk_factors == ["crisis", "breakdown"]
    contact = referral.contacts.get()
    assert (contact.role, contact.email, contact.preferred_format) == (
        "person",
        "alex@example.org",
        "easy_read",
    )
    assert referral.transitions.get().by == staff_user


def test_posting_the_entry_page_twice_makes_one_referral(staff_client, north, frozen_now):
    data = _entry(north)

    first = staff_client.post(CREATE, data)
    second = staff_client.post(CREATE, data)

    assert Referral.objects.count() == 1
    assert ReferralContact.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_receipt_in_the_future_is_refused_and_nothing_is_written(staff_client, north, frozen_now):
    response = staff_client.post(CREATE, _entry(north, received_on_day="10", received_time="09:31"))

    assert _errors(response) == ["The date and time received must not be in the future."]
    assert not Referral.objects.exists()


def test_the_entry_page_shows_an_error_for_every_missing_answer(staff_client, north, frozen_now):
    data = _entry(north, given_name="", consent_to_referral="", source="online")
    del data["diagnosis"]

    response = staff_client.post(CREATE, data)

    assert _errors(response) == [
        "Choose how the referral was received.",
        "Enter the person's first name.",
        "Choose the person's diagnosis.",
        "Say whether there is consent to the referral.",
    ]
    assert not Referral.objects.exists()


def test_a_contact_needs_an_email_or_postal_address(staff_client, north, frozen_now):
    data = _entry(north, contact_email="", contact_phone="01603 000000")

    response = staff_client.post(CREATE, data)

    assert _errors(response) == ["Enter an email address or a postal address."]
    assert not Referral.objects.exists()


# The staff page asks the public steps' questions, so it refuses what they refuse.


def _refused(response) -> list[str]:
    """The page's error messages, once sure that nothing was written."""
    assert not Referral.objects.exists()
    assert not ReferralContact.objects.exists()
    return _errors(response)


ONE_LINE = "must be one line of text, without hidden characters."
HIDDEN = "must not contain hidden control characters. Delete them, or type the text again."
NOT_A_NAME = "must only include letters, spaces, hyphens, apostrophes and full stops."


def _cases(kind: str, message: str, *cases: tuple[str, str, str]) -> list:
    return [
        pytest.param(field, value, f"{noun} {message}", id=f"{kind}-{field}")
        for field, value, noun in cases
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    _cases(
        "line break",
        ONE_LINE,
        ("referrer_role", "Social\r\nworker", "Referrer's job title or relationship"),
        ("referrer_organisation", "Norfolk\r\nCouncil", "Referrer's organisation"),
        ("gp_practice_name", "Castle\nSurgery", "GP practice"),
        ("education_setting", "Hill\rSchool", "School, college or other education setting"),
        ("interpreter_language", "British\u2028Sign Language", "Interpreter language"),
        ("consent_given_by", "Sam Smith,\r\nmother", "Who gave consent"),
        ("contact_relationship", "foster\ncarer", "Relationship to the person"),
    )
    + _cases(
        "hidden character",
        HIDDEN,
        ("risks", "Two visits\x1b[2J", "Current risks"),
        ("address", "1 High Street\x00", "Address"),
        ("referrer_address", "1 High Street\u202e", "Referrer's postal address"),
        ("contact_address", "2 Low Road\x07", "Postal address"),
        ("referrer_organisation", "Norfolk\x08 Council", "Referrer's organisation"),
    )
    + _cases(
        "not a name",
        NOT_A_NAME,
        ("given_name", "Alex2", "First name"),
        ("family_name", "<b>Paperform</b>", "Last name"),
        ("referrer_name", "Jo Carer (mum)", "Referrer's full name"),
        ("contact_name", "Alex_Paperform", "Full name"),
    )
    + [
        pytest.param(
            field,
            "ring after 6",
            "Enter a phone number, like 01632 960 001 or 07700 900 982.",
            id=f"not a phone number-{field}",
        )
        for field in ("referrer_phone", "contact_phone")
    ],
)
def test_staff_entry_refuses_what_the_public_steps_refuse_and_writes_nothing(
    staff_client, north, frozen_now, field, value, message
):
    response = staff_client.post(CREATE, _entry(north, **{field: value}))

    assert _refused(response) == [message]


def test_a_name_typed_over_two_lines_gets_one_message_about_the_line_break(
    staff_client, north, frozen_now
):
    response = staff_client.post(CREATE, _entry(north, given_name="John\nSmith"))

    assert _refused(response) == [f"First name {ONE_LINE}"]


def test_staff_entry_accepts_names_in_any_alphabet_with_hyphens_and_apostrophes(
    staff_client, north, frozen_now
):
    response = staff_client.post(
        CREATE, _entry(north, given_name="Zoë-Ann", family_name="O’Brien Łukasz")
    )

    assert response.status_code == 302
    assert Referral.objects.get().family_name == "O’Brien Łukasz"


def test_staff_entry_refuses_a_date_of_birth_of_today(staff_client, north, frozen_now):
    today = {"date_of_birth_day": "10", "date_of_birth_month": "3", "date_of_birth_year": "2026"}
    received_today = {"received_on_day": "10", "received_time": "09:00"}

    response = staff_client.post(CREATE, _entry(north, **today, **received_today))

    assert _refused(response) == ["The date of birth must be in the past."]


def test_staff_entry_stores_a_text_areas_line_breaks_as_lf_like_the_public_steps(
    staff_client, north, frozen_now
):
    staff_client.post(CREATE, _entry(north, risks="Two crisis visits.\r\nOne admission."))

    assert Referral.objects.get().risks == "Two crisis visits.\nOne admission."


def test_a_second_entry_for_the_same_person_is_linked_to_the_first(staff_client, north, frozen_now):
    staff_client.post(CREATE, _entry(north))
    response = staff_client.post(CREATE, _entry(north, nhs_number=""), follow=True)

    first, second = Referral.objects.order_by("id")
    assert second.duplicate_of == first
    assert "already has a live referral" in response.text
    assert [row.referral.pk for row in staff_client.get(QUEUE).context["rows"]] == [first.pk]


# --- The referral page -----------------------------------------------------------------------


def test_the_referral_page_shows_what_was_submitted_history_and_allowed_moves(
    staff_client, referral, frozen_now
):
    response = staff_client.get(_url("detail", referral))

    assert response.status_code == 200
    assert referral.reference in response.text
    assert referral.risks in response.text
    assert response.text.count("<h1>") == 1
    assert _url("start-review", referral) in response.text
    assert _url("decide", referral) in response.text
    assert _url("recipient-add", referral) in response.text
    rows = response.context["transition_rows"]
    assert [(r.from_label, r.to_label) for r in rows] == [("New", "Received")]
    assert [r.name for r in response.context["recipient_rows"]] == [referral.full_name]
    assert AccessEvent.objects.get().detail == {"referral": referral.pk}


def test_a_decided_referral_offers_no_moves_and_shows_its_outbox(staff_client, staff_user, north):
    reviewed = ReviewedReferralFactory(local_authority=north)
    staff_client.post(
        _url("decide", reviewed),
        {
            "decision": "not_eligible",
            "ineligible_reason": "No risk of admission.",
            "signposting": "Your GP.",
            "reasons_told_how": "Phoned the person and explained.",
        },
    )

    # A deadline reminder to the team shares the subject but is not an outcome message.
    Notification.objects.create(
        subject_type=SUBJECT,
        subject_id=reviewed.pk,
        kind="referral_day14",
        recipient_key="team",
        recipient_name="DSR team",
        channel="email",
        email="dsr-team@nhs.example",
    )

    response = staff_client.get(_url("detail", reviewed))

    for move in ("start-review", "request-info", "review", "decide", "recipient-add", "assign"):
        assert _url(move, reviewed) not in response.text, move
    # A family referrer is told only if the person agreed; this one did not.
    assert [n.recipient_name for n in response.context["page"].notifications] == [
        reviewed.full_name
    ]
    assert "Waiting to be sent" in response.text


def test_the_duplicate_guard_lists_matching_people_and_referrals(
    staff_client, staff_user, north, frozen_now
):
    known = PersonFactory(
        local_authority=north, nhs_number=VALID_NHS_NUMBER, given_name="Robin", family_name="Known"
    )
    on_register(known, rating="AMBER", by=staff_user)
    namesake = PersonFactory(
        local_authority=north,
        given_name="Robin",
        family_name="Known",
        date_of_birth=datetime.date(1990, 1, 1),
    )
    earlier = ReviewedReferralFactory(
        local_authority=north,
        given_name="Robin",
        family_name="Known",
        status=Referral.Status.WITHDRAWN,
        decided_at=_days_ago(40),
        decided_by=staff_user,
        withdrawn_reason="Moved away.",
        received_at=_days_ago(60),
    )
    current = ReferralFactory(
        local_authority=north, given_name="robin", family_name="KNOWN", nhs_number=VALID_NHS_NUMBER
    )
    duplicate = ReferralFactory(
        local_authority=north, nhs_number=VALID_NHS_NUMBER, duplicate_of=current
    )

    response = staff_client.get(_url("detail", current))

    page = response.context["page"]
    assert [p.pk for p in page.matching_people] == [known.pk]
    assert namesake.pk not in [p.pk for p in page.matching_people]
    assert [r.pk for r in page.matching_referrals] == [earlier.pk]
    assert [r.pk for r in page.duplicates] == [duplicate.pk]
    assert reverse("dsr:person-detail", kwargs={"pk": known.pk}) in response.text
    assert "943 476 5919" in response.text
    assert '<strong class="nhsuk-tag nhsuk-tag--orange">Amber</strong>' in response.text
    assert _url("detail", earlier) in response.text
    assert _url("detail", duplicate) in response.text


def test_the_page_matches_only_whom_the_decision_would_take_for_the_same_person(
    staff_client, staff_user, north, frozen_now
):
    """A namesake born the same day but with another NHS number is another person: the page
    does not offer them, and adding the referral to the register does not use them."""
    namesake = PersonFactory(
        local_authority=north,
        nhs_number="9434765870",
        given_name="Robin",
        family_name="Known",
        date_of_birth=datetime.date(1990, 1, 1),
    )
    on_register(namesake, rating="AMBER", by=staff_user)
    current = ReviewedReferralFactory(
        local_authority=north,
        given_name="Robin",
        family_name="Known",
        date_of_birth=datetime.date(1990, 1, 1),
        nhs_number=VALID_NHS_NUMBER,
    )

    page = staff_client.get(_url("detail", current)).context["page"]

    assert page.matching_people == []
    assert _register_person(current, staff_user).pk != namesake.pk


def test_a_duplicate_links_back_to_its_first_referral(staff_client, referral, north):
    duplicate = ReferralFactory(local_authority=north, duplicate_of=referral)

    response = staff_client.get(_url("detail", duplicate))

    assert _url("detail", referral) in response.text


def test_the_first_referral_does_not_say_nothing_matches_while_listing_its_duplicates(
    staff_client, referral, north
):
    ReferralFactory(
        local_authority=north,
        duplicate_of=referral,
        given_name=referral.given_name,
        family_name=referral.family_name,
        date_of_birth=referral.date_of_birth,
        nhs_number=referral.nhs_number,
    )

    text = staff_client.get(_url("detail", referral)).text

    assert "No other referral matches, apart from those linked to this one as duplicates" in text
    assert "No other referral matches.</p>" not in text


def _busy(referral, staff_user, count: int) -> None:
    """`count` more contacts and transitions (alternating under review and more information)."""
    status = referral.status
    for i in range(count):
        ReferralContactFactory(referral=referral, role="other", named_by_person=i % 2 == 0)
        to = (
            Referral.Status.MORE_INFO
            if status == Referral.Status.UNDER_REVIEW
            else Referral.Status.UNDER_REVIEW
        )
        ReferralTransition.objects.create(
            referral=referral, from_status=status, to_status=to, by=staff_user
        )
        status = to
    Referral.objects.filter(pk=referral.pk).update(
        status=status, more_info_request="The latest care plan." if status == "more_info" else ""
    )


def test_the_referral_page_runs_the_same_number_of_queries_with_1_and_20_contacts(
    staff_client, staff_user, north, frozen_now, django_assert_max_num_queries
):
    quiet = ReferralFactory(local_authority=north, given_name="Quiet", nhs_number="9434765870")
    busy = ReferralFactory(local_authority=north, given_name="Busy", nhs_number=VALID_NHS_NUMBER)
    _busy(busy, staff_user, 19)
    ReferralAttachmentFactory(referral=quiet)
    ReferralAttachmentFactory.create_batch(5, referral=busy)
    # Each is matched by the duplicate guard: one person on the register at one size, several
    # at the other, and an earlier referral.
    for referral, people in ((quiet, 1), (busy, 3)):
        ReferralFactory(local_authority=north, nhs_number=referral.nhs_number)
        for i in range(people):
            person = PersonFactory(
                local_authority=north,
                given_name=referral.given_name,
                family_name=referral.family_name,
                nhs_number=referral.nhs_number if i == 0 else None,
            )
            on_register(person, by=staff_user)

    small = _queries(staff_client, _url("detail", quiet))
    large = _queries(staff_client, _url("detail", busy))

    record("T1 queries: referral page (1 / 20 contacts and transitions)", f"{small} / {large}")
    assert small == large
    # Measured 19: the 10 of every page (see the queue test); the referral with its area,
    # reviewer, duplicate link, person and decider; its contacts, attachments, transitions with
    # who made them, the referrals linked as duplicates, the matching people and their open
    # entries, the matching referrals; the access-log row. Once decided, one more: the outbox.
    with django_assert_max_num_queries(small):
        staff_client.get(_url("detail", busy))


# --- The moves of the review -----------------------------------------------------------------


def test_starting_the_review_moves_the_referral_and_records_who(staff_client, staff_user, referral):
    response = staff_client.post(_url("start-review", referral))

    assert response["Location"] == _url("detail", referral)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.UNDER_REVIEW
    last = referral.transitions.last()
    assert (last.from_status, last.to_status, last.by) == ("received", "under_review", staff_user)
    # Nobody had it: whoever started the review is now its reviewer, on the page.
    assert referral.assigned_to == staff_user
    page = staff_client.get(_url("detail", referral)).text
    assert staff_user.full_name in page


def test_starting_the_review_keeps_the_reviewer_it_was_given(
    staff_client, staff_user, referral, organisations
):
    from dsr.roles import Role
    from tests.conftest import account

    colleague = account(organisations["icb"], Role.REGISTER_STAFF)
    referral.assigned_to = colleague
    referral.save(update_fields=["assigned_to"])

    staff_client.post(_url("start-review", referral))

    referral.refresh_from_db()
    assert referral.status == Referral.Status.UNDER_REVIEW
    assert referral.assigned_to == colleague


def test_starting_the_review_of_a_decided_referral_is_refused_and_changes_nothing(
    staff_client, staff_user, north
):
    decided = ReviewedReferralFactory(
        local_authority=north,
        status=Referral.Status.WITHDRAWN,
        decided_at=timezone.now(),
        decided_by=staff_user,
        withdrawn_reason="Withdrawn by the family.",
    )
    before = _state(decided)

    response = staff_client.post(_url("start-review", decided))

    assert _errors(response) == ["A referral that is withdrawn cannot be moved to under review."]
    assert _state(decided) == before


def test_asking_for_more_information_keeps_the_clock_running(staff_client, referral, frozen_now):
    page = staff_client.get(_url("request-info", referral))
    response = staff_client.post(
        _url("request-info", referral), {"request": "The latest care plan."}
    )

    assert "The four-week clock keeps running" in page.text
    assert "still due by 7 April 2026." in page.text
    assert response.status_code == 302
    due = referral.decision_due
    referral.refresh_from_db()
    assert referral.status == Referral.Status.MORE_INFO
    assert referral.more_info_request == "The latest care plan."
    assert referral.decision_due == due
    assert referral.transitions.last().reason == "The latest care plan."


def test_asking_for_more_information_needs_the_request(staff_client, referral):
    before = _state(referral)

    response = staff_client.post(_url("request-info", referral), {"request": "  "})

    assert _errors(response) == ["Enter what information is needed."]
    assert _state(referral) == before


def _review(**overrides) -> dict[str, str]:
    data = {
        "held_on_day": "9",
        "held_on_month": "3",
        "held_on_year": "2026",
        "education_participant": "Sam Lee, SENCo",
        "social_care_absent_reason": "The social worker was on leave.",
        "notes": "Agreed the risk is high.",
    }
    data.update(overrides)
    return data


def test_recording_the_review_names_education_and_social_care(
    staff_client, staff_user, north, frozen_now
):
    referral = ReferralFactory(local_authority=north, received_at=_days_ago(5))

    url = _url("review", referral)
    response = staff_client.post(url, {**edit_version(staff_client, url), **_review()})

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.review_held_on == datetime.date(2026, 3, 9)
    assert referral.education_participant == "Sam Lee, SENCo"
    assert referral.social_care_absent_reason == "The social worker was on leave."
    assert referral.status == Referral.Status.UNDER_REVIEW
    assert referral.assigned_to == staff_user  # nobody had it: whoever recorded the review


def test_a_review_must_say_who_took_part_from_each_agency(staff_client, north, frozen_now):
    referral = ReferralFactory(local_authority=north, received_at=_days_ago(5))
    before = _state(referral)

    response = staff_client.post(_url("review", referral), _review(social_care_absent_reason=""))

    assert _errors(response) == ["Name who took part from social care, or say why nobody could."]
    assert _state(referral) == before


def test_a_review_before_the_referral_arrived_is_refused_by_the_service(
    staff_client, north, frozen_now
):
    referral = ReferralFactory(local_authority=north, received_at=_days_ago(5))
    before = _state(referral)

    url = _url("review", referral)
    response = staff_client.post(
        url, {**edit_version(staff_client, url), **_review(held_on_day="1")}
    )

    assert _errors(response) == ["The review date must be between the date received and today."]
    assert _state(referral) == before


def test_assigning_offers_referral_staff_of_the_same_organisation_and_can_unassign(
    personas, referral
):
    client = personas["clients"]["register_staff"]
    lead = personas["users"]["dsr_lead"]

    choices = client.get(_url("assign", referral)).context["form"].fields["reviewer"].queryset
    url = _url("assign", referral)
    client.post(url, {**edit_version(client, url), "reviewer": lead.pk})
    referral.refresh_from_db()
    assigned = referral.assigned_to
    client.post(url, {**edit_version(client, url), "reviewer": ""})
    referral.refresh_from_db()

    # Everyone active in the ICB holding referral work (the password-only persona, and the one
    # signed in through a provider without multi-factor, are register staff too); not the
    # deactivated account, and no other role.
    users = personas["users"]
    assert set(choices) == {
        users["register_staff"],
        lead,
        users["password_only"],
        users["provider_single_factor"],
    }
    assert assigned == lead
    assert referral.assigned_to is None


def test_assigning_someone_without_referral_work_is_refused(personas, referral):
    client = personas["clients"]["register_staff"]
    outsider = personas["users"]["planning_commissioner"]  # same ICB, no referral work

    response = client.post(_url("assign", referral), {"reviewer": outsider.pk})

    assert _errors(response) == ["Choose a reviewer from the list."]
    referral.refresh_from_db()
    assert referral.assigned_to is None


def _not_eligible(**overrides) -> dict[str, str]:
    data = {
        "decision": "not_eligible",
        "ineligible_reason": "Alex is not at risk of going into hospital.",
        "signposting": "The local autism hub can help: call 01603 000000.",
    }
    data.update(overrides)
    return data


def test_deciding_not_eligible_writes_one_outcome_message_per_recipient(
    staff_client, staff_user, north, frozen_now
):
    referral = ReviewedReferralFactory(local_authority=north, outcome_to_referrer=True)
    ReferralContactFactory(
        referral=referral,
        role="parent_carer",
        name="Chris Carer",
        named_by_person=True,
        email="",
        address="2 Low Road, Norwich NR2 4AB",
    )
    expected = {r.key for r in outcome_recipients(referral)}

    response = staff_client.post(_url("decide", referral), _not_eligible())

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.NOT_ELIGIBLE
    assert referral.decided_by == staff_user
    messages = Notification.objects.filter(subject_type=SUBJECT, subject_id=referral.pk)
    assert {m.recipient_key for m in messages} == expected
    assert len(expected) == 3  # the person, the carer they named, the referrer
    for message in messages:
        assert message.context["reason"] == "Alex is not at risk of going into hospital."
        assert message.context["signposting"] == "The local autism hub can help: call 01603 000000."
        assert message.status == Notification.Status.PENDING
    assert {m.channel for m in messages} == {"email", "letter"}


def test_the_decision_page_lists_who_will_be_told_and_warns_when_nobody_would_be(
    staff_client, north
):
    told = ReviewedReferralFactory(local_authority=north)
    nobody = ReviewedReferralFactory(local_authority=north, contact=False, referrer_email="")

    assert told.full_name in staff_client.get(_url("decide", told)).text
    assert "Nobody would be told" in staff_client.get(_url("decide", nobody)).text


def test_deciding_with_nobody_to_tell_is_refused_and_changes_nothing(staff_client, north):
    referral = ReviewedReferralFactory(local_authority=north, contact=False, referrer_email="")
    before = _state(referral)

    response = staff_client.post(_url("decide", referral), _not_eligible())

    assert _errors(response) == [
        "Nobody would be told this outcome. Add someone to tell before deciding."
    ]
    assert _state(referral) == before


def test_deciding_added_before_the_review_is_refused_and_changes_nothing(staff_client, referral):
    before = _state(referral)

    response = staff_client.post(
        _url("decide", referral),
        {"decision": "added", "rating": "AMBER", "rationale": "Two crises this month."},
    )

    assert _errors(response) == ["Record the review with education and social care first."]
    assert _state(referral) == before
    assert not Person.objects.exists()


def test_deciding_an_already_decided_referral_is_refused_and_changes_nothing(staff_client, north):
    referral = ReviewedReferralFactory(local_authority=north)
    staff_client.post(
        _url("decide", referral), _not_eligible(reasons_told_how="Phoned the person and explained.")
    )
    before = _state(referral)

    response = staff_client.post(
        _url("decide", referral), {"decision": "withdrawn", "withdrawn_reason": "Changed mind."}
    )

    assert _errors(response) == ["This referral has already been decided."]
    assert _state(referral) == before


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, ["Choose a decision."]),
        (
            {"decision": "added"},
            ["Choose the initial rating.", "Enter the reason for the rating."],
        ),
        (_not_eligible(signposting=""), ["Enter where else the person can get help."]),
        ({"decision": "withdrawn"}, ["Enter why the referral was withdrawn."]),
        (
            {"decision": "added", "rating": "BLUE", "rationale": "x"},
            ["Choose a rating from the list."],
        ),
    ],
)
def test_each_decision_asks_for_what_it_needs(staff_client, north, data, errors):
    referral = ReviewedReferralFactory(local_authority=north)
    before = _state(referral)

    response = staff_client.post(_url("decide", referral), data)

    assert _errors(response) == errors
    assert _state(referral) == before


def test_deciding_added_after_the_review_puts_the_person_on_the_register(
    staff_client, north, frozen_now
):
    referral = ReviewedReferralFactory(local_authority=north, nhs_number=VALID_NHS_NUMBER)

    response = staff_client.post(
        _url("decide", referral),
        {"decision": "added", "rating": "AMBER", "rationale": "Two crises this month."},
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ADDED
    assert referral.initial_rating == "AMBER"
    entry = RegisterEntry.objects.get(person=referral.person)
    assert (entry.status, entry.rating) == ("open", "AMBER")
    assert referral.person.nhs_number == VALID_NHS_NUMBER
    page = staff_client.get(_url("detail", referral))
    assert '<strong class="nhsuk-tag nhsuk-tag--orange">Amber</strong>' in page.text


def test_a_best_interests_referral_is_added_with_who_decided_and_when_capacity_was_assessed(
    staff_client, north, frozen_now
):
    from dsr.models import Consent

    referral = ReviewedReferralFactory(
        local_authority=north,
        nhs_number=VALID_NHS_NUMBER,
        consent_basis=Referral.ConsentBasis.BEST_INTERESTS,
        consent_given_by="Sam Carer",
    )
    decision = {"decision": "added", "rating": "AMBER", "rationale": "Two crises this month."}
    # Without who made the best-interests decision and when capacity was assessed: both asked
    # for on the page, nothing written.
    refused = staff_client.post(_url("decide", referral), decision)
    assert refused.status_code == 200
    assert "Enter who made the best-interests decision." in refused.text
    assert "Enter the date capacity was assessed." in refused.text
    referral.refresh_from_db()
    assert referral.status != Referral.Status.ADDED and referral.person is None

    response = staff_client.post(
        _url("decide", referral),
        {
            **decision,
            "decision_maker": "Dr Ali Patel, consultant psychiatrist",
            "capacity_assessed_on_day": "2",
            "capacity_assessed_on_month": "3",
            "capacity_assessed_on_year": "2026",
        },
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ADDED
    consent = Consent.objects.get(person=referral.person, ended_on__isnull=True)
    assert consent.basis == "best_interests"
    assert consent.decision_maker == "Dr Ali Patel, consultant psychiatrist"
    assert consent.capacity_assessed_on == datetime.date(2026, 3, 2)


def test_the_best_interests_questions_appear_only_for_a_best_interests_referral(
    staff_client, north
):
    page = staff_client.get(_url("decide", ReviewedReferralFactory(local_authority=north)))
    assert "best-interests decision" not in page.text


def test_withdrawing_needs_no_review(staff_client, referral):
    response = staff_client.post(
        _url("decide", referral), {"decision": "withdrawn", "withdrawn_reason": "Moved away."}
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.WITHDRAWN
    assert referral.withdrawn_reason == "Moved away."


# --- Who is told -----------------------------------------------------------------------------


def test_staff_add_someone_to_tell_with_a_reason(staff_client, staff_user, referral):
    response = staff_client.post(
        _url("recipient-add", referral),
        {
            "name": "Dana Advocate",
            "relationship": "Advocate",
            "address": "3 Mill Lane, Norwich NR3 1HG",
            "preferred_format": "large_print",
            "prefers_letter": "on",
            "reason": "Alex asked for their advocate to be told.",
        },
    )

    assert response.status_code == 302
    added = referral.contacts.get(name="Dana Advocate")
    assert (added.override, added.added_by, added.preferred_format) == (
        "include",
        staff_user,
        "large_print",
    )
    page = staff_client.get(_url("detail", referral))
    assert "Dana Advocate" in [r.name for r in page.context["recipient_rows"]]


def test_adding_someone_to_tell_needs_a_way_to_reach_them(staff_client, referral):
    before = _state(referral)

    response = staff_client.post(
        _url("recipient-add", referral),
        {"name": "Dana", "preferred_format": "standard", "reason": "Asked to be told."},
    )

    assert _errors(response) == ["Enter an email address or a postal address."]
    assert _state(referral) == before


def test_staff_take_someone_off_the_outcome_list_with_a_reason(staff_client, referral):
    contact = referral.contacts.get()

    url = _url("recipient-change", referral, contact_pk=contact.pk)
    response = staff_client.post(
        url,
        {
            **edit_version(staff_client, url),
            "include": "no",
            "reason": "A best-interests decision names a representative.",
        },
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.override, contact.override_reason) == (
        "exclude",
        "A best-interests decision names a representative.",
    )
    page = staff_client.get(_url("detail", referral))
    assert contact.name not in [r.name for r in page.context["recipient_rows"]]


def test_changing_who_is_told_after_the_decision_is_refused(staff_client, north):
    referral = ReviewedReferralFactory(local_authority=north)
    staff_client.post(
        _url("decide", referral), _not_eligible(reasons_told_how="Phoned the person and explained.")
    )
    contact = referral.contacts.get()
    before = _state(referral)

    url = _url("recipient-change", referral, contact_pk=contact.pk)
    response = staff_client.post(
        url, {**edit_version(staff_client, url), "include": "no", "reason": "Too late."}
    )

    assert _errors(response) == ["The outcome has already been sent."]
    assert _state(referral) == before


def test_a_contact_of_another_referral_is_404(staff_client, referral, north):
    other = ReferralFactory(local_authority=north)

    response = staff_client.get(
        _url("recipient-change", referral, contact_pk=other.contacts.get().pk)
    )

    assert response.status_code == 404


# --- Attachments -----------------------------------------------------------------------------


def test_an_attachment_downloads_under_a_safe_name_with_its_checked_type(staff_client, referral):
    attachment = ReferralAttachmentFactory(referral=referral, original_name='../../care "plan".pdf')

    response = staff_client.get(_url("attachment", referral, attachment_pk=attachment.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="care _plan_.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"%PDF-1.4\n% a care plan\n%%EOF\n"
    event = AccessEvent.objects.get()
    assert event.detail == {"referral": referral.pk, "attachment": attachment.pk}


def test_an_attachment_of_another_referral_is_404(staff_client, referral, north):
    other = ReferralAttachmentFactory(referral=ReferralFactory(local_authority=north))

    response = staff_client.get(_url("attachment", referral, attachment_pk=other.pk))

    assert response.status_code == 404
    assert not AccessEvent.objects.exists()


def test_an_attachment_with_an_odd_stored_type_downloads_as_plain_bytes(staff_client, referral):
    attachment = ReferralAttachmentFactory(referral=referral, content_type="text/html\r\nX: y")

    response = staff_client.get(_url("attachment", referral, attachment_pk=attachment.pk))

    assert response["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("original", "offered"),
    [
        ("care plan.pdf", "care plan.pdf"),
        ("C:\\Users\\me\\letter.docx", "letter.docx"),
        (".htaccess", "htaccess"),
        ("переписка.pdf", "_.pdf"),
        ("", "attachment"),
        ("a" * 150 + ".pdf", "a" * 96 + ".pdf"),
    ],
)
def test_download_names_keep_only_safe_characters(original, offered):
    assert download_name(original) == offered


# --- A professional referrer's own referrals -------------------------------------------------


def test_a_professional_referrer_sees_only_their_own_referrals_and_their_outcome(
    personas, north, frozen_now
):
    referrer = personas["users"]["professional_referrer"]
    other = personas["users"]["professional_referrer_other"]
    own_live = ReferralFactory(local_authority=north, submitted_by=referrer, family_name="Ownlive")
    own_decided = ReviewedReferralFactory(
        local_authority=north,
        submitted_by=referrer,
        status=Referral.Status.WITHDRAWN,
        decided_at=timezone.now(),
        decided_by=personas["users"]["register_staff"],
        withdrawn_reason="Moved away.",
    )
    someone_elses = ReferralFactory(local_authority=north, submitted_by=other)

    response = personas["clients"]["professional_referrer"].get(MINE)

    assert [r.referral.pk for r in response.context["rows"]] == [own_decided.pk, own_live.pk]
    assert own_live.reference in response.text and own_decided.reference in response.text
    assert someone_elses.reference not in response.text
    assert "Withdrawn" in response.text and "10 Mar 2026" in response.text
    # Status and outcome only (ACCESS.md): no names, risks or reasons.
    for private in (own_live.family_name, own_live.risks, "Moved away."):
        assert private not in response.text
    # And no way into the staff pages.
    client = personas["clients"]["professional_referrer"]
    assert client.get(_url("detail", own_live)).status_code == 403
