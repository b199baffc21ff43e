"""Property-based tests of every public form, through the HTTP client (RELIABILITY C-1).

Each form gets 300 examples (FUZZ in tests/input/strategies.py), half valid answers drawn
across the whole range a person may type, half valid answers with hostile values put into some
fields (any Unicode, control characters, NUL, bidirectional overrides, markup, SQL-ish and
template strings, very long strings, odd numbers and dates, duplicate parameters, fields left
out). The properties:

- no answer is ever a 5xx;
- a refused page is a 200 with the NHS.UK error summary, shows no markup unescaped, and writes
  nothing (row counts and the stored draft unchanged); 400 only for a body over the upload limit;
- valid answers are always accepted, and what is stored is exactly what was typed (white space
  around a text removed, CRLF line breaks stored as LF).

The referral steps store answers in the session (nothing reaches the database before the check
page), so their round trip is the session's draft; the check page's is the referral row.
"""

import datetime
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from dsr.models import AccessibleFormat, CoOccurring, Diagnosis, RiskFactor
from dsr.nhsuk.validators import postal_address
from referrals.forms.public import STEP_SLUGS, STEPS_BY_SLUG
from referrals.models import Referral, ReferralContact
from reviews.models import CetrRequest
from tests.figures import record
from tests.input.strategies import (
    FUZZ,
    MINIMUM_EXAMPLES,
    Tried,
    as_received,
    date_parts,
    email_address,
    free_text,
    hostile_changes,
    hostile_text,
    hostile_value,
    name_text,
    nhs_number,
    no_unescaped_markup,
    normalised,
    odd_date_parts,
    phone_number,
    post_data,
    postal_address_text,
    postcode,
    row_counts,
    short_text,
    subset,
)
from tests.referrals.helpers import answers_for, step_url, walk

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("_no_limits"),
]

ERROR_SUMMARY = '<h2 class="nhsuk-error-summary__heading">There is a problem</h2>'
KINDS = ("self", "family", "professional")
DRAFT = "referral_draft"


@pytest.fixture
def _no_limits():
    """The per-hour limits are for people; these tests send thousands of forms."""
    cache.clear()
    with override_settings(
        REFERRAL_POSTS_PER_HOUR=10**9,
        REFERRAL_SUBMISSIONS_PER_HOUR=10**9,
        CETR_REQUEST_POSTS_PER_HOUR=10**9,
        CETR_REQUEST_SUBMISSIONS_PER_HOUR=10**9,
    ):
        yield
    cache.clear()


def _today() -> datetime.date:
    return timezone.localdate()


def _optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.just(""), strategy)


def _typed(pair_strategy: st.SearchStrategy) -> st.SearchStrategy:
    return pair_strategy.map(lambda pair: pair[0])


# --- Valid answers for each step of the referral -------------------------------------------------


