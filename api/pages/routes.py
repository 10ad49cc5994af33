"""The sign-in page and the landing address that sends each role to its page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.areas.scope import visible
from api.areas.service import list_areas
from api.auth.models import Role
from api.auth.service import Principal
from api.core.deps import SessionDep
from api.pages.access import SIGN_IN_PATH, current_principal
from api.pages.templating import render

router = APIRouter(prefix="/app", tags=["pages"], include_in_schema=False)
HOME = {Role.DRIVER: "/app/driver", Role.DISPATCHER: "/app/board", Role.ADMIN: "/app/board"}


@router.get("", response_class=HTMLResponse)
def landing(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal | None, Depends(current_principal)],
) -> Response:
    """Each role's page; a desk that sees several areas first picks whose board to open."""
    if principal is None:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    seen = visible(session=session, principal=principal)
    names = {area.code: area.name for area in list_areas(session=session, codes=tuple(seen))}
    board = principal.role in (Role.DISPATCHER, Role.ADMIN)
    if principal.role in HOME and not (board and len(seen) > 1):
        return RedirectResponse(HOME[principal.role], status_code=303)
    areas = [
        (code, names.get(code, code), f"/app/board?area={quote(code)}" if board else "")
        for code in seen
    ]
    if board:
        return render(
            request,
            "message.html",
            principal=principal,
            heading=principal.name,
            message=principal.role.value,
            areas=areas,
        )
    return render(
        request,
        "message.html",
        principal=principal,
        status_code=403,
        heading=principal.name,
        message=f"{principal.role.value}: no page",
        areas=areas,
    )


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    return render(request, "sign_in.html", principal=None)
