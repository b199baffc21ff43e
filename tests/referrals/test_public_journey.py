"""The public referral journey through the HTTP client: start to confirmation, going back and
forth, double submits, the honeypot, rate limits, consent and attachments."""

import datetime
import threading

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from referrals.forms.contact_steps import NO_CONSENT_MESSAGE
from referrals.forms.public import STEP_SLUGS
from referrals.models import Referral, ReferralContact
from referrals.recipients import outcome_recipients
from tests.conftest import signed_in_client
from tests.referrals.helpers import (
    FAMILY_NAME,
    GIVEN_NAME,
    answers_for,
    small_docx,
    small_pdf,
    small_png,
    step_url,
    submit,
    token_from,
    walk,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _html(response) -> str:
    return response.content.decode()


# --- The whole journey ---------------------------------------------------------------------------


def test_self_referral_journey_writes_one_referral_with_the_answers_given(
    client, areas, frozen_now
):
    assert client.get(reverse("pages:start")).status_code == 200
    start = client.get(reverse("referrals:start"))
    assert reverse("referrals:who") in _html(start)
    who = client.post(reverse("referrals:who"), {"who": "self"})
    assert who["Location"] == step_url("self", "about-you")
    answers = answers_for("self", areas["north"].pk)

    walk(client, "self", answers)
    check = client.get(reverse("referrals:check"))
    assert check.status_code == 200
    assert GIVEN_NAME in _html(check)  # the person's own answers, shown back to them
    assert Referral.objects.count() == 0

    done = submit(client, token_from(client))
    assert done["Location"] == reverse("referrals:confirmation")
    referral = Referral.objects.get()
    assert referral.referrer_kind == "self"
    assert referral.source == "online"
    assert referral.submitted_by is None
    assert referral.given_name == GIVEN_NAME
    assert referral.family_name == FAMILY_NAME
    assert referral.date_of_birth == datetime.date(2004, 2, 14)
    assert referral.nhs_number == "9434765919"
    assert referral.postcode == "NR1 2DH"
    assert referral.local_authority == areas["north"]
    assert referral.diagnosis == "autism"
    assert referral.co_occurring == ["adhd", "epilepsy"]
    assert referral.risk_factors == ["crisis", "breakdown"]
    assert referral.has_ehcp == "yes"
    assert referral.accessible_formats == ["easy_read"]
    assert referral.referrer_name == f"{GIVEN_NAME} {FAMILY_NAME}"
    assert referral.referrer_email == "alex@example.com"
    assert referral.referrer_address == "1 High Street\nNorwich\nNR1 2DH"
    assert referral.consent_to_referral is True
    assert referral.consent_to_share is True
    assert referral.consent_basis == "own_consent"
    assert referral.outcome_to_referrer is True
    assert referral.received_at == datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.UTC)
    assert referral.decision_due == datetime.date(2026, 3, 10) + datetime.timedelta(days=28)

    contacts = {c.role: c for c in referral.contacts.all()}
    assert set(contacts) == {"person", "parent_carer"}
    assert contacts["person"].email == "alex@example.com"
    assert contacts["person"].address == "1 High Street\nNorwich\nNR1 2DH"
    assert contacts["person"].preferred_format == "easy_read"
    assert contacts["parent_carer"].name == "Jo Carer"
    assert contacts["parent_carer"].has_parental_responsibility is False
    assert contacts["parent_carer"].preferred_format == "easy_read"

    confirmation = client.get(reverse("referrals:confirmation"))
    assert referral.reference in _html(confirmation)
    assert "7 April 2026" in _html(confirmation)
    assert "10 March 2026" in _html(confirmation)
    assert client.session.get("referral_draft") is None


