"""Every CSV export quotes text a spreadsheet would run as a formula, and leaves numbers be."""

from __future__ import annotations

import csv
import io

import pytest

from api.core.spreadsheet import csv_bytes, safe_cell


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        # OWASP's formula starts, each quoted as text
        ('=HYPERLINK("http://x","pay")', '\'=HYPERLINK("http://x","pay")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        # a formula character later in the text is harmless
        ("王 = 1", "王 = 1"),
        # numbers stay numbers, negative ones too, as numbers or as formatted text
        (-3, -3),
        (-12.5, -12.5),
        ("-12.50", "-12.50"),
        ("+7", "+7"),
        ("", ""),
    ],
)
def test_a_cell_that_would_be_a_formula_is_quoted(cell: object, written: object) -> None:
    """Text starting with =, +, -, @, tab or CR gets a leading quote; numbers do not."""
    assert safe_cell(cell) == written


def test_every_table_head_and_row_is_neutralised() -> None:
    """Heads and rows of every table pass through the same check, tables an empty row apart."""
    content = csv_bytes((["=head"], [["@x", -1]]), (["plain"], [["-1.00"]]))
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [["'=head"], ["'@x", "-1"], [], ["plain"], ["-1.00"]]
