"""Bad and hostile input on the public referral pages (RELIABILITY C-1, C-2, C-5, D-1): every
step shows an NHS.UK error for each bad value, never a 5xx, never reflects markup unescaped,
and writes no row. Also the attachment checks (dsr.nhsuk.uploads) and the rate limiter."""

import io
import struct
import zipfile

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory, override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsr.nhsuk import uploads
from dsr.security import ratelimit
from referrals.models import Referral
from tests.figures import record
from tests.referrals.helpers import answers_for, small_docx, small_pdf, small_png, step_url, walk

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


SCRIPT = "<script>alert(1)</script>"
SQL = "'; DROP TABLE referrals_referral; --"
TEMPLATE = "{{ 7*7 }}{% debug %}"

# (kind, step, field, value, message the page must show)
BAD_VALUES = [
    # About you
    ("professional", "about-you", "referrer_name", "", "Enter your full name."),
    (
        "professional",
        "about-you",
        "referrer_name",
        "P" * 101,
        "Your full name must be 100 characters or fewer.",
    ),
    (
        "professional",
        "about-you",
        "referrer_name",
        SCRIPT,
        "Your full name must only include letters, spaces, hyphens, apostrophes and full stops.",
    ),
    (
        "professional",
        "about-you",
        "referrer_name",
        "Pat\x00",
        "Your full name must not contain hidden control characters.",
    ),
    (
        "professional",
        "about-you",
        "referrer_role",
        "J" * 151,
        "Your job title must be 150 characters or fewer.",
    ),
    ("professional", "about-you", "referrer_email", "", "Enter your work email address."),
    (
        "professional",
        "about-you",
        "referrer_email",
        "pat@gmail.com",
        "Enter your work email address, not a personal one, like name@nhs.net.",
    ),
    (
        "professional",
        "about-you",
        "referrer_email",
        SQL,
        "Enter an email address in the right format, like name@example.com.",
    ),
    (
        "professional",
        "about-you",
        "referrer_phone",
        SCRIPT,
        "Enter a phone number, like 01632 960 001 or 07700 900 982.",
    ),
    (
        "family",
        "about-you",
        "referrer_relationship",
        "",
        "Enter your relationship to the person.",
    ),
    (
        "family",
        "about-you",
        "referrer_email",
        "",
        "Enter your email address or your postal address.",
    ),
    (
        "self",
        "about-you",
        "referrer_email",
        "alex@",
        "Enter an email address in the right format, like name@example.com.",
    ),
    # The person
    ("self", "person", "given_name", "", "Enter your first name."),
    ("family", "person", "family_name", "", "Enter the person&#x27;s last name."),
    ("self", "person", "given_name", "A" * 101, "First name must be 100 characters or fewer."),
    (
        "self",
        "person",
        "family_name",
        SQL,
        "Last name must only include letters, spaces, hyphens, apostrophes and full stops.",
    ),
    (
        "self",
        "person",
        "address",
        "1 High St\x00",
        "Address must not contain hidden control characters.",
    ),
    ("self", "person", "address", "x" * 501, "Address must be 500 characters or fewer."),
    (
        "self",
        "person",
        "gp_practice_name",
        "Surgery\u202e",
        "GP surgery must not contain hidden control characters.",
    ),
    ("self", "person", "date_of_birth_day", "31", "The date must be a real date."),
    ("self", "person", "date_of_birth_day", SCRIPT, "The date must be a real date."),
    ("self", "person", "date_of_birth_year", "2099", "The date of birth must be in the past."),
    ("self", "person", "date_of_birth_year", "04", "The year must include 4 numbers."),
    ("self", "person", "date_of_birth_day", "", "The date must include a day."),
    ("self", "person", "nhs_number", "1234567890", "This is not a valid NHS number"),
    ("self", "person", "nhs_number", "12345", "An NHS number must be 10 digits."),
    ("self", "person", "nhs_number", SQL, "An NHS number must be 10 digits."),
    ("self", "person", "nhs_number", "abc defg hij", "An NHS number must contain only numbers."),
    ("self", "person", "postcode", "", "Enter your postcode."),
    ("self", "person", "postcode", "ZZ99 9ZZ", "Enter a real postcode, like NR1 2DH."),
    ("self", "person", "postcode", SCRIPT, "Enter a real postcode, like NR1 2DH."),
    (
        "self",
        "person",
        "local_authority",
        "",
        "Choose a council area, or choose I&#x27;m not sure.",
    ),
    ("self", "person", "local_authority", "999999", "Choose one of the options."),
    ("self", "person", "local_authority", SQL, "Choose one of the options."),
    # Diagnosis
    ("self", "diagnosis", "diagnosis", "", "Choose learning disability, autism, or both."),
    ("self", "diagnosis", "diagnosis", "martian", "Choose one of the options."),
    ("self", "diagnosis", "diagnosis_status", "", "Choose whether this has been diagnosed."),
    ("self", "diagnosis", "co_occurring", ["adhd", "bogus"], "Choose from the options shown."),
    # Risks
    ("self", "risks", "risks", "", "Tell us about the risks now."),
    (
        "self",
        "risks",
        "risks",
        "r" * 5001,
        "The description of the risks must be 5000 characters or fewer.",
    ),
    (
        "self",
        "risks",
        "tried",
        "tried\x07",
        "The description of what has been tried must not contain hidden control characters.",
    ),
    ("self", "risks", "risk_factors", [SCRIPT], "Choose from the options shown."),
    # Support
    ("self", "support", "has_ehcp", "", "Choose whether you have an EHCP."),
    ("family", "support", "has_ehcp", "maybe", "Choose one of the options."),
    (
        "self",
        "support",
        "education_setting",
        "s" * 151,
        "School, college or other education setting must be 150 characters or fewer.",
    ),
    (
        "self",
        "support",
        "other_professionals",
        "o" * 5001,
        "Other professionals involved must be 5000 characters or fewer.",
    ),
    # Communication
    (
        "self",
        "communication",
        "interpreter_language",
        "l" * 61,
        "Interpreter language must be 60 characters or fewer.",
    ),
    (
        "self",
        "communication",
        "communication_needs",
        "needs\x00",
        "Communication needs must not contain hidden control characters.",
    ),
    ("self", "communication", "accessible_formats", ["braille"], "Choose from the options shown."),
    # Outcome
    ("self", "outcome", "has_carer", "", "Choose whether we should tell a parent or carer."),
    ("self", "outcome", "carer_name", "", "Enter the parent or carer&#x27;s name."),
    (
        "self",
        "outcome",
        "carer_email",
        "",
        "Enter the parent or carer&#x27;s email address or postal address.",
    ),
    (
        "self",
        "outcome",
        "carer_email",
        SCRIPT,
        "Enter an email address in the right format, like name@example.com.",
    ),
    ("self", "outcome", "carer_parental_responsibility", "", "Choose whether the parent or carer"),
    (
        "family",
        "outcome",
        "outcome_to_referrer",
        "",
        "Choose whether the person agrees that we can tell you our decision.",
    ),
    (
        "family",
        "outcome",
        "referrer_prefers_letter",
        "on",
        "You asked for a letter but did not give a postal address.",
    ),
    ("professional", "outcome", "person_email", "x@", "Enter an email address in the right"),
    # Consent
    ("self", "consent", "consent_to_referral", "", "Choose whether you agree to this referral."),
    ("self", "consent", "consent_to_referral", "no", "We cannot add anyone to the register"),
    ("self", "consent", "consent_basis", "bribery", "Choose one of the options."),
    ("self", "consent", "consent_basis", "best_interests", "Choose one of the options."),
    ("family", "consent", "consent_given_by", "", "Enter who gave consent."),
    (
        "family",
        "consent",
        "consent_given_by",
        "g" * 151,
        "Who gave consent must be 150 characters or fewer.",
    ),
]


