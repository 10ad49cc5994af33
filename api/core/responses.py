"""Responses several domains send the same way."""

from __future__ import annotations

from fastapi import Response

CSV = "text/csv; charset=utf-8"


def csv_download(content: bytes, filename: str) -> Response:
    """A CSV file the browser saves under `filename` (Excel opens it as UTF-8 by its BOM)."""
    return Response(
        content=content,
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