def test_professional_journey_records_the_referrer_and_their_work_details(client, areas):
    walk(client, "professional", answers_for("professional", areas["south"].pk))
    submit(client, token_from(client))

    referral = Referral.objects.get()
    assert referral.referrer_kind == "professional"
    assert referral.referrer_name == "Pat Professional"
    assert referral.referrer_role == "Community learning disability nurse"
    assert referral.referrer_organisation == "Test NHS Trust"
    assert referral.referrer_email == "pat.professional@nhs.net"
    assert referral.consent_basis == "best_interests"
    assert referral.consent_given_by == "Dr Lee, consultant psychiatrist"
    assert referral.outcome_to_referrer is False  # not asked: professionals are always told
    assert [c.role for c in referral.contacts.all()] == ["person"]


def test_family_journey_makes_the_referrer_a_parent_contact(client, areas):
    walk(client, "family", answers_for("family", "not_sure"))
    submit(client, token_from(client))

    referral = Referral.objects.get()
    assert referral.local_authority is None
    assert referral.referrer_role == "Father"
    assert referral.outcome_to_referrer is True
    carer = referral.contacts.get(role=ReferralContact.Role.PARENT_CARER)
    assert carer.name == "Sam Parent"
    assert carer.has_parental_responsibility is True
    assert carer.named_by_person is True


def test_a_signed_in_professional_referrer_is_recorded_as_the_submitter(personas, areas):
    user = personas["users"]["professional_referrer"]
    client = signed_in_client(user)
    walk(client, "professional", answers_for("professional", areas["north"].pk))
    submit(client, token_from(client))

    assert Referral.objects.get().submitted_by == user


def test_a_signed_in_user_without_a_second_factor_submits_anonymously(personas, areas):
    client = personas["clients"]["password_only"]
    walk(client, "professional", answers_for("professional", areas["north"].pk))
    submit(client, token_from(client))

    assert Referral.objects.get().submitted_by is None


# --- Going back and forth ------------------------------------------------------------------------


def test_answers_survive_going_back_to_an_earlier_step(client, areas):
    answers = answers_for("self", areas["north"].pk)
    walk(client, "self", answers, until="risks")

    person_page = _html(client.get(step_url("self", "person")))

    assert f'value="{GIVEN_NAME}"' in person_page
    assert 'value="2004"' in person_page
    assert f'value="{areas["north"].pk}" checked' in person_page or (
        f'value="{areas["north"].pk}"' in person_page and "checked" in person_page
    )
    diagnosis_page = _html(client.get(step_url("self", "diagnosis")))
    assert 'value="adhd" checked' in diagnosis_page


def test_answers_survive_a_validation_error_on_the_page(client, areas):
    answers = answers_for("self", areas["north"].pk)
    walk(client, "self", answers, until="person")
    bad = answers["person"] | {"postcode": "NOT A POSTCODE"}

    response = client.post(step_url("self", "person"), bad)

    assert response.status_code == 200
    page = _html(response)
    assert "There is a problem" in page
    assert "Enter a real postcode, like NR1 2DH." in page
    assert f'value="{GIVEN_NAME}"' in page
    assert 'value="NOT A POSTCODE"' in page
    assert Referral.objects.count() == 0


def test_an_earlier_answer_kept_after_a_later_page_fails(client, areas):
    answers = answers_for("self", areas["north"].pk)
    walk(client, "self", answers, until="risks")
    client.post(step_url("self", "risks"), answers["risks"] | {"risks": ""})

    assert f'value="{GIVEN_NAME}"' in _html(client.get(step_url("self", "person")))


def test_change_link_returns_to_the_check_page(client, areas):
    answers = answers_for("self", areas["north"].pk)
    walk(client, "self", answers)
    check = _html(client.get(reverse("referrals:check")))
    assert step_url("self", "support") + "?change=1" in check

    response = client.post(
        step_url("self", "support") + "?change=1",
        answers["support"] | {"education_setting": "Southshire Academy"},
    )

    assert response["Location"] == reverse("referrals:check")
    assert "Southshire Academy" in _html(client.get(reverse("referrals:check")))


