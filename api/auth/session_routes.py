"""Signing a page in and out: a server-side session whose token the cookie carries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.auth import sessions
from api.auth.models import SessionCreate, SessionPublic
from api.auth.service import Principal
from api.auth.throttle import throttled_authenticate
from api.core.deps import SESSION_COOKIE, SessionDep, SettingsDep, get_principal

router = APIRouter(prefix="/session", tags=["session"])


def _public(principal: Principal) -> SessionPublic:
    return SessionPublic(
        name=principal.name,
        role=principal.role,
        vehicle_code=principal.vehicle_code,
        areas=list(principal.areas),
    )


@router.post("", response_model=SessionPublic)
def sign_in(
    body: SessionCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> SessionPublic:
    principal = throttled_authenticate(request, session=session, key=body.key)
    token = sessions.open_session(
        session=session, principal=principal, hours=settings.session_hours
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=round(settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=settings.session_cookie_secure,
        path="/",
    )
    return _public(principal)


@router.get("", response_model=SessionPublic)
def who_am_i(principal: Annotated[Principal, Depends(get_principal)]) -> SessionPublic:
    return _public(principal)


@router.delete("", status_code=204)
def sign_out(
    request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> Response:
    """Ends the session on the server too: the old cookie is refused from then on."""
    if token := request.cookies.get(SESSION_COOKIE):
        sessions.close_session(session=session, token=token)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.session_cookie_secure,
    )
    response.status_code = 204
    return response
