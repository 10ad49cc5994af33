"""Responses several domains send the same way."""

from __future__ import annotations

from fastapi import Response, status

CSV = "text/csv; charset=utf-8"


def csv_download(content: bytes, filename: str) -> Response:
    """A CSV file the browser saves under `filename` (Excel opens it as UTF-8 by its BOM)."""
    return Response(
        content=content,
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def created_or_retried(response: Response, created: bool) -> None:
    """201 for a new record, 200 when an idempotent retry found the one already stored."""
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
