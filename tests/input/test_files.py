"""Hostile files and how attachments are stored and served (RELIABILITY D-1, D-2).

D-1: a corpus of renamed, polyglot, truncated and dangerous files, built here from real bytes
(a zip bomb as a real .docx whose member unpacks past MAX_UNZIPPED_BYTES), each refused by the
upload check and by the public check page with nothing written; and the polyglots the check
cannot tell from a real file of their kind (a PDF that is also HTML, a JPEG with a zip after
it), which are served only as downloads of their checked type with nosniff.

D-2: no URL serves the stored files: requested under MEDIA_URL, /media/, /static/ or the site
root they are never returned, signed in or not; only the access-checked download view
returns them, as attachments.
"""

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from dsr.nhsuk import uploads
from referrals.models import Referral, ReferralAttachment
from tests.conftest import signed_in_client
from tests.figures import record
from tests.referrals.helpers import (
    answers_for,
    small_docx,
    small_pdf,
    small_png,
    submit,
    token_from,
    walk,
)

pytestmark = pytest.mark.django_db

SCRIPT = b"<script>alert(document.cookie)</script>"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def zip_bomb_docx() -> bytes:
    """A real Word document whose one extra part unpacks to just over MAX_UNZIPPED_BYTES of
    zeros: about 100 KB on disk."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(small_docx())) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
    ):
        for item in source.infolist():
            archive.writestr(item, source.read(item))
        chunk = bytes(1024 * 1024)
        with archive.open("word/media/image1.bin", "w", force_zip64=True) as member:
            for _ in range(uploads.MAX_UNZIPPED_BYTES // len(chunk) + 1):
                member.write(chunk)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _jpeg() -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 48, 64, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">' + (
    SCRIPT + b"</svg>"
)
# (name, content, the reason in the message): every one must be refused.
HOSTILE_FILES = [
    ("bomb.docx", zip_bomb_docx(), "is too large once unpacked"),
    ("drawing.svg", SVG, "must be a PDF"),
    ("drawing.png", SVG, "must be a PDF"),
    ("drawing.pdf", SVG, "must be a PDF"),
    ("photo.png", small_png() + SCRIPT, "is not a complete PNG image"),
    ("photo.png", small_png() + _zip({"payload.html": SCRIPT}), "is not a complete PNG image"),
    ("photo.png", small_png()[:-20], "is not a complete PNG image"),
    (
        "photo.png",
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)),
        "is too large an image",
    ),
    ("page.pdf", b"<html><body>" + SCRIPT + b"%PDF-1.4\n%%EOF\n</body></html>", "must be a PDF"),
    ("page.pdf", b"\xef\xbb\xbf<!DOCTYPE html><html>" + SCRIPT, "must be a PDF"),
    ("plan.pdf", small_pdf()[:40], "is not a complete PDF"),
    (
        "plan.pdf",
        b"%PDF-1.7\n1 0 obj<</Type/Catalog/OpenAction 2 0 R>>endobj\n"
        b"2 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\n%%EOF\n",
        "contains scripts",
    ),
    ("plan.pdf", b"%PDF-1.7\n<</S/Launch/F(cmd.exe)>>\n%%EOF\n", "contains scripts"),
    ("plan.pdf", b"%PDF-1.7\n<</Type/EmbeddedFile>>\n%%EOF\n", "contains scripts"),
    ("letter.docx", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120 + b"PE\x00\x00", "must be a PDF"),
    (
        "letter.docx",
        _zip(
            {
                "[Content_Types].xml": b"<Types/>",
                "word/document.xml": b"<w/>",
                "word/vbaProject.bin": b"\xd0\xcf",
            }
        ),
        "contains macros",
    ),
    ("letter.docx", _zip({"index.html": SCRIPT}), "is a zip file, not a Word document"),
    ("letter.pdf", small_docx(), "is a Word document, so its name must end in .docx"),
    ("script.js", b"alert(1)", "must be a PDF"),
    ("run.sh", b"#!/bin/sh\nrm -rf /\n", "must be a PDF"),
    ("plan.pdf.exe", small_pdf(), "is a PDF, so its name must end in .pdf"),
]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    HOSTILE_FILES,
    ids=[f"{n}-{name}" for n, (name, *_) in enumerate(HOSTILE_FILES)],
)
def test_each_hostile_file_is_refused_by_the_upload_check(name, content, reason):
    assert len(content) < uploads.MAX_BYTES  # each is refused for what it is, not its size
    with pytest.raises(ValidationError, match=reason):
        uploads.check_upload(SimpleUploadedFile(name, content))


def test_the_zip_bomb_is_small_on_disk_and_would_unpack_past_the_limit():
    bomb = zip_bomb_docx()

    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        unpacked = sum(item.file_size for item in archive.infolist())

    assert len(bomb) < 1024 * 1024
    assert unpacked > uploads.MAX_UNZIPPED_BYTES


def test_every_hostile_file_sent_with_a_referral_is_refused_and_nothing_written(areas):
    client = Client()
    walk(client, "self", answers_for("self", areas["north"].pk))
    refused = 0
    for name, content, reason in HOSTILE_FILES:
        response = submit(
            client,
            token_from(client),
            attachments=[SimpleUploadedFile(name, content, content_type="application/pdf")],
        )
        page = response.content.decode()
        assert response.status_code == 200, name
        assert "There is a problem" in page
        assert reason in page, (name, reason)
        assert Referral.objects.count() == 0
        assert ReferralAttachment.objects.count() == 0
        refused += 1

    record("D-1 hostile files refused", f"{refused} of {len(HOSTILE_FILES)}")


# --- Polyglots the check takes for their kind: served safely ----------------------------------

# (name, content, the type the download must carry)
SERVED_AS_DOWNLOADS = [
    (
        "report.pdf",
        b"%PDF-1.4\n<html><body>" + SCRIPT + b"</body></html>\n"
        b"1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
        "application/pdf",
    ),
    ("photo.jpg", _jpeg() + _zip({"payload.html": SCRIPT}), "image/jpeg"),
]


def test_polyglots_the_check_accepts_are_only_ever_downloads_of_their_checked_type(
    areas, organisations
):
    from tests.conftest import make_persona

    client = Client()
    walk(client, "self", answers_for("self", areas["north"].pk))
    files = [
        SimpleUploadedFile(name, content, content_type="text/html")
        for name, content, _ in SERVED_AS_DOWNLOADS
    ]
    assert submit(client, token_from(client), attachments=files).status_code == 302
    referral = Referral.objects.get()
    staff = signed_in_client(make_persona("register_staff", organisations))

    for stored, (name, content, content_type) in zip(
        referral.attachments.order_by("id"), SERVED_AS_DOWNLOADS, strict=True
    ):
        url = reverse("referrals:attachment", args=[referral.pk, stored.pk])
        response = staff.get(url)

        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"] == f'attachment; filename="{name}"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == content
        # Anyone else gets no bytes of it.
        anonymous = Client().get(url)
        assert anonymous.status_code in (302, 403, 404)
        assert content not in anonymous.content


# --- D-2: nothing serves the stored files but the download view --------------------------------


@pytest.fixture
def files_on_disk(tmp_path):
    """Attachments stored on disk, as in production, under a private folder."""
    with override_settings(
        MEDIA_ROOT=tmp_path / "private",
        STORAGES={
            **settings.STORAGES,
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        },
    ):
        yield tmp_path / "private"


def test_stored_files_are_reachable_by_no_url_but_the_access_checked_download(
    areas, organisations, files_on_disk
):
    from tests.conftest import make_persona

    client = Client()
    walk(client, "self", answers_for("self", areas["north"].pk))
    marker = b"%PDF-1.4\n% private care plan 7f3a9c\n%%EOF\n"
    submit(
        client,
        token_from(client),
        attachments=[SimpleUploadedFile("care plan.pdf", marker, content_type="application/pdf")],
    )
    stored = ReferralAttachment.objects.get()
    path = stored.file.name
    assert (files_on_disk / path).read_bytes() == marker
    assert default_storage.exists(path)
    # Stored under a generated name, never the one the sender gave.
    assert "care plan" not in path and stored.stored_name in path

    staff = signed_in_client(make_persona("register_staff", organisations))
    media_url = settings.MEDIA_URL or "/"
    candidates = {
        f"{media_url.rstrip('/')}/{path}",
        f"/media/{path}",
        f"/{path}",
        f"/static/{path}",
        f"/static/../var/private/{path}",
        f"/var/private/{path}",
        f"/private/{path}",
        f"/{stored.stored_name}",
    }
    tried = 0
    for url in sorted(candidates):
        for who in (Client(), staff):
            response = who.get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert marker not in body, url
            assert response.status_code in (302, 404), (url, response.status_code)
            tried += 1

    download = staff.get(reverse("referrals:attachment", args=[stored.referral_id, stored.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="care plan.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == marker
    record("D-2 URLs tried for a stored file (0 served it)", tried)


def test_the_private_files_folder_is_outside_every_folder_a_url_serves():
    private = Path(str(settings.MEDIA_ROOT)).resolve()
    served = [settings.STATIC_ROOT, settings.WHITENOISE_ROOT]
    served += [d[1] if isinstance(d, tuple) else d for d in settings.STATICFILES_DIRS]

    for folder in (Path(str(f)).resolve() for f in served):
        assert not private.is_relative_to(folder), folder
        assert not folder.is_relative_to(private), folder