def test_nothing_is_written_before_the_final_submit(client, areas):
    answers = answers_for("family", areas["north"].pk)
    client.post(reverse("referrals:who"), {"who": "family"})
    for slug in STEP_SLUGS:
        client.post(step_url("family", slug), answers[slug])
        assert Referral.objects.count() == 0
    client.get(reverse("referrals:check"))
    assert Referral.objects.count() == 0
    assert ReferralContact.objects.count() == 0


def test_a_step_out_of_order_sends_the_user_to_the_first_unanswered_step(client, areas):
    answers = answers_for("self", areas["north"].pk)
    walk(client, "self", answers, until="diagnosis")

    response = client.get(step_url("self", "support"))

    assert response["Location"] == step_url("self", "diagnosis")


def test_the_check_page_without_answers_sends_the_user_to_the_start(client):
    assert client.get(reverse("referrals:check"))["Location"] == reverse("referrals:start")


@pytest.mark.parametrize(
    ("kind", "step"), [("stranger", "person"), ("self", "favourite-colour"), ("SELF", "person")]
)
def test_unknown_kind_or_step_is_not_found(client, kind, step):
    assert client.get(step_url(kind, step)).status_code == 404


def test_who_needs_an_answer(client):
    response = client.post(reverse("referrals:who"), {})

    assert response.status_code == 200
    assert "Choose whether you are referring yourself or someone you care for." in _html(response)


def test_public_pages_are_never_cached(client, areas):
    walk(client, "self", answers_for("self", areas["north"].pk))
    for url in [
        reverse("referrals:start"),
        reverse("referrals:who"),
        step_url("self", "person"),
        reverse("referrals:check"),
        reverse("referrals:confirmation"),
        reverse("referrals:printable"),
    ]:
        assert "no-store" in client.get(url)["Cache-Control"], url


# --- Double submits ------------------------------------------------------------------------------


def test_the_same_token_twice_makes_one_referral_and_the_same_confirmation(client, areas):
    walk(client, "self", answers_for("self", areas["north"].pk))
    token = token_from(client)

    answers = [submit(client, token) for _ in range(5)]

    assert {a["Location"] for a in answers} == {reverse("referrals:confirmation")}
    assert Referral.objects.count() == 1
    assert Referral.objects.get().reference in _html(client.get(reverse("referrals:confirmation")))


