"""Reading an uploaded register spreadsheet, treated as hostile (issue 24, point 1).

- Size: at most settings.DSR_IMPORT_MAX_BYTES; rows: at most settings.DSR_IMPORT_MAX_ROWS data
  rows, DSR_IMPORT_MAX_COLUMNS columns, cells of at most CELL_LIMIT characters.
- Kind: judged from the content, and the name must agree (.xlsx or .csv). An .xlsx is a zip:
  its directory is read first and refused when it holds too many parts, would unpack to more
  than MAX_UNZIPPED_BYTES (a zip bomb: the sizes it declares bound what Python's zipfile will
  unpack), carries macros, or is not a workbook. Its XML is parsed by openpyxl, which uses
  defusedxml (installed with the project) so entity expansion and external entities are
  refused.
- Formulas are never evaluated: a cell holding one is kept as {"formula": text} and refused by
  the dry run; blank rows are skipped, and a run of BLANK_RUN_LIMIT blank rows ends the sheet
  (sheets formatted down to row 1,048,576 hold no data there).
- The file is stored under a random name in settings.DSR_IMPORT_DIR, outside the web root, and
  never served back; `discard` deletes it once the import no longer needs it.
"""

import csv
import datetime
import hashlib
import io
import logging
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from dsr.nhsuk.uploads import MAX_UNZIPPED_BYTES, MAX_ZIP_ENTRIES

logger = logging.getLogger(__name__)

CELL_LIMIT = 1000
BLANK_RUN_LIMIT = 1000
HEADER_SEARCH_ROWS = 30


class FileRefused(Exception):
    """The file cannot be read as a register; the message is for the lead."""


@dataclass
class Sheet:
    name: str
    # (row number as the spreadsheet shows it, cells) for every non-blank row
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    stopped_early: bool = False


def _cell(value: Any, is_formula: bool = False) -> Any:
    """A cell as JSON: text, a number, {"date": iso}, {"formula": text} or None."""
    if value is None:
        return None
    if is_formula or (isinstance(value, str) and value.startswith("=") and len(value) > 1):
        return {"formula": str(value)[:CELL_LIMIT]}
    if isinstance(value, datetime.datetime):
        return {"date": value.date().isoformat()}
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()}
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return value
    text = str(value)
    if len(text) > CELL_LIMIT:
        return {"too_long": len(text)}
    text = text.strip()
    return text or None


def _trim(cells: list[Any]) -> list[Any]:
    while cells and cells[-1] is None:
        cells.pop()
    return cells


def _collect(name: str, rows: Iterator[tuple[int, list[Any]]]) -> Sheet:
    sheet = Sheet(name=name)
    blank_run = 0
    limit = settings.DSR_IMPORT_MAX_ROWS + HEADER_SEARCH_ROWS
    for number, cells in rows:
        cells = _trim(cells)
        if not cells:
            blank_run += 1
            if blank_run >= BLANK_RUN_LIMIT:
                sheet.stopped_early = True
                break
            continue
        blank_run = 0
        sheet.rows.append((number, cells))
        if len(sheet.rows) > limit:
            raise FileRefused(
                f"The sheet “{name[:40]}” has more than {settings.DSR_IMPORT_MAX_ROWS:,} rows. "
                "Split it into smaller files."
            )
    return sheet


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused("The file is not a complete Excel workbook (.xlsx).") from None
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileRefused("The file is not an Excel workbook (.xlsx).")
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_UNZIPPED_BYTES:
        raise FileRefused("The workbook is too large once unpacked.")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise FileRefused("The workbook contains macros. Save it as a plain .xlsx workbook.")


def _xlsx_sheets(data: bytes) -> list[Sheet]:
    import openpyxl  # imported here: only imports need it

    _check_zip(data)
    max_col = settings.DSR_IMPORT_MAX_COLUMNS
    try:
        book = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=False, keep_links=False
        )
    except Exception as exc:  # noqa: BLE001  (any parser failure means the same to the lead)
        logger.info("workbook refused (%s)", type(exc).__name__)
        raise FileRefused("The file is not a complete Excel workbook (.xlsx).") from None
    sheets = []
    try:
        for worksheet in book.worksheets:
            if getattr(worksheet, "sheet_state", "visible") != "visible":
                continue

            def rows(ws=worksheet) -> Iterator[tuple[int, list[Any]]]:
                # From row 1, every row in turn (read-only sheets fill gaps with empty rows).
                for number, row in enumerate(ws.iter_rows(min_row=1, max_col=max_col), start=1):
                    yield number, [_cell(c.value, getattr(c, "data_type", "") == "f") for c in row]

            try:
                sheets.append(_collect(worksheet.title, rows()))
            except FileRefused:
                raise
            except Exception as exc:  # noqa: BLE001
                logger.info("worksheet refused (%s)", type(exc).__name__)
                raise FileRefused("Part of the workbook could not be read.") from None
    finally:
        book.close()
    return sheets


