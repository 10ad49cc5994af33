"""Domain errors, defined once and mapped to HTTP in one set of handlers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


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

    @app.exception_handler(ValueError)
    async def _value(_request: Request, error: ValueError) -> JSONResponse:
        # The optimizer's builders raise ValueError naming the object and field: bad input.
        return JSONResponse(status_code=422, content={"error": "invalid", "detail": str(error)})
