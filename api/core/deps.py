"""Request dependencies: a database session and the caller's role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth.models import Role
from api.auth.service import Principal
from api.auth.sessions import session_principal
from api.auth.throttle import throttled_authenticate
from api.core.config import ServiceSettings
from api.core.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False)
# The pages sign in once and keep a session token in this cookie, so maps in frames and
# links to sheets authenticate too. HttpOnly keeps it from scripts, SameSite=Strict from
# other sites, Secure from plain HTTP; the token is not the key, and signing out ends it.
SESSION_COOKIE = "dispatch_session"


# Dependencies that only read app state are async: FastAPI runs a sync one on a worker
# thread, and under load those hand-offs cost more than the work (one thread hop each).


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    # Services commit their own unit of work; anything uncommitted is rolled back on close.
    with Session(engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
# Stored ids are 32-bit integers on every database; a larger one can only be "not found".
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return throttled_authenticate(request, session=session, key=credentials.credentials)
    if cookie := request.cookies.get(SESSION_COOKIE):
        return session_principal(session=session, token=cookie)
    raise Unauthorized("an API key is required: Authorization: Bearer <key>, or sign in")


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting the given roles (admin is always admitted)."""
    allowed = {Role.ADMIN, *roles}

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"role {principal.role.value} may not do this; allowed: {names}")
        return principal

    return dependency


Admin = Annotated[Principal, Depends(require())]