@pytest.mark.parametrize(
    ("kind", "step", "field", "value", "message"),
    BAD_VALUES,
    ids=[f"{kind}-{step}-{field}-{n}" for n, (kind, step, field, *_) in enumerate(BAD_VALUES)],
)
def test_each_bad_value_shows_an_error_on_the_page_and_writes_nothing(
    client, areas, kind, step, field, value, message
):
    answers = answers_for(kind, areas["north"].pk)
    walk(client, kind, answers, until=step)

    response = client.post(step_url(kind, step), answers[step] | {field: value})

    assert response.status_code == 200
    page = response.content.decode()
    assert '<h2 class="nhsuk-error-summary__heading">There is a problem</h2>' in page
    assert 'class="nhsuk-error-message"' in page
    assert message in page
    assert SCRIPT not in page
    assert Referral.objects.count() == 0


def test_markup_typed_into_free_text_is_shown_escaped(client, areas):
    answers = answers_for("self", areas["north"].pk)
    walk(client, "self", answers, until="risks")

    response = client.post(
        step_url("self", "risks"), answers["risks"] | {"tried": SCRIPT + TEMPLATE, "risks": ""}
    )

    page = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert SCRIPT not in page
    # Shown as typed, so not evaluated (a random token on the page may well contain "49").
    assert "{{ 7*7 }}" in page


