"""Checks for files people attach to referrals: how many, how big, and what they really are.

A file's kind is read from its content (its first bytes, and for Word's newer format the list
of parts inside the zip), never from its name or the content type the browser sent. A file is
accepted only when its content is one of the allowed kinds *and* its name ends with an extension
of that kind, so staff who download it later get what the name promises.

`check_uploads(files)` is the entry point: it raises `django.core.exceptions.ValidationError`
with one full-sentence message per refused file, or sets `checked_content_type` on each file
(which `referrals.services.referral_submit` stores) and returns nothing.

Before any of that, a whole request is held to settings.DSR_MAX_REQUEST_BYTES: its declared
length by `dsr.security.middleware.RequestSizeLimitMiddleware`, and the file bytes actually
received by `RequestSizeUploadHandler`, the first of settings.FILE_UPLOAD_HANDLERS.
"""

import logging
import os
import re
import struct
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

logger = logging.getLogger(__name__)

MAX_FILES = 3
MAX_BYTES = 10 * 1024 * 1024
# Images this large in pixels are decompression bombs, whatever their size on disk.
MAX_PIXELS = 50_000_000
# A .docx is a zip: refuse one that would unpack to far more than it weighs (a zip bomb).
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
MAX_ZIP_ENTRIES = 2000

ALLOWED_DESCRIPTION = "a PDF, a Word document (.doc or .docx), a JPEG or a PNG"


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extensions: tuple[str, ...]
    label: str


PDF = FileKind("application/pdf", (".pdf",), "a PDF")
DOC = FileKind("application/msword", (".doc",), "a Word 97-2003 document")
DOCX = FileKind(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
    "a Word document",
)
JPEG = FileKind("image/jpeg", (".jpg", ".jpeg"), "a JPEG image")
PNG = FileKind("image/png", (".png",), "a PNG image")
ALLOWED_EXTENSIONS = tuple(ext for kind in (PDF, DOC, DOCX, JPEG, PNG) for ext in kind.extensions)

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PNG = b"\x89PNG\r\n\x1a\n"
# The directory of a Word 97-2003 file names its main stream "WordDocument" in UTF-16.
_WORD_STREAM = "WordDocument".encode("utf-16-le")
# PDF features that run code or carry other files. Names may be written with #xx escapes
# (/J#61vaScript), so those are refused too rather than decoded.
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA)(?![A-Za-z])")
_PDF_ESCAPED_NAME = re.compile(rb"/[A-Za-z]*#[0-9A-Fa-f]{2}")
# A PDF ends with %%EOF, which readers look for in its last 1024 bytes; a PNG ends with its
# IEND chunk. Without them a file was cut off in transit (a truncated upload), or carries
# something after its end (a PNG with a script or an archive appended: a polyglot).
_PDF_END = b"%%EOF"
_PNG_END = b"IEND\xaeB`\x82"


class _Refused(Exception):
    """The content is not an acceptable file; the message is for the person who sent it."""


def _display_name(upload: UploadedFile) -> str:
    # The name is the sender's text: shown escaped by templates, trimmed and printable here.
    name = "".join(ch for ch in (upload.name or "") if ch.isprintable())
    return (name[:60] + "...") if len(name) > 60 else (name or "The file")


