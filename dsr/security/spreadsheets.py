"""Cells for files a spreadsheet opens (CSV exports, the import's report): never a formula.

A spreadsheet runs a cell starting with =, +, -, @, a tab or a carriage return as a formula (CSV
injection; OWASP's advice): such text gets a leading apostrophe, so opening the file runs
nothing.
"""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will show as text."""
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell
