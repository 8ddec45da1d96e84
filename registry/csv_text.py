"""The one way the registry writes CSV (ranking.csv, `show --format csv|ddranking-csv`): every text cell
is made safe for a spreadsheet, numbers are written as numbers.

A text cell that begins with = + - @ (or a tab) is a formula to Excel, LibreOffice and
Google Sheets (`=HYPERLINK(...)` as a method name); it gets a leading quote mark, which they show as text.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_LEADS = ("=", "+", "-", "@", "\t")
_LONE_CR = re.compile(r"\r(?!\n)")


def csv_cell(value: object) -> object:
    """A cell as written: None -> '', int/float unchanged (a negative number stays a number), any
    other value as text (a lone carriage return as a line break), quoted when it would start a formula."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    # csv quotes a cell holding "\n" but not one holding a bare "\r", which a spreadsheet reads as a new
    # row (where a formula could start): a lone carriage return becomes a line break, so the cell is quoted
    text = _LONE_CR.sub("\n", str(value))
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """The CSV text of rows (the header is the first row), every cell through csv_cell."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for row in rows:
        w.writerow([csv_cell(v) for v in row])
    return buf.getvalue()
