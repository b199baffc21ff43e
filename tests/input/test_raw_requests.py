"""Raw requests to the public forms that no browser would send (RELIABILITY C-2): invalid UTF-8
in the body and in the query string, wrong and broken content types, truncated or malformed
multipart bodies. None may give a 5xx or write anything. Missing and duplicate fields, methods
the pages refuse and over-large bodies are in tests/referrals/test_public_input.py."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from referrals.models import Referral, ReferralAttachment, ReferralContact
from reviews.models import CetrRequest
from tests.figures import record
from tests.input.strategies import row_counts
from tests.referrals.helpers import answers_for, step_url, walk

pytestmark = pytest.mark.django_db

BOUNDARY = "XyZBoundary"
# (name, body, content type)
RAW_BODIES = [
    ("invalid UTF-8 form", b"who=\xff\xfe\xc3\x28&given_name=\xed\xa0\x80", None),
    ("invalid UTF-8, percent-encoded", b"who=%ff%fe%c3%28&given_name=%ed%a0%80", None),
    ("lone surrogate escaped", b"given_name=%ed%b2%80&address=%f4%90%80%80", None),
    ("NUL bytes", b"who=self\x00&given_name=a%00b", None),
    ("charset that does not exist", b"who=self", "application/x-www-form-urlencoded; charset=nope"),
    ("charset UTF-7", b"who=+ADw-script+AD4-", "application/x-www-form-urlencoded; charset=utf-7"),
    ("JSON", b'{"who": "self", "given_name": "A"}', "application/json"),
    (
        "XML",
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
        "application/xml",
    ),
    ("plain text", b"who=self", "text/plain"),
    ("no content type", b"who=self", ""),
    ("multipart without a boundary", b"who=self", "multipart/form-data"),
    ("multipart with an empty boundary", b"--\r\n", "multipart/form-data; boundary="),
    (
        "multipart cut off in a part",
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="who"\r\n\r\nself\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="given_name"\r\n\r\nAle'
        ).encode(),
        f"multipart/form-data; boundary={BOUNDARY}",
    ),
    (
        "multipart cut off in the headers",
        f"--{BOUNDARY}\r\nContent-Disposition: form-da".encode(),
        f"multipart/form-data; boundary={BOUNDARY}",
    ),
    (
        "multipart file cut off",
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="plan.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n1 0 obj'
        ).encode(),
        f"multipart/form-data; boundary={BOUNDARY}",
    ),
    (
        "multipart with invalid UTF-8 names and values",
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="\xff\xfe"\r\n\r\n\xc3\x28\r\n'
            f"--{BOUNDARY}--\r\n"
        ).encode("latin-1"),
        f"multipart/form-data; boundary={BOUNDARY}",
    ),
    (
        "multipart with a path in the file name",
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="../../../etc/passwd"\r\nContent-Type: text/plain\r\n\r\nroot:x:0:0\r\n'
            f"--{BOUNDARY}--\r\n"
        ).encode(),
        f"multipart/form-data; boundary={BOUNDARY}",
    ),
    (
        "multipart with a bad transfer encoding",
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="who"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--{BOUNDARY}--\r\n"
        ).encode(),
        f"multipart/form-data; boundary={BOUNDARY}",
    ),
]
QUERY_STRINGS = ["change=%ff%fe", "change=1&change=%c3%28", "%ff=%ff", "change=\xff"]


def _targets(areas) -> list[tuple[str, Client]]:
    """Each public form, with a client at the point where a person would send it."""
    walked = Client()
    walk(walked, "self", answers_for("self", areas["north"].pk))
    started = Client()
    walk(started, "professional", answers_for("professional", areas["north"].pk), until="person")
    cetr = Client()
    cetr.get(reverse("reviews:request-public"))
    return [
        (reverse("referrals:who"), Client()),
        (step_url("self", "about-you"), Client()),
        (step_url("professional", "person"), started),
        (reverse("referrals:check"), walked),
        (reverse("reviews:request-public"), cetr),
        (reverse("accounts:sign-in"), Client()),
        (reverse("accounts:password-reset"), Client()),
    ]


def _rows():
    return row_counts(Referral, ReferralContact, ReferralAttachment, CetrRequest)


def test_raw_bodies_to_every_public_form_never_give_a_5xx_or_write_anything(areas):
    targets = _targets(areas)
    before = _rows()
    sent = 0
    statuses = set()
    for url, client in targets:
        for name, body, content_type in RAW_BODIES:
            cache.clear()
            response = client.generic(
                "POST",
                url,
                body,
                content_type=content_type
                if content_type is not None
                else "application/x-www-form-urlencoded",
            )
            assert response.status_code < 500, (url, name)
            assert response.status_code in (200, 302, 400, 413), (url, name)
            statuses.add(response.status_code)
            sent += 1

    assert _rows() == before
    assert 400 in statuses  # the broken multipart bodies are refused as bad requests
    record("C-2 raw requests to public forms (invalid bytes, content types, multipart)", sent)


def test_invalid_utf8_in_the_query_string_never_gives_a_5xx(areas):
    targets = _targets(areas)
    before = _rows()
    sent = 0
    for url, client in targets:
        for query in QUERY_STRINGS:
            cache.clear()
            for method in ("get", "post"):
                response = getattr(client, method)(url, QUERY_STRING=query)
                assert response.status_code < 500, (url, query, method)
                sent += 1

    assert _rows() == before
    record("C-2 raw query strings to public forms", sent)


def test_a_truncated_multipart_referral_submission_writes_nothing(areas):
    client = Client()
    walk(client, "self", answers_for("self", areas["north"].pk))
    page = client.get(reverse("referrals:check")).content.decode()
    token = page.split('name="submission_token" value="')[1][:36]
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="submission_token"\r\n\r\n'
        f'{token}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
        f'filename="plan.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n'
    ).encode()

    response = client.generic(
        "POST",
        reverse("referrals:check"),
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )

    # Django drops a file part cut short; the page's last field (after the files) is missing
    # too, so the referral is not sent without the document the person attached.
    assert response.status_code == 200
    assert "The page was not sent completely." in response.content.decode()
    assert Referral.objects.count() == 0
    assert ReferralAttachment.objects.count() == 0