@pytest.mark.django_db(transaction=True)
def test_four_submits_at_once_make_one_referral(areas):
    client = Client()
    walk(client, "self", answers_for("self", areas["north"].pk))
    token = token_from(client)
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    barrier = threading.Barrier(4)
    answers: list[int] = []

    def post() -> None:
        twin = Client()
        twin.cookies[settings.SESSION_COOKIE_NAME] = session_cookie
        barrier.wait()
        try:
            answers.append(submit(twin, token).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [302] * 4
    assert Referral.objects.count() == 1
    assert ReferralContact.objects.count() == 2


# --- Privacy of the confirmation ---------------------------------------------------------------


def test_confirmation_shows_no_name_or_date_of_birth(client, areas):
    walk(client, "self", answers_for("self", areas["north"].pk))
    submit(client, token_from(client))

    page = _html(client.get(reverse("referrals:confirmation")))

    assert Referral.objects.get().reference in page
    for personal in [GIVEN_NAME, FAMILY_NAME, "14 February 2004", "2004-02-14", "9434765919"]:
        assert personal not in page


def test_confirmation_without_a_submission_says_there_is_nothing_to_show(client):
    response = client.get(reverse("referrals:confirmation"))

    assert response.status_code == 200
    assert "There is no referral to show" in _html(response)


# --- Abuse ---------------------------------------------------------------------------------------


def test_honeypot_filled_writes_nothing_and_answers_a_generic_400(client, areas):
    walk(client, "self", answers_for("self", areas["north"].pk))

    response = submit(client, token_from(client), website="http://spam.example")

    assert response.status_code == 400
    assert "Sorry, there is a problem with the service" in _html(response)
    assert Referral.objects.count() == 0


def test_the_check_page_carries_a_hidden_honeypot(client, areas):
    walk(client, "self", answers_for("self", areas["north"].pk))

    page = _html(client.get(reverse("referrals:check")))

    assert '<div class="dsr-honeypot" aria-hidden="true">' in page
    assert 'name="website" tabindex="-1" autocomplete="off"' in page
    assert "Leave this empty" in page


@override_settings(REFERRAL_SUBMISSIONS_PER_HOUR=2)
def test_submissions_past_the_hourly_limit_get_429_and_write_nothing(client, areas, frozen_now):
    answers = answers_for("self", areas["north"].pk)
    statuses = []
    for _ in range(3):
        walk(client, "self", answers)
        statuses.append(submit(client, token_from(client)).status_code)

    assert statuses == [302, 302, 429]
    assert Referral.objects.count() == 2

    frozen_now.shift(datetime.timedelta(hours=1, minutes=1))
    walk(client, "self", answers)
    assert submit(client, token_from(client)).status_code == 302
    assert Referral.objects.count() == 3


@override_settings(REFERRAL_POSTS_PER_HOUR=3)
def test_public_posts_past_the_hourly_limit_get_429(client, areas, frozen_now):
    answers = answers_for("self", areas["north"].pk)
    statuses = [client.post(step_url("self", "about-you"), answers["about-you"]).status_code]
    statuses += [client.post(reverse("referrals:who"), {"who": "self"}).status_code]
    statuses += [client.post(step_url("self", "person"), answers["person"]).status_code]
    over = client.post(step_url("self", "diagnosis"), answers["diagnosis"])

    assert statuses == [302, 302, 302]
    assert over.status_code == 429
    assert "Sorry, you have sent too many forms" in _html(over)
    assert over["Retry-After"] == "3600"


def test_rate_limits_count_each_address_separately(client, areas, frozen_now):
    answers = answers_for("self", areas["north"].pk)
    with override_settings(REFERRAL_POSTS_PER_HOUR=1):
        first = client.post(step_url("self", "about-you"), answers["about-you"])
        second = client.post(step_url("self", "about-you"), answers["about-you"])
        elsewhere = Client(REMOTE_ADDR="203.0.113.9").post(
            step_url("self", "about-you"), answers["about-you"]
        )

    assert (first.status_code, second.status_code, elsewhere.status_code) == (302, 429, 302)


def test_consent_no_stops_the_referral_being_sent(client, areas):
    answers = answers_for("self", areas["north"].pk)
    walk(client, "self", answers, until="consent")

    response = client.post(
        step_url("self", "consent"), answers["consent"] | {"consent_to_referral": "no"}
    )

    assert response.status_code == 200
    assert NO_CONSENT_MESSAGE in _html(response)
    # The check page cannot be reached, and a forged submit is sent back to the consent page.
    assert client.get(reverse("referrals:check"))["Location"] == step_url("self", "consent")
    forged = submit(client, "00000000-0000-4000-8000-000000000000")
    assert forged["Location"] == step_url("self", "consent")
    assert Referral.objects.count() == 0


def test_a_stale_token_is_not_submitted(client, areas):
    walk(client, "self", answers_for("self", areas["north"].pk))
    token_from(client)

    response = submit(client, "00000000-0000-4000-8000-000000000000")

    assert response["Location"] == reverse("referrals:check")
    assert Referral.objects.count() == 0


# --- Attachments ---------------------------------------------------------------------------------


def test_a_pdf_a_png_and_a_docx_are_accepted_and_stored(client, areas):
    walk(client, "self", answers_for("self", areas["north"].pk))
    # Made once: a zip carries the second it was written, so a second small_docx() may differ.
    contents = [small_pdf(), small_png(), small_docx()]
    files = [
        SimpleUploadedFile("care plan.pdf", contents[0], content_type="application/pdf"),
        SimpleUploadedFile("photo.png", contents[1], content_type="image/png"),
        SimpleUploadedFile("letter.docx", contents[2], content_type="application/octet-stream"),
    ]

    response = submit(client, token_from(client), attachments=files)

    assert response.status_code == 302
    stored = list(Referral.objects.get().attachments.order_by("id"))
    assert [a.content_type for a in stored] == [
        "application/pdf",
        "image/png",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ]
    assert [a.original_name for a in stored] == ["care plan.pdf", "photo.png", "letter.docx"]
    for attachment, content in zip(stored, contents, strict=True):
        assert attachment.stored_name not in ("care plan.pdf", "photo.png", "letter.docx")
        with default_storage.open(attachment.file.name) as handle:
            assert handle.read() == content


@pytest.mark.parametrize(
    ("name", "content", "claimed_type", "message"),
    [
        (
            "report.pdf",
            b"<!DOCTYPE html><html><script>alert(1)</script></html>",
            "application/pdf",
            "report.pdf must be a PDF, a Word document (.doc or .docx), a JPEG or a PNG.",
        ),
        (
            "letter.docx",
            b"MZ\x90\x00\x03" + b"\x00" * 200,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "letter.docx must be a PDF, a Word document (.doc or .docx), a JPEG or a PNG.",
        ),
        (
            "drawing.png",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/png",
            "drawing.png must be a PDF, a Word document (.doc or .docx), a JPEG or a PNG.",
        ),
        (
            "huge.pdf",
            b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024),
            "application/pdf",
            "huge.pdf must be smaller than 10MB.",
        ),
    ],
    ids=["html-named-pdf", "exe-named-docx", "svg-named-png", "eleven-megabytes"],
)
def test_a_dangerous_or_oversized_file_is_refused_with_an_error(
    client, areas, name, content, claimed_type, message
):
    walk(client, "self", answers_for("self", areas["north"].pk))

    response = submit(
        client,
        token_from(client),
        attachments=[SimpleUploadedFile(name, content, content_type=claimed_type)],
    )

    assert response.status_code == 200
    page = _html(response)
    assert "There is a problem" in page
    assert message in page
    assert Referral.objects.count() == 0