def test_markup_in_stored_answers_is_escaped_on_the_check_page(client, areas):
    answers = answers_for("self", areas["north"].pk)
    answers["risks"]["tried"] = SCRIPT
    walk(client, "self", answers)

    page = client.get(reverse("referrals:check")).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert SCRIPT not in page


# --- Raw requests (C-2) --------------------------------------------------------------------------


def test_methods_the_pages_do_not_accept_get_405(client):
    assert client.put(reverse("referrals:who")).status_code == 405
    assert client.delete(step_url("self", "about-you")).status_code == 405
    assert client.post(reverse("referrals:start")).status_code == 405
    assert client.post(reverse("referrals:confirmation")).status_code == 405


def test_a_json_body_is_treated_as_an_empty_form(client, areas):
    response = client.post(
        reverse("referrals:who"), '{"who": "self"}', content_type="application/json"
    )

    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()


def test_duplicate_parameters_do_not_break_a_step(client, areas):
    answers = answers_for("self", areas["north"].pk)
    walk(client, "self", answers, until="person")
    body = answers["person"] | {"postcode": ["NR1 2DH", SCRIPT], "given_name": ["A", "B"]}

    response = client.post(step_url("self", "person"), body)

    assert response.status_code in (200, 302)
    assert Referral.objects.count() == 0


def test_more_fields_than_allowed_get_400_not_a_crash(client, areas):
    body = {f"field{n}": "x" for n in range(600)}

    response = client.post(step_url("self", "about-you"), body)

    assert response.status_code == 400
    assert Referral.objects.count() == 0


def test_a_body_over_the_upload_limit_gets_400_not_a_crash(client, areas):
    body = {"referrer_email": "x" * 3_000_000}

    response = client.post(step_url("self", "about-you"), body)

    assert response.status_code == 400
    assert Referral.objects.count() == 0


def test_missing_fields_show_errors_not_a_crash(client, areas):
    answers = answers_for("self", areas["north"].pk)
    walk(client, "self", answers, until="outcome")

    response = client.post(step_url("self", "outcome"), {})

    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()


# --- Hostile strings, property-based (C-1) -------------------------------------------------------

PAYLOADS = [
    SCRIPT,
    "<script>",
    "<img src=x onerror=alert(1)>",
    SQL,
    "1 OR 1=1",
    TEMPLATE,
    "${7*7}",
    "\x00",
    "a\x00b",
    "\u202egnp.exe",
    "\r\nSet-Cookie: x=1",
    "💥🧨",
    "../../etc/passwd",
    "0000000000",
    "31",
    "-1",
    "99999999999999999999",
]
PERSON_FIELDS = [
    "given_name",
    "family_name",
    "nhs_number",
    "address",
    "postcode",
    "gp_practice_name",
    "local_authority",
    "date_of_birth_day",
    "date_of_birth_month",
    "date_of_birth_year",
]
hostile_text = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"])),
    st.sampled_from(PAYLOADS),
    st.builds(
        lambda payload, times: payload * times,
        st.sampled_from(PAYLOADS + ["x"]),
        st.integers(min_value=50, max_value=20_000),
    ),
    st.lists(st.sampled_from(PAYLOADS), min_size=1, max_size=4).map("".join),
)
TRIED = {"examples": 0}


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(field=st.sampled_from(PERSON_FIELDS), value=hostile_text, everywhere=st.booleans())
def test_hostile_strings_in_the_person_step_never_break_the_page(
    client, areas, field, value, everywhere
):
    cache.clear()  # the per-address POST limit would otherwise cut the run short
    answers = answers_for("self", areas["north"].pk)
    client.post(step_url("self", "about-you"), answers["about-you"])
    posted = (
        dict.fromkeys(PERSON_FIELDS, value) if everywhere else answers["person"] | {field: value}
    )

    response = client.post(step_url("self", "person"), posted)
    shown_again = client.get(step_url("self", "person"))

    TRIED["examples"] += 1
    record("C-1 public form inputs tried", TRIED["examples"])
    for page in (response, shown_again):
        assert page.status_code < 500
        assert b"<script>" not in page.content
        assert b"<img src=x" not in page.content
    # 400: the body was over DATA_UPLOAD_MAX_MEMORY_SIZE (ten fields of the longest strings).
    assert response.status_code in (200, 302, 400)
    if response.status_code == 200:
        assert b"There is a problem" in response.content
    assert Referral.objects.count() == 0


