"""A request over DSR_MAX_REQUEST_BYTES is refused with 413 before it is read (issue 16, item 8a).

Django limits form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but not files: a 100 MB upload to the
public referral page was read in full before the form refused it. Two checks now hold every
route to the limit: the declared length (Content-Length), before a byte is read; and the file
bytes actually received, counted by the first upload handler, whatever length was declared.

Under WSGI Django itself reads at most Content-Length bytes of a body (LimitedStream), and none
of a body sent without one (chunked): the tests below show both, with a stream that counts what
is read. The received-bytes count is then tested on a request whose stream is not bounded by its
declared length, which is what a server that hands over more would give.
"""

import io
import logging
import uuid

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from dsr.nhsuk.uploads import MAX_BYTES, MAX_FILES
from dsr.security.middleware import RequestSizeLimitMiddleware
from referrals.models import Referral
from tests.conftest import signed_in_client
from tests.referrals.helpers import answers_for, submit, token_from, walk

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
CHECK = reverse("referrals:check")


class UnreadableInput:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the request body was read")

    readline = read


class CountingInput(io.BytesIO):
    """A request body that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data

    def readline(self, size=-1):
        data = super().readline(size)
        self.bytes_read += len(data)
        return data


@pytest.fixture
def check_view_calls(monkeypatch):
    """Each time the public check page's view starts on a POST (its first step is the rate
    limit), a row here."""
    from referrals.views import public

    calls = []
    allowed = public._posts_allowed

    def counted(request):
        calls.append(request.path)
        return allowed(request)

    monkeypatch.setattr(public, "_posts_allowed", counted)
    return calls


def _pdf(size: int) -> bytes:
    """A PDF the upload checks accept, padded to exactly `size` bytes."""
    head, tail = b"%PDF-1.4\n", b"\ntrailer<<>>\n%%EOF\n"
    return head + b"0" * (size - len(head) - len(tail)) + tail


def _multipart(files: list[bytes]) -> bytes:
    return encode_multipart(
        BOUNDARY,
        {
            "submission_token": str(uuid.uuid4()),
            "attachments": [
                SimpleUploadedFile(f"letter-{n}.pdf", data, content_type="application/pdf")
                for n, data in enumerate(files)
            ],
            "form_end": "1",
        },
    )


def _refusals(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "refused as too large" in r.getMessage()]


# --- The limit -------------------------------------------------------------------------------


def test_the_default_limit_is_just_above_the_largest_legitimate_request():
    largest = MAX_FILES * MAX_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    assert largest <= settings.DSR_MAX_REQUEST_BYTES <= largest + MB
    assert settings.FILE_UPLOAD_HANDLERS[0] == "dsr.nhsuk.uploads.RequestSizeUploadHandler"


def test_the_size_check_comes_before_anything_that_reads_the_body():
    order = settings.MIDDLEWARE
    size = order.index("dsr.security.middleware.RequestSizeLimitMiddleware")
    # Only these come first: they set an id and headers, and read no body.
    assert order[:size] == [
        "dsr.security.middleware.RequestIdMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "csp.middleware.CSPMiddleware",
    ]


def test_the_largest_legitimate_referral_is_sent(client, areas, frozen_now):
    """Three files of 10MB each, the most the form allows, are not refused as too large."""
    walk(client, "self", answers_for("self", areas["north"].pk))
    files = [
        SimpleUploadedFile(f"plan-{n}.pdf", _pdf(MAX_BYTES), content_type="application/pdf")
        for n in range(MAX_FILES)
    ]

    response = submit(client, token_from(client), attachments=files)

    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:confirmation")
    assert Referral.objects.get().attachments.count() == MAX_FILES


# --- The declared length ---------------------------------------------------------------------


def test_an_upload_declared_over_the_limit_is_refused_unread(check_view_calls, caplog):
    caplog.set_level(logging.INFO)
    response = Client().post(
        CHECK,
        content_type=MULTIPART_CONTENT,
        **{"CONTENT_LENGTH": str(100 * MB), "wsgi.input": UnreadableInput()},
    )

    assert response.status_code == 413
    page = response.content.decode()
    assert "<h1>Your files are too large to send</h1>" in page
    # What to do, in plain English: the answers are kept, how to go back, the real limits.
    assert "Nothing was sent, but your answers are still in the form." in page
    assert "use your browser's Back button" in page
    assert "remove the large file, or choose a smaller copy of it, and send the form again" in page
    assert f"You can attach up to {MAX_FILES} files, each up to {MAX_BYTES // MB}MB." in page
    assert "You can attach up to 3 files, each up to 10MB." in page
    for wrong in ("none of it was saved", "service desk"):
        assert wrong not in page
    # The NHS.UK header with the service name, the footer, and an icon (so no /favicon.ico).
    assert 'class="nhsuk-header"' in page
    assert '<span class="nhsuk-header__service-name">Dynamic support register</span>' in page
    assert 'class="nhsuk-footer"' in page
    assert f"&copy; {settings.ICB_NAME}" in page
    assert 'rel="icon" href="/static/nhsuk/assets/images/favicon.ico"' in page
    assert 'href="/static/nhsuk/nhsuk-frontend.min.css"' in page
    reference = f'<strong id="error-reference">{response["X-Request-ID"]}<'
    assert f"If you need to report this problem, quote this reference: {reference}" in page
    assert response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert check_view_calls == []
    assert Referral.objects.count() == 0
    # One warning line; no traceback, no error record.
    (refusal,) = _refusals(caplog)
    assert refusal.levelno == logging.WARNING
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("post", "referrals:who"),
        ("post", "reviews:request-public"),
        ("post", "accounts:sign-in"),
        ("get", "pages:start"),
        ("post", "dsr:register-list"),
    ],
)
def test_every_route_refuses_a_body_declared_over_the_limit(method, route, staff_user):
    client = signed_in_client(staff_user)
    send = getattr(client, method)

    response = send(
        reverse(route),
        **{
            "CONTENT_LENGTH": str(settings.DSR_MAX_REQUEST_BYTES + 1),
            "wsgi.input": UnreadableInput(),
        },
    )

    assert response.status_code == 413


def test_a_request_at_the_limit_is_not_refused_for_its_size(areas, frozen_now):
    body = b"who=self"
    with override_settings(DSR_MAX_REQUEST_BYTES=len(body)):
        response = Client().generic(
            "POST", reverse("referrals:who"), body, "application/x-www-form-urlencoded"
        )

    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:step", args=["self", "about-you"])


# --- What is actually received ----------------------------------------------------------------


def test_a_body_longer_than_its_declared_length_is_read_only_to_that_length(
    client, areas, frozen_now
):
    """A body that says it is small and is not: Django reads the declared bytes and no more, so
    the page gets a form cut off in its first file, and sends nothing."""
    walk(client, "self", answers_for("self", areas["north"].pk))
    body = encode_multipart(
        BOUNDARY,
        {
            "submission_token": token_from(client),
            "attachments": [SimpleUploadedFile("big.pdf", _pdf(40 * MB))],
            "form_end": "1",
        },
    )
    stream = CountingInput(body)

    response = client.generic(
        "POST", CHECK, b"", MULTIPART_CONTENT, **{"CONTENT_LENGTH": "1000", "wsgi.input": stream}
    )

    assert stream.bytes_read <= 1000
    assert response.status_code == 200
    assert "The page was not sent completely." in response.content.decode()
    assert Referral.objects.count() == 0


def test_a_chunked_body_without_a_length_is_not_read(client, areas, frozen_now):
    """Sent chunked, with no Content-Length: Django takes the body to be empty and reads none of
    it, so the page gets an empty form, and sends nothing."""
    walk(client, "self", answers_for("self", areas["north"].pk))
    stream = CountingInput(_multipart([_pdf(40 * MB)]))

    response = client.generic(
        "POST",
        CHECK,
        b"",
        MULTIPART_CONTENT,
        **{"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": stream},
    )

    assert "CONTENT_LENGTH" not in response.wsgi_request.META
    assert stream.bytes_read == 0
    assert response.status_code == 200
    assert "This page has expired" in response.content.decode()
    assert Referral.objects.count() == 0


@override_settings(DSR_MAX_REQUEST_BYTES=3 * MB, FILE_UPLOAD_MAX_MEMORY_SIZE=MB)
def test_file_bytes_received_past_the_limit_are_refused_whatever_the_declared_length(
    tmp_path, caplog
):
    """A request whose stream delivers more than it declared (a server that does not hold the
    body to Content-Length): the first upload handler counts what arrives, stops at the limit,
    and the request is refused 413 before any view, with the partial file deleted."""
    body = _multipart([_pdf(2 * MB), _pdf(2 * MB)])  # 4MB of files, over the 3MB limit
    request = RequestFactory().generic("POST", CHECK, body, MULTIPART_CONTENT)
    # Declared below the limit but above what is kept in memory, so files go to disk.
    request.META["CONTENT_LENGTH"] = str(2 * MB + MB // 2)
    stream = CountingInput(body)
    request._stream = stream
    reached = []

    def view(request):
        reached.append(request)
        return HttpResponse("the form was handed on")

    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        response = RequestSizeLimitMiddleware(view)(request)

    assert response.status_code == 413
    assert "Your files are too large to send" in response.content.decode()
    assert reached == []
    # Reading stopped at the chunk that passed the limit, not at the end of the body.
    assert 3 * MB < stream.bytes_read < 3 * MB + MB
    assert stream.bytes_read < len(body)
    assert list(tmp_path.iterdir()) == []  # the file kept so far was closed and deleted
    assert default_storage.listdir("")[1] == []
    assert len(_refusals(caplog)) == 1


@override_settings(DSR_MAX_REQUEST_BYTES=3 * MB)
def test_file_bytes_within_the_limit_are_handed_on_whole():
    body = _multipart([_pdf(MB), _pdf(MB)])
    request = RequestFactory().generic("POST", CHECK, body, MULTIPART_CONTENT)
    request.META["CONTENT_LENGTH"] = "1000"
    request._stream = io.BytesIO(body)
    reached = []

    def view(request):
        reached.append([f.size for f in request.FILES.getlist("attachments")])
        return HttpResponse("ok")

    response = RequestSizeLimitMiddleware(view)(request)

    assert response.status_code == 200
    assert reached == [[MB, MB]]
