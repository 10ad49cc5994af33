"""CSV for spreadsheets: the one writer of every export, which never hands Excel a formula.

A customer named `=HYPERLINK(...)` or an address starting `+cmd|` is a formula to Excel and
LibreOffice when written as it is. As OWASP's CSV injection advice says, a text cell starting
with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading `'`, which
shows it as the text it is. Numbers are left alone: an int or float cell, or text that is
just a number (`-12.50`, a negative cash balance formatted to two decimals), is no formula,
and quoting it would turn a column a clerk sums into text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

BOM = "\ufeff"  # so Excel reads the Chinese as UTF-8
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")

Table = tuple[Sequence[str], Iterable[Sequence[object]]]


def safe_cell(value: object) -> object:
    """The value as a spreadsheet should show it: text that would run as a formula quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_bytes(*tables: Table) -> bytes:
    """UTF-8 CSV with a BOM: each table's head and rows, tables apart by an empty row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for number, (head, rows) in enumerate(tables):
        if number:
            writer.writerow(())
        writer.writerow([safe_cell(cell) for cell in head])
        writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return (BOM + buffer.getvalue()).encode("utf-8")
