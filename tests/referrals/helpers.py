"""Helpers for the public referral tests: valid answers for every step, and walking the steps
through the HTTP client as a browser would (one POST per page)."""

import io
import re
import struct
import zipfile
import zlib
from copy import deepcopy

from django.test import Client
from django.urls import reverse

from referrals.forms.public import STEP_SLUGS

GIVEN_NAME = "Alexandra"
FAMILY_NAME = "Quillfeather"

_PERSON = {
    "given_name": GIVEN_NAME,
    "family_name": FAMILY_NAME,
    "date_of_birth_day": "14",
    "date_of_birth_month": "2",
    "date_of_birth_year": "2004",
    "nhs_number": "943 476 5919",
    "address": "1 High Street\nNorwich",
    "postcode": "nr1 2dh",
    "local_authority": "",  # filled in with an area's pk by answers_for()
    "gp_practice_name": "Riverside Surgery",
}
_COMMON = {
    "diagnosis": {
        "diagnosis": "autism",
        "diagnosis_status": "confirmed",
        "co_occurring": ["adhd", "epilepsy"],
    },
    "risks": {
        "risk_factors": ["crisis", "breakdown"],
        "risks": "Placement at risk of breaking down after three crisis team visits.",
        "tried": "Extra staff at home.",
        "would_help": "A keyworker and a community review.",
    },
    "support": {
        "has_ehcp": "yes",
        "education_setting": "Northshire College",
        "social_care": "",
        "other_professionals": "",
    },
    "communication": {
        "communication_needs": "Short sentences and extra time.",
        "accessible_formats": ["easy_read"],
        "interpreter_language": "",
    },
}
_BY_KIND = {
    "self": {
        "about-you": {"referrer_email": "alex@example.com", "referrer_phone": "07700 900 982"},
        "outcome": {
            "has_carer": "yes",
            "carer_name": "Jo Carer",
            "carer_relationship": "Mother",
            "carer_email": "jo@example.com",
            "carer_phone": "",
            "carer_address": "",
            "carer_parental_responsibility": "no",
            "carer_format": "easy_read",
        },
        "consent": {
            "consent_to_referral": "yes",
            "consent_to_share": "yes",
            "consent_basis": "own_consent",
        },
    },
    "family": {
        "about-you": {
            "referrer_name": "Sam Parent",
            "referrer_relationship": "Father",
            "referrer_email": "sam@example.com",
            "referrer_phone": "",
            "referrer_address": "",
        },
        "outcome": {
            "person_email": "",
            "referrer_parental_responsibility": "yes",
            "outcome_to_referrer": "yes",
            "referrer_format": "standard",
            "has_carer": "no",
        },
        "consent": {
            "consent_to_referral": "yes",
            "consent_to_share": "yes",
            "consent_basis": "parental_responsibility",
            "consent_given_by": "Sam Parent, father",
        },
    },
    "professional": {
        "about-you": {
            "referrer_name": "Pat Professional",
            "referrer_role": "Community learning disability nurse",
            "referrer_organisation": "Test NHS Trust",
            "referrer_email": "pat.professional@nhs.net",
            "referrer_phone": "01632 960 001",
            "referrer_address": "",
        },
        "outcome": {"person_email": "", "has_carer": "no"},
        "consent": {
            "consent_to_referral": "yes",
            "consent_to_share": "yes",
            "consent_basis": "best_interests",
            "consent_given_by": "Dr Lee, consultant psychiatrist",
        },
    },
}


def answers_for(kind: str, area_pk: int | str = "not_sure") -> dict[str, dict]:
    """Valid answers for every step of `kind`, keyed by step slug, as the browser posts them."""
    answers = deepcopy(_COMMON) | deepcopy(_BY_KIND[kind])
    answers["person"] = deepcopy(_PERSON) | {"local_authority": str(area_pk)}
    return answers


def step_url(kind: str, step: str) -> str:
    return reverse("referrals:step", kwargs={"kind": kind, "step": step})


def walk(client: Client, kind: str, answers: dict[str, dict], *, until: str | None = None):
    """POST each step's answers in order (stopping before `until`); each must move on."""
    for slug in STEP_SLUGS:
        if slug == until:
            return
        response = client.post(step_url(kind, slug), answers[slug])
        assert response.status_code == 302, (slug, response.content.decode()[:2000])


_TOKEN = re.compile(r'name="submission_token" value="([0-9a-f-]{36})"')


def token_from(client: Client) -> str:
    """Open the check page and read the submission token from its form."""
    page = client.get(reverse("referrals:check"))
    assert page.status_code == 200
    return _TOKEN.search(page.content.decode()).group(1)


def submit(client: Client, token: str, **extra):
    """POST the check page's form as a browser does: the token, any attachments or honeypot
    value, and the page's last field (form_end)."""
    return client.post(
        reverse("referrals:check"), {"submission_token": token, "form_end": "1", **extra}
    )


# --- Small real files ----------------------------------------------------------------------


def small_pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def small_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def small_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Override PartName="/word/document.xml" ContentType="'
            'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"'
            "/></Types>",
        )
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Care plan</w:t></w:r></w:p>'
            "</w:body></w:document>",
        )
    return buffer.getvalue()
