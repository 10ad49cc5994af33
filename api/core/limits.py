"""Size limits: a request body is refused before it is read, free text before it is kept.

The body limit is an ASGI middleware, so it sees a body before any route parses it: a
declared Content-Length past the limit is answered at once, and a body sent in chunks is
counted as it arrives and cut off at the limit. A refusal never echoes what was sent.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.errors import TooLarge


class BodyTooLarge(HTTPException):
    """Raised while a chunked body is read; an HTTPException so the route passes it on."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413)
        self.max_bytes = max_bytes


def too_large_body(max_bytes: int) -> dict[str, str]:
    return {
        "error": TooLarge.kind,
        "detail": f"the request body is larger than {max_bytes} bytes",
        "rule": "max_request_bytes",
    }


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await JSONResponse(too_large_body(self.max_bytes), status_code=413)(
                scope, receive, send
            )
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


def install_body_limit(app: FastAPI, *, max_bytes: int) -> None:
    app.add_middleware(BodySizeLimit, max_bytes=max_bytes)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(_request: Request, error: BodyTooLarge) -> JSONResponse:
        return JSONResponse(status_code=413, content=too_large_body(error.max_bytes))


MAX_DEPTH = 8  # a record's fields are flat, or lists of small objects


def check_text(value: Any, *, field: str, max_chars: int, depth: int = 0) -> None:
    """Every string in a JSON value at most max_chars long, else a 413 naming where."""
    if depth > MAX_DEPTH:
        raise TooLarge(f"{field}: nested deeper than {MAX_DEPTH}", field=field, rule="max_depth")
    if isinstance(value, str):
        if len(value) > max_chars:
            raise TooLarge(
                f"{field}: longer than {max_chars} characters", field=field, rule="max_text_chars"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, field=field, max_chars=max_chars)
            check_text(item, field=f"{field}.{key}", max_chars=max_chars, depth=depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_text(item, field=f"{field}[{index}]", max_chars=max_chars, depth=depth + 1)
