"""Who is looking at a page: the signed-in cookie, or a redirect to the sign-in page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from api.auth.models import Role
from api.auth.service import Principal
from api.auth.sessions import session_principal
from api.core.deps import SESSION_COOKIE, SessionDep
from api.core.errors import Unauthorized
from api.pages.templating import message_page

SIGN_IN_PATH = "/app/sign-in"


class SignInNeeded(Exception):
    """A page was asked for without a valid session: the browser goes to the sign-in page."""


class PageForbidden(Exception):
    """A signed-in person asked for a page or a crew that is not theirs."""

    def __init__(self, message: str, principal: Principal) -> None:
        super().__init__(message)
        self.message = message
        self.principal = principal


def current_principal(request: Request, session: SessionDep) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return session_principal(session=session, token=token)
    except Unauthorized:
        return None  # ended, signed out or its key revoked: sign in again


def page_for(*roles: Role) -> Callable[..., Principal]:
    """A page dependency admitting the given roles (admin always), else sign-in or 403."""
    allowed = {Role.ADMIN, *roles}

    def dependency(
        principal: Annotated[Principal | None, Depends(current_principal)],
    ) -> Principal:
        if principal is None:
            raise SignInNeeded
        if principal.role not in allowed:
            raise PageForbidden(f"role {principal.role.value} may not open this page", principal)
        return principal

    return dependency


def install_page_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInNeeded)
    async def _sign_in(_request: Request, _error: SignInNeeded) -> RedirectResponse:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, error: PageForbidden) -> Response:
        return message_page(
            request, principal=error.principal, status_code=403, message=error.message
        )


DriverPage = Annotated[Principal, Depends(page_for(Role.DRIVER, Role.DISPATCHER))]
BoardPage = Annotated[Principal, Depends(page_for(Role.DISPATCHER))]