def _carer(allow_letter: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    def build(name, relationship, email, phone, address, responsibility, fmt, letter):
        data = {
            "has_carer": "yes",
            "carer_name": name,
            "carer_relationship": relationship,
            "carer_email": email,
            "carer_phone": phone,
            "carer_address": address,
            "carer_parental_responsibility": responsibility,
            "carer_format": fmt,
        }
        if not normalised(email) and not normalised(address):
            data["carer_email"] = "carer@example.org"
        if letter and allow_letter and normalised(address):
            data["carer_prefers_letter"] = "on"
        return data

    return st.builds(
        build,
        name_text(100),
        short_text(60),
        _optional(email_address()),
        _optional(phone_number()),
        _optional(postal_address_text(500)),
        st.sampled_from(["yes", "no"]),
        st.sampled_from(["", *ReferralContact.Format.values]),
        st.booleans(),
    )


def _no_carer() -> st.SearchStrategy[dict[str, Any]]:
    return st.just({"has_carer": "no"})


_fixed = st.fixed_dictionaries


def _about_you(kind: str, area_pks: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    if kind == "self":
        return _fixed(
            {
                "referrer_email": _optional(email_address()),
                "referrer_phone": _optional(phone_number()),
            }
        )
    common = {
        "referrer_name": name_text(100),
        "referrer_phone": _optional(phone_number()),
        "referrer_address": _optional(postal_address_text(500)),
    }
    if kind == "family":
        return _fixed(
            common
            | {
                "referrer_relationship": short_text(60, required=True),
                "referrer_email": email_address(),
            }
        )
    return _fixed(
        common
        | {
            "referrer_role": short_text(150, required=True),
            "referrer_organisation": short_text(150, required=True),
            "referrer_email": email_address(personal_ok=False),
        }
    )


def _person(kind: str, area_pks: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    today = _today()
    born = st.dates(
        min_value=datetime.date(today.year - 120, 1, 1),
        max_value=today - datetime.timedelta(days=1),
    )
    return st.builds(
        lambda parts, rest: parts | rest,
        born.map(lambda d: date_parts("date_of_birth", d)),
        _fixed(
            {
                "given_name": name_text(100),
                "family_name": name_text(100),
                "nhs_number": _optional(_typed(nhs_number())),
                "address": free_text(500, required=True),
                "postcode": _typed(postcode()),
                "local_authority": st.sampled_from([*area_pks, "not_sure"]),
                "gp_practice_name": short_text(150),
            }
        ),
    )


def _diagnosis(kind: str, area_pks: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return _fixed(
        {
            "diagnosis": st.sampled_from(Diagnosis.values),
            "diagnosis_status": st.sampled_from(
                ["confirmed", "clinically_understood", "awaiting_assessment"]
            ),
            "co_occurring": subset(CoOccurring.values),
        }
    )


def _risks(kind: str, area_pks: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return _fixed(
        {
            "risk_factors": subset(RiskFactor.values),
            "risks": free_text(5000, required=True),
            "tried": free_text(5000),
            "would_help": free_text(5000),
        }
    )


def _support(kind: str, area_pks: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return _fixed(
        {
            "has_ehcp": st.sampled_from(Referral.YesNoUnsure.values),
            "education_setting": short_text(150),
            "social_care": free_text(5000),
            "other_professionals": free_text(5000),
        }
    )


def _communication(kind: str, area_pks: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return _fixed(
        {
            "communication_needs": free_text(5000),
            "accessible_formats": subset(AccessibleFormat.values),
            "interpreter_language": short_text(60),
        }
    )


def _outcome(kind: str, area_pks: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    carer = st.one_of(_no_carer(), _carer())
    letter = st.sampled_from([{}, {"person_prefers_letter": "on"}])
    if kind == "self":
        return st.builds(lambda c, lt: c | lt, carer, letter)
    person = _fixed({"person_email": _optional(email_address())})
    if kind == "professional":
        return st.builds(lambda c, lt, p: c | lt | p, carer, letter, person)
    family = _fixed(
        {
            "referrer_parental_responsibility": st.sampled_from(["yes", "no"]),
            "outcome_to_referrer": st.sampled_from(["yes", "no"]),
            "referrer_format": st.sampled_from(["", *ReferralContact.Format.values]),
        }
    )
    return st.builds(lambda c, lt, p, f: c | lt | p | f, carer, letter, person, family)


def _consent(kind: str, area_pks: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    if kind == "self":
        return _fixed(
            {
                "consent_to_referral": st.just("yes"),
                "consent_to_share": st.sampled_from(["yes", "no"]),
                "consent_basis": st.sampled_from(["own_consent", "gillick"]),
            }
        )
    return _fixed(
        {
            "consent_to_referral": st.just("yes"),
            "consent_to_share": st.sampled_from(["yes", "no"]),
            "consent_basis": st.sampled_from(Referral.ConsentBasis.values),
            "consent_given_by": short_text(150, required=True),
        }
    )


_VALID_STEPS = {
    "about-you": _about_you,
    "person": _person,
    "diagnosis": _diagnosis,
    "risks": _risks,
    "support": _support,
    "communication": _communication,
    "outcome": _outcome,
    "consent": _consent,
}


def valid_step(kind: str, slug: str, area_pks: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Answers to one step that the step must accept, for `kind` of referrer."""
    return _VALID_STEPS[slug](kind, area_pks)


def _as_raw(data: dict[str, Any]) -> dict[str, list[str]]:
    """A step's answers as the draft keeps them: each field's posted values as a list."""
    return {
        key: (list(value) if isinstance(value, list) else [value])
        for key, value in data.items()
        if value != []
    }


def _field_names(kind: str, slug: str) -> list[str]:
    """The names a step's page posts (a date's three boxes, not the date)."""
    form = STEPS_BY_SLUG[slug].form_class(kind=kind)
    names = []
    for name in form.fields:
        if name == "date_of_birth":
            names += [f"{name}_day", f"{name}_month", f"{name}_year"]
        else:
            names.append(name)
    return names


def _stored_step(client: Client, slug: str) -> dict[str, list[str]] | None:
    draft = client.session.get(DRAFT) or {}
    return (draft.get("steps") or {}).get(slug)


def _walked_clients(areas) -> dict[str, Client]:
    clients = {}
    for n, kind in enumerate(KINDS):
        client = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        walk(client, kind, answers_for(kind, areas["north"].pk))
        clients[kind] = client
    return clients


def _hostile_step_post(kind: str, slug: str):
    names = _field_names(kind, slug)
    changes = hostile_changes(names)
    if slug == "person":
        changes = st.one_of(changes, odd_date_parts("date_of_birth"))
    return changes


@pytest.mark.parametrize("slug", STEP_SLUGS)
def test_every_referral_step_refuses_hostile_input_and_keeps_valid_input_exactly(slug, areas):
    clients = _walked_clients(areas)
    area_pks = [str(areas["north"].pk), str(areas["south"].pk)]
    tried = Tried()
    url = {kind: step_url(kind, slug) for kind in KINDS}
    following = {
        kind: {reverse("referrals:check"), *(step_url(kind, s) for s in STEP_SLUGS)}
        for kind in KINDS
    }

    # Strategies and field names made once: building them is costly, drawing from them is not.
    valid = {kind: valid_step(kind, slug, area_pks) for kind in KINDS}
    hostile_post = {kind: _hostile_step_post(kind, slug) for kind in KINDS}
    names = {kind: set(_field_names(kind, slug)) for kind in KINDS}

    @FUZZ
    @given(data=st.data(), kind=st.sampled_from(KINDS), hostile=st.booleans())
    def check(data, kind, hostile):
        client = clients[kind]
        posted = data.draw(valid[kind], label="valid")
        if hostile:
            posted = post_data(posted, data.draw(hostile_post[kind], label="hostile"))
        before = _stored_step(client, slug)

        response = client.post(url[kind], posted)

        assert response.status_code < 500
        if not hostile:
            assert response.status_code == 302, response.content.decode()[:3000]
        if response.status_code == 302:
            assert response["Location"] in following[kind]
            stored = _stored_step(client, slug)
            expected = {k: v for k, v in _as_raw(posted).items() if k in names[kind]}
            assert stored == expected
            tried.accepted += 1
        elif response.status_code == 200:
            html = response.content.decode()
            assert ERROR_SUMMARY in html
            assert no_unescaped_markup(html)
            assert _stored_step(client, slug) == before
        else:
            # Only a body over DATA_UPLOAD_MAX_MEMORY_SIZE, refused before any form sees it.
            assert response.status_code == 400
            assert _stored_step(client, slug) == before
        assert Referral.objects.count() == 0
        tried.examples += 1

    check()

    assert tried.examples >= MINIMUM_EXAMPLES
    assert 0 < tried.accepted < tried.examples
    record(f"C-1 inputs tried: referral step {slug}", tried.examples)


def test_the_who_page_refuses_anything_but_its_two_answers(client):
    tried = Tried()

    @FUZZ
    @given(who=st.one_of(st.sampled_from(["self", "family"]), hostile_value, st.none()))
    def check(who):
        before = Session.objects.count()
        response = client.post(reverse("referrals:who"), {} if who is None else {"who": who})

        assert response.status_code < 500
        if who in ("self", "family"):
            assert response["Location"] == step_url(who, "about-you")
            tried.accepted += 1
        else:
            assert response.status_code in (200, 400)
            html = response.content.decode()
            if response.status_code == 200:
                assert ERROR_SUMMARY in html
            assert no_unescaped_markup(html)
        assert Session.objects.count() == before
        tried.examples += 1

    check()

    assert tried.examples >= MINIMUM_EXAMPLES
    record("C-1 inputs tried: referral who", tried.examples)


# --- The check page: the whole referral, written to the database -------------------------------

# Answers stored on the referral under the same name, and how each is stored.
_SAME_NAME_TEXT = [
    "given_name",
    "family_name",
    "address",
    "gp_practice_name",
    "risks",
    "tried",
    "would_help",
    "education_setting",
    "social_care",
    "other_professionals",
    "communication_needs",
    "interpreter_language",
    "referrer_email",
    "referrer_phone",
]
_SAME_NAME_LISTS = ["co_occurring", "risk_factors", "accessible_formats"]
_SAME_NAME_CHOICES = ["diagnosis", "diagnosis_status", "has_ehcp", "consent_basis"]


def _expected_referral(kind: str, steps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    answers = {}
    for values in steps.values():
        answers |= values
    expected: dict[str, Any] = {}
    for name in _SAME_NAME_TEXT:
        expected[name] = normalised(answers.get(name, ""))
    for name in _SAME_NAME_LISTS:
        expected[name] = list(answers.get(name, []))
    for name in _SAME_NAME_CHOICES:
        expected[name] = answers[name]
    person = steps["person"]
    expected["date_of_birth"] = datetime.date(
        int(person["date_of_birth_year"]),
        int(person["date_of_birth_month"]),
        int(person["date_of_birth_day"]),
    )
    nhs = "".join(ch for ch in person["nhs_number"] if ch.isdigit())
    expected["nhs_number"] = nhs
    expected["consent_to_share"] = answers["consent_to_share"] == "yes"
    area = person["local_authority"]
    expected["local_authority_id"] = None if area == "not_sure" else int(area)
    expected["consent_given_by"] = normalised(answers.get("consent_given_by", ""))
    if kind == "self":
        # Where a letter to them goes: their address with its postcode as the last line.
        expected["referrer_address"] = postal_address(expected["address"], person["postcode"])
    else:
        expected["referrer_name"] = normalised(answers["referrer_name"])
        expected["referrer_address"] = normalised(answers["referrer_address"])
        expected["referrer_organisation"] = normalised(answers.get("referrer_organisation", ""))
        expected["referrer_role"] = normalised(
            answers.get("referrer_role") or answers.get("referrer_relationship", "")
        )
    return expected


def _set_draft(client: Client, kind: str, steps: dict[str, dict[str, Any]], token: str) -> None:
    session = client.session
    session[DRAFT] = {
        "kind": kind,
        "steps": {slug: _as_raw(values) for slug, values in steps.items()},
        "token": token,
    }
    session.save()


def test_the_check_page_writes_the_referral_exactly_as_answered_or_nothing(areas):
    area_pks = [str(areas["north"].pk), str(areas["south"].pk)]
    client = Client(REMOTE_ADDR="198.51.100.20")
    tried = Tried()
    every_step = {
        kind: st.fixed_dictionaries({slug: valid_step(kind, slug, area_pks) for slug in STEP_SLUGS})
        for kind in KINDS
    }
    submit_fields = st.sampled_from(["submission_token", "website", "form_started", "form_end"])
    names = {kind: {slug: set(_field_names(kind, slug)) for slug in STEP_SLUGS} for kind in KINDS}

    @FUZZ
    @given(data=st.data(), kind=st.sampled_from(KINDS), hostile=st.booleans())
    def check(data, kind, hostile):
        steps = data.draw(every_step[kind], label="answers")
        token = str(uuid.uuid4())
        posted = {"submission_token": token, "website": "", "form_end": "1"}
        broken: dict[tuple[str, str], Any] = {}
        if hostile:
            targets = data.draw(
                st.lists(
                    st.one_of(
                        st.tuples(st.sampled_from(STEP_SLUGS), st.sampled_from(_SAME_NAME_TEXT)),
                        st.tuples(st.just("check"), submit_fields),
                    ),
                    min_size=1,
                    max_size=3,
                    unique=True,
                ),
                label="targets",
            )
            for slug, name in targets:
                value = data.draw(hostile_text, label=f"{slug}.{name}")
                if slug == "check":
                    posted[name] = value
                elif name in names[kind][slug]:
                    steps[slug][name] = value
                    broken[(slug, name)] = value
        _set_draft(client, kind, steps, token)
        before = row_counts(Referral, ReferralContact)

        response = client.post(reverse("referrals:check"), posted)

        assert response.status_code < 500
        if not hostile:
            assert response["Location"] == reverse("referrals:confirmation")
        written = row_counts(Referral, ReferralContact)
        if response.status_code == 302 and response["Location"] == reverse(
            "referrals:confirmation"
        ):
            assert written[Referral._meta.label] == before[Referral._meta.label] + 1
            referral = Referral.objects.order_by("-id").first()
            for name, value in _expected_referral(kind, steps).items():
                assert getattr(referral, name) == value, name
            assert referral.referrer_kind == kind
            tried.accepted += 1
        else:
            assert written == before
            if response.status_code == 302:
                # Sent back to the first step that is no longer valid, which shows its errors;
                # or to the check page itself when the page's token was altered.
                page = client.get(response["Location"])
                html = page.content.decode()
                assert page.status_code == 200
                assert ERROR_SUMMARY in html or "This page had changed" in html
                assert no_unescaped_markup(html)
            else:
                # The honeypot (400) or a check page with errors (200).
                assert response.status_code in (200, 400)
                assert no_unescaped_markup(response.content.decode())
        tried.examples += 1

    check()

    assert tried.examples >= MINIMUM_EXAMPLES
    assert 0 < tried.accepted < tried.examples
    record("C-1 inputs tried: referral check page", tried.examples)


# --- The public C(E)TR request form --------------------------------------------------------------


def _valid_cetr_request(area_pks: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    today = _today()
    born = st.dates(min_value=datetime.date(today.year - 120, 1, 1), max_value=today)

    def build(fixed, born_on, contact_by, email, address):
        data = fixed | date_parts("date_of_birth", born_on)
        data["contact_by"] = contact_by
        data["requester_email"] = email
        data["requester_address"] = address
        if contact_by == "email" and not normalised(email):
            data["requester_email"] = "requester@example.org"
        if contact_by == "letter" and not normalised(address):
            data["requester_address"] = "1 High Street\nNR1 2DH"
        return data

    return st.builds(
        build,
        st.fixed_dictionaries(
            {
                "relationship": st.sampled_from(CetrRequest.Relationship.values),
                "requester_name": short_text(150, required=True),
                "requester_organisation": short_text(150),
                "requester_phone": _optional(phone_number()),
                "given_name": short_text(100, required=True),
                "family_name": short_text(100, required=True),
                "nhs_number": _optional(_typed(nhs_number())),
                "postcode": _optional(_typed(postcode())),
                "local_authority": st.sampled_from([*area_pks, "not_known"]),
                "in_hospital": st.sampled_from(CetrRequest.InHospital.values),
                "hospital_name": short_text(150),
                "reason": free_text(5000, required=True),
                "person_knows": st.sampled_from(["yes", "no"]),
                "website": st.just(""),
            }
        ),
        born,
        st.sampled_from(CetrRequest.ContactBy.values),
        _optional(email_address()),
        _optional(postal_address_text(500)),
    )


_CETR_TEXT = [
    "requester_name",
    "requester_organisation",
    "requester_phone",
    "requester_email",
    "requester_address",
    "given_name",
    "family_name",
    "hospital_name",
    "reason",
]


def test_the_public_cetr_request_form_saves_exactly_what_was_asked_or_nothing(client, areas):
    area_pks = [str(areas["north"].pk), str(areas["south"].pk)]
    tried = Tried()
    url = reverse("reviews:request-public")
    names = [*_CETR_TEXT, "relationship", "contact_by", "nhs_number", "postcode"]
    names += ["local_authority", "in_hospital", "person_knows", "submission_token", "website"]
    names += ["date_of_birth_day", "date_of_birth_month", "date_of_birth_year"]
    valid = _valid_cetr_request(area_pks)
    hostile_post = st.one_of(hostile_changes(names), odd_date_parts("date_of_birth"))

    @FUZZ
    @given(data=st.data(), hostile=st.booleans())
    def check(data, hostile):
        posted = data.draw(valid, label="valid")
        token = client.session.get("cetr_request_token")
        if not token:
            client.get(url)
            token = client.session["cetr_request_token"]
        posted["submission_token"] = token
        if hostile:
            posted = post_data(posted, data.draw(hostile_post, label="hostile"))
        before = row_counts(CetrRequest)

        response = client.post(url, posted)

        assert response.status_code < 500
        if not hostile:
            assert response["Location"] == reverse("reviews:request-confirmation")
        if response.status_code == 302:
            assert response["Location"] == reverse("reviews:request-confirmation")
            assert row_counts(CetrRequest)[CetrRequest._meta.label] == (
                before[CetrRequest._meta.label] + 1
            )
            saved = CetrRequest.objects.order_by("-id").first()
            sent = as_received(posted)
            for name in _CETR_TEXT:
                assert getattr(saved, name) == normalised(sent.get(name, "")), name
            assert saved.relationship == sent["relationship"]
            assert saved.person_knows is (sent["person_knows"] == "yes")
            assert saved.date_of_birth == datetime.date(
                int(sent["date_of_birth_year"]),
                int(sent["date_of_birth_month"]),
                int(sent["date_of_birth_day"]),
            )
            tried.accepted += 1
        else:
            assert row_counts(CetrRequest) == before
            html = response.content.decode()
            if response.status_code == 200:
                assert ERROR_SUMMARY in html
            else:
                assert response.status_code == 400  # the honeypot, or a body over the limit
            assert no_unescaped_markup(html)
        tried.examples += 1

    check()

    assert tried.examples >= MINIMUM_EXAMPLES
    assert 0 < tried.accepted < tried.examples
    record("C-1 inputs tried: C(E)TR request (public)", tried.examples)


# --- Sign-in and password reset ------------------------------------------------------------------


def test_sign_in_refuses_hostile_credentials_and_signs_in_only_the_right_ones(organisations):
    from axes.models import AccessAttempt

    from tests.conftest import PASSWORD, make_persona

    user = make_persona("register_staff", organisations)
    tried = Tried()
    url = reverse("accounts:sign-in")

    @FUZZ
    @given(
        username=st.one_of(st.just(user.email), st.just(user.email.upper()), hostile_value),
        password=st.one_of(st.just(PASSWORD), hostile_value),
    )
    def check(username, password):
        AccessAttempt.objects.all().delete()
        client = Client(REMOTE_ADDR="198.51.100.30")
        users = get_user_model().objects.count()

        response = client.post(url, {"username": username, "password": password})

        assert response.status_code < 500
        right = username.lower() == user.email and password == PASSWORD
        if right:
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("accounts:verify"))
            tried.accepted += 1
        else:
            assert response.status_code in (200, 400)
            html = response.content.decode()
            if response.status_code == 200:
                assert ERROR_SUMMARY in html
            assert no_unescaped_markup(html)
            assert "_auth_user_id" not in client.session
        assert get_user_model().objects.count() == users
        tried.examples += 1

    check()

    assert tried.examples >= MINIMUM_EXAMPLES
    assert 0 < tried.accepted < tried.examples
    record("C-1 inputs tried: sign in", tried.examples)


def test_password_reset_mails_only_the_account_holder_and_refuses_bad_addresses(
    client, organisations, settings
):
    from tests.conftest import make_persona
    from tests.password_resets import reset_jobs, run_reset_jobs

    # The hourly limits are for people; this test sends hundreds of requests.
    settings.DSR_PASSWORD_RESET_PER_ADDRESS_HOUR = 10**9
    settings.DSR_PASSWORD_RESET_PER_ACCOUNT_HOUR = 10**9
    cache.clear()
    user = make_persona("register_staff", organisations)
    tried = Tried()
    url = reverse("accounts:password-reset")

    @FUZZ
    @given(
        email=st.one_of(
            st.just(user.email),
            st.just(f" {user.email.upper()} "),
            email_address(),
            hostile_value,
            st.builds(lambda v: user.email + v, hostile_text),
        )
    )
    def check(email):
        mail.outbox.clear()
        users = get_user_model().objects.count()

        with reset_jobs() as jobs:
            response = client.post(url, {"email": email})
        assert mail.outbox == []  # nothing is sent within the request
        run_reset_jobs(jobs)  # the job the request queued, as the worker runs it

        assert response.status_code < 500
        if response.status_code == 302:
            assert response["Location"] == reverse("accounts:password-reset-sent")
            # Mail goes only to the address the account holds, never to a typed variant.
            assert all(message.to == [user.email] for message in mail.outbox)
            assert len(mail.outbox) <= 1
            tried.accepted += 1
        else:
            assert response.status_code in (200, 400)
            html = response.content.decode()
            if response.status_code == 200:
                assert ERROR_SUMMARY in html
            assert no_unescaped_markup(html)
            assert mail.outbox == []
        assert get_user_model().objects.count() == users
        tried.examples += 1

    check()
    cache.clear()  # the requests counted for the address end with this test

    assert tried.examples >= MINIMUM_EXAMPLES
    assert 0 < tried.accepted < tried.examples
    record("C-1 inputs tried: password reset", tried.examples)