def _read_all(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    upload.seek(0)
    return data


def _png_pixels(data: bytes) -> int:
    # IHDR is always the first chunk: width and height are the 4-byte numbers at 16 and 20.
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise _Refused("is not a complete PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return width * height


def _jpeg_pixels(data: bytes) -> int:
    """Width times height from the first start-of-frame marker."""
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            raise _Refused("is not a complete JPEG image")
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        # SOF0 to SOF15, except DHT (C4), JPG (C8) and DAC (CC), carry the frame size.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width * height
        index += 2 + length
    raise _Refused("is not a complete JPEG image")


def _check_docx(stream: IO[bytes]) -> None:
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
            unzipped = sum(entry.file_size for entry in entries)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _Refused("is not a complete Word document") from None
    if "[Content_Types].xml" not in names or "word/document.xml" not in names:
        raise _Refused("is a zip file, not a Word document")
    if len(entries) > MAX_ZIP_ENTRIES or unzipped > MAX_UNZIPPED_BYTES:
        raise _Refused("is too large once unpacked")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _Refused("contains macros")


def _check_pdf(data: bytes) -> None:
    if _PDF_ACTIVE.search(data) or _PDF_ESCAPED_NAME.search(data):
        raise _Refused("contains scripts or embedded files")
    if _PDF_END not in data[-1024:]:
        raise _Refused("is not a complete PDF")


def _check_png(data: bytes) -> None:
    if _png_pixels(data) > MAX_PIXELS:
        raise _Refused("is too large an image")
    if not data.endswith(_PNG_END):
        raise _Refused("is not a complete PNG image")


def sniff(upload: UploadedFile) -> FileKind:
    """The kind of file `upload` holds, judged from its content only.

    Raises `_Refused` when the content is none of the allowed kinds, or is an allowed kind that
    carries something dangerous (a PDF with scripts or embedded files, a Word file with macros,
    an image too large in pixels, a zip that unpacks to far more than it weighs), or is cut
    short or has something after its end (a PDF without %%EOF, a PNG not ending in IEND).
    """
    data = _read_all(upload)
    if data.startswith(b"%PDF-"):
        _check_pdf(data)
        return PDF
    if data.startswith(_PNG):
        _check_png(data)
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        if _jpeg_pixels(data) > MAX_PIXELS:
            raise _Refused("is too large an image")
        return JPEG
    if data.startswith(_OLE2):
        if _WORD_STREAM not in data:
            raise _Refused("is not a Word document")
        return DOC
    if data.startswith(b"PK\x03\x04"):
        upload.seek(0)
        try:
            _check_docx(upload)
        finally:
            upload.seek(0)
        return DOCX
    raise _Refused(f"must be {ALLOWED_DESCRIPTION}")


def check_upload(upload: UploadedFile) -> str:
    """The checked content type of one file; raises `ValidationError` if it is refused."""
    name = _display_name(upload)
    if (upload.size or 0) > MAX_BYTES:
        raise ValidationError(f"{name} must be smaller than 10MB.", code="file_size")
    if (upload.size or 0) == 0:
        raise ValidationError(f"{name} is empty.", code="file_empty")
    extension = os.path.splitext(upload.name or "")[1].lower()
    try:
        kind = sniff(upload)
    except _Refused as refused:
        raise ValidationError(f"{name} {refused}.", code="file_type") from None
    if extension not in kind.extensions:
        raise ValidationError(
            f"{name} is {kind.label}, so its name must end in {' or '.join(kind.extensions)}.",
            code="file_type",
        )
    return kind.content_type


def check_uploads(uploads: Sequence[UploadedFile]) -> None:
    """Check every file; set `checked_content_type` on each when all pass.

    Raises `ValidationError` listing one message per refused file (or one about the number of
    files). Logs only counts and kinds, never names or content.
    """
    if len(uploads) > MAX_FILES:
        raise ValidationError(f"Select up to {MAX_FILES} files.", code="file_count")
    errors: list[ValidationError] = []
    checked: list[str] = []
    for upload in uploads:
        try:
            checked.append(check_upload(upload))
        except ValidationError as error:
            errors.append(error)
    if errors:
        logger.info("attachments refused count=%s of=%s", len(errors), len(uploads))
        raise ValidationError(errors)
    for upload, content_type in zip(uploads, checked, strict=True):
        upload.checked_content_type = content_type  # type: ignore[attr-defined]


# --- The size of a whole request ---------------------------------------------------------------


class RequestTooLarge(SuspiciousOperation):
    """A request body larger than settings.DSR_MAX_REQUEST_BYTES: answered with 413."""


class RequestSizeUploadHandler(FileUploadHandler):
    """Counts the bytes of the files a request actually delivers, and stops reading once they
    pass settings.DSR_MAX_REQUEST_BYTES, whatever length the request declared.

    First in settings.FILE_UPLOAD_HANDLERS, so it sees each chunk before the handlers that keep
    it. Past the limit it stops the upload (StopUpload, without reading the rest), so Django
    closes, and so deletes, the files kept so far; then it raises `RequestTooLarge` once Django
    asks whether the upload is complete, so no code ever gets the part of the form that was read.
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit: int = settings.DSR_MAX_REQUEST_BYTES
        self.received = 0
        self.refused = False

    def handle_raw_input(
        self, input_data: IO[bytes], META: dict, content_length: int, boundary: bytes, encoding=None
    ) -> None:
        # The middleware refuses a declared length over the limit first; this holds any other
        # reader of the form to it too.
        if content_length > self.limit:
            raise RequestTooLarge(f"declared {content_length} bytes, limit {self.limit}")
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.refused = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def upload_complete(self) -> None:
        if self.refused:
            raise RequestTooLarge(f"received over {self.limit} bytes of files")