def _csv_sheets(data: bytes) -> list[Sheet]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise FileRefused("The file is not a text CSV file.")
    sample = text[:20000]
    delimiter = max((",", ";", "\t"), key=sample.count)
    max_col = settings.DSR_IMPORT_MAX_COLUMNS

    def rows() -> Iterator[tuple[int, list[Any]]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            for number, row in enumerate(reader, start=1):
                yield number, [_cell(value) for value in row[:max_col]]
        except csv.Error:
            raise FileRefused(
                "The CSV file could not be read: check it was saved as CSV."
            ) from None

    return [_collect("CSV", rows())]


@dataclass
class Upload:
    kind: str
    checksum: str
    sheets: list[Sheet]
    data: bytes


def read_upload(name: str, data: bytes) -> Upload:
    """Check and read an uploaded file. Raises ValidationError with a message for the lead."""
    limit = settings.DSR_IMPORT_MAX_BYTES
    if not data:
        raise ValidationError("The selected file is empty.", code="file_empty")
    if len(data) > limit:
        raise ValidationError(
            f"The selected file must be smaller than {limit // (1024 * 1024)}MB.",
            code="file_size",
        )
    extension = Path(name or "").suffix.lower()
    is_zip = data.startswith(b"PK\x03\x04")
    try:
        if extension == ".xlsx" and is_zip:
            kind, sheets = "xlsx", _xlsx_sheets(data)
        elif extension == ".csv" and not is_zip:
            kind, sheets = "csv", _csv_sheets(data)
        else:
            raise FileRefused("The selected file must be an Excel workbook (.xlsx) or a CSV file.")
    except FileRefused as refused:
        raise ValidationError(str(refused), code="file_type") from None
    except RecursionError:
        raise ValidationError("The file could not be read.", code="file_type") from None
    if not any(sheet.rows for sheet in sheets):
        raise ValidationError("The selected file has no rows in it.", code="file_empty")
    return Upload(kind, hashlib.sha256(data).hexdigest(), sheets, data)


def display_name(name: str) -> str:
    cleaned = "".join(ch for ch in (name or "") if ch.isprintable())
    return (cleaned[:90] + "...") if len(cleaned) > 90 else (cleaned or "spreadsheet")


# --- Where the file is kept while the import needs it -----------------------------------------


def _folder() -> Path:
    folder = Path(settings.DSR_IMPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def store(data: bytes, kind: str) -> str:
    """Keep the file under a random name; returns the name."""
    stored = f"{secrets.token_hex(16)}.{kind}"
    path = _folder() / stored
    with open(path, "xb") as handle:
        handle.write(data)
    path.chmod(0o600)
    return stored


def load(stored: str) -> bytes:
    if not stored or "/" in stored or "\\" in stored or stored.startswith("."):
        raise FileNotFoundError(stored)
    return (_folder() / stored).read_bytes()


def discard(stored: str) -> None:
    if not stored or "/" in stored or stored.startswith("."):
        return
    (_folder() / stored).unlink(missing_ok=True)


def discard_expired() -> int:
    """Delete stored files older than DSR_IMPORT_KEEP_HOURS (and note it on their imports)."""
    from django.utils import timezone

    from dsr.models import RegisterImport

    cutoff = timezone.now() - datetime.timedelta(hours=settings.DSR_IMPORT_KEEP_HOURS)
    removed = 0
    for path in _folder().iterdir():
        modified = datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC)
        if path.is_file() and modified < cutoff:
            path.unlink(missing_ok=True)
            RegisterImport.objects.filter(
                stored_name=path.name, file_deleted_at__isnull=True
            ).update(file_deleted_at=timezone.now())
            removed += 1
    return removed
