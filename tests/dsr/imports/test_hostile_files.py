"""An uploaded spreadsheet is hostile until read (issue 24, point 1): zip bombs, broken zips,
entity bombs, macros, formulas and megabytes of blank rows are refused or made harmless, with a
clear message, and a refused file writes nothing and keeps nothing."""

import io
import zipfile

import openpyxl
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from dsr.imports import files
from dsr.imports.report import report_xlsx
from dsr.models import RegisterImport
from tests.dsr.imports.conftest import EXAMPLE, row, xlsx
from tests.dsr.imports.flow import upload, upload_and_check

pytestmark = pytest.mark.django_db

WORKBOOK_PARTS = ("[Content_Types].xml", "xl/workbook.xml")


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def _with_part(data: bytes, name: str, content: bytes) -> bytes:
    """A copy of the workbook `data` with one part replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            if item.filename != name:
                archive.writestr(item, source.read(item.filename))
        archive.writestr(name, content)
    return out.getvalue()


def _refused(client, data: bytes, name: str = "register.xlsx") -> str:
    before = set(files._folder().iterdir())
    response = upload(client, data, name)
    assert response.status_code == 200
    assert RegisterImport.objects.count() == 0
    assert set(files._folder().iterdir()) == before  # nothing kept
    page = response.content.decode()
    assert "There is a problem" in page
    return page


def test_a_zip_bomb_is_refused_before_it_is_unpacked(lead_client):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in WORKBOOK_PARTS:
            archive.writestr(name, b"<x/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(150):  # 150MB unpacked, well under 1MB packed
                part.write(chunk)
    data = out.getvalue()
    assert len(data) < 1024 * 1024
    page = _refused(lead_client, data)
    assert "The workbook is too large once unpacked." in page


def test_a_broken_zip_is_refused(lead_client):
    data = xlsx([row()])
    page = _refused(lead_client, data[: len(data) // 2])
    assert "The file is not a complete Excel workbook (.xlsx)." in page


def test_an_entity_bomb_in_the_sheet_xml_is_refused(lead_client):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    data = _with_part(xlsx([row()]), "xl/worksheets/sheet1.xml", laughs)
    page = _refused(lead_client, data)
    assert "could not be read" in page or "not a complete Excel workbook" in page


def test_a_workbook_with_macros_is_refused(lead_client):
    data = _with_part(xlsx([row()]), "xl/vbaProject.bin", b"macro")
    assert "The workbook contains macros." in _refused(lead_client, data)


def test_a_file_whose_content_is_not_its_name_is_refused(lead_client):
    assert "must be an Excel workbook (.xlsx) or a CSV file" in _refused(
        lead_client, b"%PDF-1.7 not a sheet", "register.xlsx"
    )
    assert "must be an Excel workbook (.xlsx) or a CSV file" in _refused(
        lead_client, xlsx([row()]), "register.csv"
    )


def test_a_file_over_the_size_limit_is_refused(lead_client):
    data = b"NHS Number,Forename\n" + b"x" * settings.DSR_IMPORT_MAX_BYTES
    assert "must be smaller than 10MB" in _refused(lead_client, data, "register.csv")


def test_ten_megabytes_of_blank_rows_read_as_the_rows_that_hold_data(lead_client):
    header = ",".join(["NHS Number", "Forename", "Surname", "DOB"]).encode() + b"\n"
    data_rows = b"9434765919,Ada,Lovelace,10/12/1990\n"
    blank = b",,,\n"
    data = header + data_rows + blank * ((10 * 1024 * 1024 - 200) // len(blank))
    assert len(data) < settings.DSR_IMPORT_MAX_BYTES
    upload_data = files.read_upload("register.csv", data)
    assert [len(sheet.rows) for sheet in upload_data.sheets] == [2]
    assert upload_data.sheets[0].stopped_early


def test_ten_megabytes_of_blank_rows_in_a_workbook_read_as_the_rows_that_hold_data():
    blank_rows = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t></t></is></c></row>' % (n, n)
        for n in range(3, 160_000)
    )
    assert len(blank_rows) > 10 * 1024 * 1024
    sheet = (
        b'<?xml version="1.0"?><worksheet '
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>NHS Number</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>Forename</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>9434765919</t></is></c>'
        b'<c r="B2" t="inlineStr"><is><t>Ada</t></is></c></row>'
        + blank_rows
        + b"</sheetData></worksheet>"
    )
    data = _with_part(xlsx([]), "xl/worksheets/sheet1.xml", sheet)
    read = files.read_upload("register.xlsx", data)
    assert [len(s.rows) for s in read.sheets] == [2]


def test_formulas_are_never_run_and_the_report_writes_none(lead_client):
    data = xlsx(
        [
            row(Forename='=HYPERLINK("http://evil.example","Click")'),
            row(**{"NHS Number": "9990786666", "Surname": "+SUM(A1:A2)", "Forename": "Bo"}),
            row(**{"NHS Number": "9995908301", "Forename": "Cy", "Key worker": "@cmd"}),
        ]
    )
    register_import = upload_and_check(lead_client, data)
    rows = {r.row_number: r for r in register_import.rows.all()}
    assert rows[2].outcome == "refused"
    assert rows[2].problems[0]["message"] == "This cell holds a formula. Type the value itself."
    assert rows[3].outcome == "refused"  # "+SUM(...)" is not a name
    report = openpyxl.load_workbook(io.BytesIO(report_xlsx(register_import)))
    cells = [cell for line in report.active.iter_rows() for cell in line]
    assert not [c for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@"))]
    assert '\'=HYPERLINK("http://evil.example","Click")' in texts
    assert "'+SUM(A1:A2)" in texts and "'@cmd" in texts
    response = lead_client.get(reverse("dsr:import-report", args=[register_import.pk]))
    assert response["Content-Disposition"].startswith("attachment;")


def test_the_file_is_kept_outside_the_web_root_and_deleted_once_imported(lead_client):
    from dsr.imports.run import run

    register_import = upload_and_check(lead_client, EXAMPLE.read_bytes())
    stored = files._folder() / register_import.stored_name
    assert stored.exists() and register_import.stored_name != "dsr-register-example.xlsx"
    assert not str(stored).startswith(str(settings.STATIC_ROOT))
    lead_client.post(reverse("dsr:import-start", args=[register_import.pk]))
    run(register_import.pk)
    register_import.refresh_from_db()
    assert not stored.exists() and register_import.file_deleted_at is not None


def test_read_upload_refuses_an_empty_file():
    with pytest.raises(ValidationError, match="empty"):
        files.read_upload("register.csv", b"")