def test_more_than_three_files_are_refused(client, areas):
    walk(client, "self", answers_for("self", areas["north"].pk))
    files = [SimpleUploadedFile(f"{n}.pdf", small_pdf()) for n in range(4)]

    response = submit(client, token_from(client), attachments=files)

    assert "Select up to 3 files." in _html(response)
    assert Referral.objects.count() == 0


def test_the_outcome_rule_tells_the_people_a_self_referral_names(client, areas, frozen_now):
    walk(client, "self", answers_for("self", areas["north"].pk))
    submit(client, token_from(client))

    recipients = outcome_recipients(Referral.objects.get())

    # The person (22) and the carer they named; the referrer is the person, so told once.
    assert sorted((r.role, r.email, r.accessible_format) for r in recipients) == [
        ("Mother", "jo@example.com", "easy_read"),
        ("The person referred", "alex@example.com", "easy_read"),
    ]


def test_the_outcome_rule_tells_a_professional_and_the_person_by_letter(client, areas):
    walk(client, "professional", answers_for("professional", areas["north"].pk))
    submit(client, token_from(client))

    recipients = outcome_recipients(Referral.objects.get())

    assert sorted((r.key, r.channel) for r in recipients) == [
        ("contact-" + str(Referral.objects.get().contacts.get().pk), "letter"),
        ("referrer", "email"),
    ]


def test_the_check_page_shows_not_sure_for_an_unknown_council_area(client):
    walk(client, "family", answers_for("family", "not_sure"))

    assert "I&#x27;m not sure" in _html(client.get(reverse("referrals:check")))