# --- Attachment checks (D-1) ---------------------------------------------------------------------


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def _ole2(with_word_stream: bool) -> bytes:
    body = "WordDocument".encode("utf-16-le") if with_word_stream else b"Workbook"
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + body + b"\x00" * 64


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("plan.pdf", small_pdf(), "application/pdf"),
        ("photo.PNG", small_png(), "image/png"),
        ("photo.jpeg", _jpeg(640, 480), "image/jpeg"),
        ("photo.jpg", _jpeg(640, 480), "image/jpeg"),
        ("letter.docx", small_docx(), uploads.DOCX.content_type),
        ("old letter.doc", _ole2(with_word_stream=True), "application/msword"),
    ],
)
def test_allowed_files_are_accepted_with_the_type_read_from_their_content(
    name, content, content_type
):
    assert uploads.check_upload(_upload(name, content)) == content_type


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.pdf", b"%PDF-1.7\n<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>", "scripts"),
        ("a.pdf", b"%PDF-1.7\n<</Type/Filespec/EF<</F 2 0 R>>/EmbeddedFile>>", "scripts"),
        ("a.pdf", b"%PDF-1.7\n<</S/J#61vaScript>>", "scripts"),
        (
            "a.docx",
            _zip(
                {
                    "[Content_Types].xml": b"<Types/>",
                    "word/document.xml": b"<w/>",
                    "word/vbaProject.bin": b"macro",
                }
            ),
            "contains macros",
        ),
        ("a.docx", _zip({"hello.txt": b"not a document"}), "is a zip file, not a Word document"),
        ("a.docx", b"PK\x03\x04broken", "is not a complete Word document"),
        ("a.doc", _ole2(with_word_stream=False), "is not a Word document"),
        (
            "a.png",
            b"\x89PNG\r\n\x1a\n"
            + struct.pack(">I", 13)
            + b"IHDR"
            + struct.pack(">II", 100_000, 100_000)
            + b"\x08\x02\x00\x00\x00",
            "too large an image",
        ),
        ("a.jpg", _jpeg(20_000, 20_000), "too large an image"),
        ("a.png", small_pdf(), "is a PDF, so its name must end in .pdf"),
        ("a.exe", small_pdf(), "is a PDF, so its name must end in .pdf"),
        ("noextension", small_png(), "is a PNG image, so its name must end in .png"),
        ("a.pdf", b"", "is empty"),
        ("a.gif", b"GIF89a\x01\x00\x01\x00", "must be a PDF"),
        ("a.pdf", b"\x7fELF\x02\x01\x01", "must be a PDF"),
    ],
)
def test_dangerous_renamed_or_broken_files_are_refused(name, content, message):
    with pytest.raises(ValidationError, match=message):
        uploads.check_upload(_upload(name, content))


def test_a_file_over_ten_megabytes_is_refused_before_its_content_is_read():
    upload = _upload("big.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024))

    with pytest.raises(ValidationError, match="big.pdf must be smaller than 10MB."):
        uploads.check_upload(upload)


def test_check_uploads_marks_each_file_with_its_checked_type():
    files = [_upload("a.pdf", small_pdf()), _upload("b.png", small_png())]

    uploads.check_uploads(files)

    assert [f.checked_content_type for f in files] == ["application/pdf", "image/png"]


def test_check_uploads_lists_every_refused_file_and_marks_none():
    files = [_upload("good.pdf", small_pdf()), _upload("bad.pdf", b"<html>")]

    with pytest.raises(ValidationError) as refused:
        uploads.check_uploads(files)

    assert refused.value.messages == [
        "bad.pdf must be a PDF, a Word document (.doc or .docx), a JPEG or a PNG."
    ]
    assert not hasattr(files[0], "checked_content_type")


def test_a_hostile_file_name_is_trimmed_and_stripped_in_messages():
    upload = _upload("\x1b[31m" + "n" * 100 + ".pdf", b"<html>")

    with pytest.raises(ValidationError) as refused:
        uploads.check_upload(upload)

    assert "\x1b" not in refused.value.messages[0]
    assert refused.value.messages[0].startswith("[31m" + "n" * 56 + "...")


# --- The rate limiter (C-5) ----------------------------------------------------------------------


@pytest.fixture(params=["local memory", "redis"])
def rate_cache(request, settings):
    """Each rate-limit test runs on the local-memory cache of the embedded run and on the
    Redis that production uses (one round trip per request there: dsr.security.ratelimit._counts),
    under a key prefix of its own."""
    if request.param == "redis":
        import uuid

        import redis

        prefix = f"ratelimit-test-{uuid.uuid4().hex}"
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": settings.REDIS_URL,
                "KEY_PREFIX": prefix,
            }
        }
        ratelimit._redis.cache_clear()
        yield request.param
        ratelimit._redis.cache_clear()
        client = redis.Redis.from_url(settings.REDIS_URL)
        stale = list(client.scan_iter(f"{prefix}:*"))
        assert stale, "the Redis counters were never written"
        client.delete(*stale)
    else:
        yield request.param


