"""Signing a page in and out: the key goes into an HttpOnly cookie the API also accepts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.auth import service
from api.auth.models import SessionCreate, SessionPublic
from api.auth.service import Principal
from api.core.deps import SESSION_COOKIE, SessionDep, get_principal

router = APIRouter(prefix="/session", tags=["session"])
# A working day and a bit: a phone signed in at 07:00 stays signed in until the crew is back.
SESSION_SECONDS = 16 * 3600


def _public(principal: Principal) -> SessionPublic:
    return SessionPublic(
        name=principal.name, role=principal.role, vehicle_code=principal.vehicle_code
    )


@router.post("", response_model=SessionPublic)
def sign_in(body: SessionCreate, response: Response, session: SessionDep) -> SessionPublic:
    principal = service.authenticate(session=session, key=body.key)
    response.set_cookie(
        SESSION_COOKIE,
        body.key,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        path="/",
    )
    return _public(principal)


@router.get("", response_model=SessionPublic)
def who_am_i(principal: Annotated[Principal, Depends(get_principal)]) -> SessionPublic:
    return _public(principal)


@router.delete("", status_code=204)
def sign_out(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    response.status_code = 204
    return response
