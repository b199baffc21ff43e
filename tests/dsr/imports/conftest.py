"""Fixtures for the spreadsheet import: a DSR lead whose ICB covers Norfolk and Suffolk (the
areas of the example register), and sheets built in memory."""

import io
from pathlib import Path

import openpyxl
import pytest

from dsr.roles import Role
from tests.conftest import account, signed_in_client
from tests.dsr.factories import LocalAuthorityFactory, OrganisationFactory

# The invented example register shaped like an ICB's spreadsheet (120 people, test NHS numbers).
EXAMPLE = Path(__file__).parent / "dsr-register-example.xlsx"

HEADERS = [
    "NHS Number",
    "Forename",
    "Surname",
    "DOB",
    "Gender",
    "Ethnicity",
    "Postcode",
    "Local Authority",
    "Diagnosis",
    "RAG",
    "Date added to DSR",
    "RAG last reviewed",
    "RAG rationale",
    "Consent",
    "Consent date",
    "Key worker",
    "Social worker",
    "EHCP",
    "Placement",
    "Out of area",
    "Current inpatient",
    "Hospital",
    "Admission date",
]


@pytest.fixture
def icb_areas(db):
    norfolk = LocalAuthorityFactory(name="Norfolk", gss_code="E10000020")
    suffolk = LocalAuthorityFactory(name="Suffolk", gss_code="E10000029")
    icb = OrganisationFactory(name="Norfolk and Suffolk ICB", local_authorities=[norfolk, suffolk])
    return {"norfolk": norfolk, "suffolk": suffolk, "icb": icb}


@pytest.fixture
def lead(icb_areas):
    return account(icb_areas["icb"], Role.DSR_LEAD, email="lead@nhs.example", full_name="Dee Lead")


@pytest.fixture
def lead_client(lead):
    return signed_in_client(lead)


def row(**values):
    """A data row in HEADERS order; anything not given is a typical valid adult's."""
    base = {
        "NHS Number": "9434765919",
        "Forename": "Ada",
        "Surname": "Lovelace",
        "DOB": "10/12/1990",
        "Gender": "Female",
        "Ethnicity": "White British",
        "Postcode": "NR1 1AA",
        "Local Authority": "Norfolk",
        "Diagnosis": "LD",
        "RAG": "Red",
        "Date added to DSR": "01/05/2025",
        "RAG last reviewed": "01/06/2025",
        "RAG rationale": "Placement breaking down",
        "Consent": "Yes",
        "Consent date": "01/05/2025",
        "Key worker": "Jo Hughes",
        "Social worker": None,
        "EHCP": "N",
        "Placement": "Family home",
        "Out of area": "N",
        "Current inpatient": "N",
        "Hospital": None,
        "Admission date": None,
    }
    base.update(values)
    return [base[h] for h in HEADERS]


def xlsx(rows, *, headers=HEADERS, title_rows=(), sheets=None) -> bytes:
    """A workbook: optional title rows, the header row, then `rows` (blank lines kept)."""
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Register"
    for title in title_rows:
        first.append([title])
    first.append(headers)
    for values in rows:
        first.append(values or [])
    for name, content in (sheets or {}).items():
        sheet = book.create_sheet(name, 0)  # before the register
        for values in content:
            sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