def test_rate_limit_allows_up_to_the_limit_then_refuses(frozen_now, rate_cache):
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")

    answers = [ratelimit.hit(request, scope="test", limit=3) for _ in range(5)]

    assert answers == [True, True, True, False, False]


def test_rate_limit_starts_again_in_the_next_window(frozen_now, rate_cache):
    import datetime

    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")
    for _ in range(2):
        ratelimit.hit(request, scope="test", limit=1)

    frozen_now.shift(datetime.timedelta(hours=1))

    assert ratelimit.hit(request, scope="test", limit=1) is True


def test_rate_limit_scopes_and_addresses_are_counted_apart(frozen_now, rate_cache):
    one = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")
    other = RequestFactory().post("/", REMOTE_ADDR="198.51.100.8")
    ratelimit.hit(one, scope="a", limit=1)

    assert ratelimit.hit(one, scope="b", limit=1) is True
    assert ratelimit.hit(other, scope="a", limit=1) is True
    assert ratelimit.hit(one, scope="a", limit=1) is False


def test_rate_limit_keys_hold_no_address(frozen_now):
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")

    assert "198.51.100.7" not in ratelimit.client_fingerprint(request)


@override_settings(
    AXES_IPWARE_PROXY_COUNT=0,
    AXES_IPWARE_META_PRECEDENCE_ORDER=["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"],
)
def test_rate_limit_counts_clients_behind_a_trusted_proxy_apart(frozen_now, rate_cache):
    # One proxy (REMOTE_ADDR 10.0.0.1) in front: X-Forwarded-For holds the client alone, which
    # django-ipware counts as no proxy address in the header.
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    first = RequestFactory().post("/", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    second = RequestFactory().post("/", HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)
    ratelimit.hit(first, scope="proxy", limit=1)

    assert ratelimit.hit(first, scope="proxy", limit=1) is False
    assert ratelimit.hit(second, scope="proxy", limit=1) is True


def test_a_rate_limit_counts_the_session_as_well_as_the_address(frozen_now, rate_cache):
    """A client that changes address but keeps its session is still one client."""
    from types import SimpleNamespace

    session = SimpleNamespace(session_key="a-visitors-session-key")
    first = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")
    first.session = session
    moved = RequestFactory().post("/", REMOTE_ADDR="198.51.100.9")
    moved.session = session
    ratelimit.hit(first, scope="moving", limit=1)

    assert ratelimit.hit(moved, scope="moving", limit=1) is False


def test_a_counter_lasts_its_window_and_a_minute_on_redis(frozen_now, rate_cache, settings):
    if rate_cache != "redis":
        pytest.skip("the local-memory cache keeps no time to live that can be read")
    import redis
    from django.core.cache import cache

    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")
    ratelimit.hit(request, scope="ttl", limit=5)
    ratelimit.hit(request, scope="ttl", limit=5)
    client = redis.Redis.from_url(settings.REDIS_URL)
    from django.utils import timezone

    window = int(timezone.now().timestamp()) // ratelimit.HOUR
    key = cache.make_and_validate_key(
        f"ratelimit:ttl:{ratelimit.client_fingerprint(request)}:{window}"
    )
    assert int(client.get(key)) == 2
    assert ratelimit.HOUR < client.ttl(key) <= ratelimit.HOUR + 60


# --- One-line answers -----------------------------------------------------------------------------


def test_a_one_line_answer_refuses_a_line_break_and_a_text_area_keeps_it():
    """A browser sends no line break from a one-line box, so one there comes from a crafted
    request; it is refused with the answer's own message. Text areas keep theirs (as LF)."""
    from django.core.exceptions import ValidationError as FormError

    from dsr.nhsuk.forms import TextField

    job = TextField(noun="Your job title", max_length=100)
    with pytest.raises(FormError) as refused:
        job.clean("Nurse\r\nManager")
    assert refused.value.messages == [
        "Your job title must be one line of text, without hidden characters."
    ]
    assert job.clean("Nurse\tManager") == "Nurse\tManager"  # a pasted tab is kept
    address = TextField(noun="Address", max_length=500, multiline=True)
    assert address.clean("1 High Street\r\nNorwich") == "1 High Street\nNorwich"
