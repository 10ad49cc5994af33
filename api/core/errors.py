"""Domain errors, defined once and mapped to HTTP in one set of handlers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

# Where FastAPI found the input; the field is named without it ("lat", "items[0].quantity").
SOURCES = ("body", "query", "path", "header", "cookie")
MESSAGE_CHARS = 300  # a validator's message may quote the input; never send much of it back
NAME_CHARS = 64  # a location may hold a key of the client's own dict
MAX_ERRORS = 20  # ten thousand bad items need not be answered one by one


class DomainError(Exception):
    status_code = 400
    kind = "error"

    def __init__(self, message: str, *, rule: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.field = field


class NotFound(DomainError):
    status_code = 404
    kind = "not_found"


class Conflict(DomainError):
    status_code = 409
    kind = "conflict"


class RuleBroken(DomainError):
    status_code = 422
    kind = "rule_broken"


class Forbidden(DomainError):
    status_code = 403
    kind = "forbidden"


class Unauthorized(DomainError):
    status_code = 401
    kind = "unauthorized"


class PreconditionRequired(DomainError):
    status_code = 428
    kind = "precondition_required"


class TooLarge(DomainError):
    """Past a size limit of the settings; the rule names the setting."""

    status_code = 413
    kind = "too_large"


class TooManyAttempts(DomainError):
    status_code = 429
    kind = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, rule="sign_in_backoff")
        self.retry_after = retry_after


def _headers(error: DomainError) -> dict[str, str] | None:
    if isinstance(error, Unauthorized):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, TooManyAttempts):
        return {"Retry-After": str(error.retry_after)}
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, error: DomainError) -> JSONResponse:
        body = {"error": error.kind, "detail": error.message}
        if error.rule:
            body["rule"] = error.rule
        if error.field:
            body["field"] = error.field
        return JSONResponse(status_code=error.status_code, content=body, headers=_headers(error))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        # Pydantic's errors carry the offending input (and ctx may too): a 20 MB string, or a
        # NaN that JSON cannot even encode. Only where and what is sent back.
        errors = [_public_error(each) for each in error.errors()[:MAX_ERRORS]]
        body: dict[str, Any] = {"error": "invalid", "detail": errors}
        if errors:
            body["field"] = errors[0]["field"]
        return JSONResponse(status_code=422, content=body)

    @app.exception_handler(ValueError)
    async def _value(_request: Request, error: ValueError) -> JSONResponse:
        # The optimizer's builders raise ValueError naming the object and field: bad input.
        return JSONResponse(status_code=422, content={"error": "invalid", "detail": str(error)})


def _public_error(error: Mapping[str, Any]) -> dict[str, Any]:
    loc = [part if isinstance(part, int) else str(part)[:NAME_CHARS] for part in error["loc"]]
    field = field_name(loc)
    return {
        "loc": loc,
        "field": field,
        "msg": str(error["msg"])[:MESSAGE_CHARS],
        "type": str(error["type"]),
    }


def field_name(loc: Sequence[str | int]) -> str:
    """A validation error's location as the field a client would name: items[0].quantity."""
    parts = list(loc[1:] if len(loc) > 1 and loc[0] in SOURCES else loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name or "body"
