"""The sign-in page and the landing address that sends each role to its page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth.models import Role
from api.auth.service import Principal
from api.pages.access import SIGN_IN_PATH, current_principal
from api.pages.templating import message_page, render

router = APIRouter(prefix="/app", tags=["pages"], include_in_schema=False)
HOME = {Role.DRIVER: "/app/driver", Role.DISPATCHER: "/app/board", Role.ADMIN: "/app/board"}


@router.get("", response_class=HTMLResponse)
def landing(
    request: Request, principal: Annotated[Principal | None, Depends(current_principal)]
) -> Response:
    if principal is None:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    if principal.role in HOME:
        return RedirectResponse(HOME[principal.role], status_code=303)
    return message_page(
        request,
        principal=principal,
        status_code=403,
        heading=principal.name,
        message=f"{principal.role.value}: no page",
    )


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    return render(request, "sign_in.html", principal=None)
