"""The dry run's report as a spreadsheet the lead can fix and upload again (issue 24, point 3).

Each row of the sheet comes back with its outcome, the problem in each refused cell and the
next steps, followed by its cells as they were. The report is formula-safe: no cell is written
as a formula, and text that a spreadsheet would run as one (starting =, +, -, @, a tab or a
carriage return) is written with a leading apostrophe (OWASP's advice on CSV injection), so
opening it runs nothing.
"""

import io
from typing import Any

from dsr.imports.check import cell_text
from dsr.models import ImportRow, RegisterImport
from dsr.security.spreadsheets import neutralise


def safe(value: Any) -> Any:
    """A value as a report cell: numbers as they are, text never starting like a formula."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return neutralise(cell_text(value))


def report_rows(register_import: RegisterImport):
    outcomes = dict(ImportRow.Outcome.choices)
    yield ["Row", "Outcome", "Problems", "Next steps", *register_import.headers]
    for row in register_import.rows.all().iterator(chunk_size=1000):
        problems = "\n".join(f"{p['column']}: {p['message']}" for p in row.problems)
        yield [
            row.row_number,
            outcomes.get(row.outcome, ""),
            problems,
            "\n".join(row.notes),
            *row.raw,
        ]


def report_xlsx(register_import: RegisterImport) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Checked rows")
    for values in report_rows(register_import):
        cells = []
        for value in values:
            cell = openpyxl.cell.WriteOnlyCell(sheet, value=safe(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, whatever it starts with: never a formula
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
