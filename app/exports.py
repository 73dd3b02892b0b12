"""Every spreadsheet the app hands out (Excel and CSV) is written here, and only here.

Exports carry text that came from outside (a customer's name, a plate, an entity field). A
spreadsheet program runs a cell that begins with `=`, `+`, `-` or `@` as a formula (and tab or
carriage return can smuggle one in after a separator), so a customer named
`=HYPERLINK("http://evil","点我")` would become a live link, or worse, in the desk's Excel.
Following OWASP's advice on CSV injection, every *text* cell that could start a formula is
prefixed with a single quote, which makes it plain text; numbers stay numbers (a Decimal -12.50
is written as the number -12.50, not as text).
"""

from __future__ import annotations

import csv
import datetime
import decimal
import enum
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response, send_file
from openpyxl import Workbook

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
FORMATS = ("xlsx", "csv")

# What a spreadsheet treats as the start of a formula (OWASP: = + - @ tab CR), plus the line
# feed and the full-width forms some spreadsheet programs also accept.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# Text that is exactly a number ("-12.50", "+3") cannot run anything; it is left readable.
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def neutralise(text: str) -> str:
    """Text that a spreadsheet would read as a formula, made plain text by a leading quote.
    Leading spaces are looked through: some programs trim them before parsing a CSV field."""
    stripped = text.lstrip(" ")
    if stripped.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(stripped):
        return "'" + text
    return text


def spreadsheet_cell(value: Any) -> Any:
    """A Python value as a safe cell: numbers as numbers, everything else as neutralised text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | decimal.Decimal):
        return value
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return neutralise(str(value))


def _safe_rows(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterable[list[Any]]:
    yield [spreadsheet_cell(h) for h in header]
    for row in rows:
        yield [spreadsheet_cell(v) for v in row]


def build_workbook(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """An .xlsx file of one sheet: the header row, then the rows, every cell made safe."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in _safe_rows(header, rows):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def build_csv(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """A UTF-8 CSV with a byte-order mark (so Excel reads the Chinese right), every cell safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in _safe_rows(header, rows):
        writer.writerow("" if v is None else v for v in row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_response(
    basename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]], fmt: str = "xlsx"
) -> Response:
    """The download of an export in `fmt` ("xlsx" or "csv"); ValueError for another format."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if fmt == "csv":
        data, mimetype = build_csv(header, rows), CSV_MIMETYPE
    else:
        data, mimetype = build_workbook(header, rows), XLSX_MIMETYPE
    return send_file(
        io.BytesIO(data), as_attachment=True, download_name=f"{basename}.{fmt}", mimetype=mimetype
    )
