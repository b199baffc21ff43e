"""Bringing an ICB's existing register across from its spreadsheet (issue 24), for the DSR lead.

The steps, each a page: upload (files.py: the file is hostile until read), match the columns
and the ICB's own words (mapping.py), the dry run (check.py, with a downloadable report:
report.py), then the import itself in the background, in batches, with undo (run.py).
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.imports import files, mapping
from dsr.imports.check import cell_text, dry_run, store_rows
from dsr.models import ImportMapping, ImportRow, RegisterImport, User
from dsr.security.scoping import local_authority_ids_for

Status = RegisterImport.Status


def _sheet_summary(sheet: files.Sheet) -> dict[str, Any]:
    index, score = mapping.find_header(sheet.rows)
    return {
        "name": sheet.name,
        "score": score,
        "header_index": index,
        "data_rows": max(0, len(sheet.rows) - index - 1),
        "stopped_early": sheet.stopped_early,
    }


def _fill_rows(register_import: RegisterImport, sheet: files.Sheet, header_index: int) -> None:
    """Keep the data rows below the header; skip copies of the header row further down."""
    number, header_cells = sheet.rows[header_index]
    headers = [cell_text(c).strip() for c in header_cells]
    # Blank or repeated headers get a name of their own, so each column can be chosen.
    seen: dict[str, int] = {}
    for i, header in enumerate(headers):
        header = header or f"Column {i + 1}"
        seen[header] = seen.get(header, 0) + 1
        headers[i] = header if seen[header] == 1 else f"{header} ({seen[header]})"
    register_import.headers = headers
    register_import.header_row = number
    register_import.sheet_name = sheet.name[:100]
    register_import.rows.all().delete()
    tidy_header = [mapping.tidy(cell_text(c)) for c in header_cells]
    rows = []
    for row_number, cells in sheet.rows[header_index + 1 :]:
        if [mapping.tidy(cell_text(c)) for c in cells] == tidy_header[: len(cells)]:
            continue
        rows.append(ImportRow(register_import=register_import, row_number=row_number, raw=cells))
    ImportRow.objects.bulk_create(rows, batch_size=1000)
    register_import.rows_total = len(rows)


@transaction.atomic
def import_upload(
    *, name: str, data: bytes, by: User, saved_mapping: ImportMapping | None = None
) -> RegisterImport:
    """Read and keep an uploaded file (ValidationError if refused) and find its data: the sheet
    whose header row looks most like a register's."""
    upload = files.read_upload(name, data)
    summaries = [_sheet_summary(sheet) for sheet in upload.sheets]
    best = max(
        range(len(summaries)), key=lambda i: (summaries[i]["score"], summaries[i]["data_rows"])
    )
    register_import = RegisterImport(
        uploaded_by=by,
        file_name=files.display_name(name),
        checksum=upload.checksum,
        file_kind=upload.kind,
        sheets=summaries,
    )
    register_import.stored_name = files.store(upload.data, upload.kind)
    set_change_reason(register_import, "File uploaded", by=by)
    register_import.save()
    _fill_rows(register_import, upload.sheets[best], summaries[best]["header_index"])
    suggested = mapping.suggest_columns(register_import.headers)
    if saved_mapping is not None:
        register_import.mapping = saved_mapping
        kept = {f: h for f, h in saved_mapping.columns.items() if h in register_import.headers}
        suggested = {**suggested, **kept}
        register_import.values = saved_mapping.values
        register_import.constants = saved_mapping.constants
    register_import.columns = suggested
    register_import.save()
    return register_import


@transaction.atomic
def import_choose_sheet(*, register_import: RegisterImport, sheet_name: str, by: User) -> None:
    data = files.load(register_import.stored_name)
    upload = files.read_upload(f"file.{register_import.file_kind}", data)
    for sheet in upload.sheets:
        if sheet.name == sheet_name:
            index, _ = mapping.find_header(sheet.rows)
            _fill_rows(register_import, sheet, index)
            register_import.columns = mapping.suggest_columns(register_import.headers)
            register_import.status = Status.UPLOADED
            set_change_reason(register_import, "Sheet chosen", by=by)
            register_import.save()
            return
    raise RegisterError("Choose a sheet from the list.")


def columns_values(
    register_import: RegisterImport, fields: list[str], limit: int = 60
) -> dict[str, list[str]]:
    """The distinct words in the columns mapped to each of `fields`, in the order first seen,
    from one pass over the rows."""
    headers = register_import.headers
    indexes = {
        field: headers.index(register_import.columns[field])
        for field in fields
        if register_import.columns.get(field) in headers
    }
    seen: dict[str, dict[str, str]] = {field: {} for field in fields}
    if not indexes:
        return {field: [] for field in fields}
    for raw in register_import.rows.values_list("raw", flat=True).iterator():
        for field, index in indexes.items():
            words = seen[field]
            if len(words) >= limit or index >= len(raw):
                continue
            value = raw[index]
            if value is not None and not isinstance(value, dict):
                text = cell_text(value).strip()
                if text and mapping.word(text) not in words:
                    words[mapping.word(text)] = text
        if all(len(seen[field]) >= limit for field in indexes):
            break
    return {field: list(words.values()) for field, words in seen.items()}


def column_values(register_import: RegisterImport, field: str, limit: int = 60) -> list[str]:
    """The distinct words in the column mapped to `field`, in the order first seen."""
    return columns_values(register_import, [field], limit)[field]


def value_words(register_import: RegisterImport) -> dict[str, list[str]]:
    """The words the values page asks the lead about, by field: those of each column of choices
    and, when the sheet names hospitals but has no column for their ODS codes, each hospital."""
    columns = register_import.columns
    fields = [
        f.name for f in mapping.FIELDS if f.kind in ("choice", "yes_no") and f.name in columns
    ]
    hospitals = "hospital_name" in columns and "hospital_ods_code" not in columns
    words = columns_values(register_import, [*fields, "hospital_name"] if hospitals else fields)
    if hospitals:
        words["hospital_ods_code"] = words.pop("hospital_name")
    return words


@transaction.atomic
def import_set_columns(
    *, register_import: RegisterImport, columns: dict[str, str], by: User
) -> RegisterImport:
    register_import.columns = {f: h for f, h in columns.items() if h}
    register_import.status = Status.UPLOADED
    set_change_reason(register_import, "Columns matched", by=by)
    register_import.save()
    return register_import


@transaction.atomic
def import_set_values(
    *,
    register_import: RegisterImport,
    values: dict[str, dict[str, str]],
    constants: dict[str, str],
    save_as: str,
    by: User,
) -> RegisterImport:
    register_import.values = values
    register_import.constants = constants
    if save_as:
        saved, _ = ImportMapping.objects.get_or_create(name=save_as, defaults={"saved_by": by})
        saved.columns = register_import.columns
        saved.values = values
        saved.constants = constants
        saved.saved_by = by
        set_change_reason(saved, "Mapping saved", by=by)
        saved.save()
        register_import.mapping = saved
    set_change_reason(register_import, "Values matched", by=by)
    register_import.save()
    return register_import


def import_check(*, register_import: RegisterImport, by: User) -> RegisterImport:
    """Queue the dry run, which runs in the background (check_run) with its progress on the
    page: every row checked; nothing on the register is written."""
    from dsr.tasks import check_import_task

    with transaction.atomic():
        locked = RegisterImport.objects.select_for_update().get(pk=register_import.pk)
        if locked.status not in (Status.UPLOADED, Status.CHECKED):
            raise RegisterError("This import has already started.")
        locked.status = Status.CHECKING
        locked.rows_done = 0  # of rows_total, counted when the sheet was read
        set_change_reason(locked, "Check started", by=by)
        locked.save()
        transaction.on_commit(lambda: check_import_task.delay(locked.pk, by.pk))
    return locked


def check_run(import_id: int, by_id: int) -> dict[str, int] | None:
    """The dry run of a queued check, for the areas of the lead who asked for it. Rows are
    checked and stored 500 at a time, each time moving the progress bar. Safe to run twice or
    after a killed worker: it checks every row again, and writes only the rows' findings.
    Returns the count of each outcome (None if the import is no longer being checked)."""
    register_import = RegisterImport.objects.get(pk=import_id)
    if register_import.status != Status.CHECKING:
        return None
    by = User.objects.get(pk=by_id)

    def progress(done: int) -> None:
        RegisterImport.objects.filter(pk=import_id, status=Status.CHECKING).update(
            rows_done=done, updated_at=timezone.now()
        )

    counts = dry_run(register_import, local_authority_ids_for(by), progress)
    with transaction.atomic():
        locked = RegisterImport.objects.select_for_update().get(pk=import_id)
        if locked.status != Status.CHECKING:
            return None
        locked.counts = counts
        locked.status = Status.CHECKED
        locked.rows_done = 0
        set_change_reason(locked, "Checked", by=by)
        locked.save()
    return counts


@transaction.atomic
def import_decide(
    *, register_import: RegisterImport, decisions: dict[int, str], by: User
) -> RegisterImport:
    """The lead's decisions on likely matches ("same" or "different"), then the dry run again."""
    rows = list(register_import.rows.filter(pk__in=decisions))
    for row in rows:
        row.decision = decisions[row.pk]
    store_rows(rows, ["decision"])
    return import_check(register_import=register_import, by=by)
