"""CSV that spreadsheets open safely: one rule for every CSV carelog writes (OWASP CSV Injection).

Excel and LibreOffice run a cell that starts with =, +, -, @, a tab or a carriage return as a
formula. Such a cell is written with an apostrophe in front, which spreadsheets show as text;
a cell that already starts with an apostrophe gets one more, so the rule can be undone exactly:
to read the original value, remove one leading apostrophe from any cell that starts with one
(`original_cell`). That is how the auditor's trail CSV is verified away from carelog.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet should show it: text that could run as a formula is marked."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, TEXT_MARK)):
        return TEXT_MARK + value
    return value


def original_cell(text: str) -> str:
    """Undo safe_cell on a cell read back from the CSV."""
    return text[1:] if text.startswith(TEXT_MARK) else text


class SafeWriter:
    """csv.writer whose every row goes through safe_cell."""

    def __init__(self, stream: Any):
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row with formula-like text marked as text."""
        self._writer.writerow([safe_cell(value) for value in row])
