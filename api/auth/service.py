"""Issuing and verifying API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api.auth.models import ApiKey, ApiKeyCreate, ApiKeyIssued, Role
from api.core.errors import Forbidden, NotFound, RuleBroken, Unauthorized


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: int
    name: str
    role: Role
    vehicle_code: str | None
    areas: tuple[str, ...] = ()  # the key's scope; empty: the whole chain


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def principal_of(row: ApiKey) -> Principal:
    assert row.id is not None
    return Principal(row.id, row.name, row.role, row.vehicle_code, tuple(row.areas or ()))


def _scope(session: Session, request: ApiKeyCreate) -> list[str]:
    """The key's areas, checked: each must exist; a driver's is its vehicle's area."""
    from api.areas.models import Area
    from api.areas.scope import vehicle_area

    areas = sorted(set(request.areas))
    for index, code in enumerate(areas):
        if session.get(Area, code) is None:
            raise RuleBroken(f"area {code} does not exist", field=f"areas[{index}]")
    if request.role is Role.DRIVER and request.vehicle_code:
        own = vehicle_area(session=session, vehicle_code=request.vehicle_code)
        if own is not None and areas and areas != [own]:
            raise RuleBroken(f"a driver's key is scoped to its vehicle's area {own}", field="areas")
        areas = [own] if own is not None else areas
    return areas


def _check_within(by: Principal, areas: list[str]) -> None:
    """A scoped admin hands out and manages keys only inside its own scope: 403 for a key
    of another area or of the whole chain."""
    from api.areas.scope import check_scope

    if by.areas and not areas:
        raise Forbidden(
            f"a chain-wide key is outside this key's scope ({', '.join(by.areas)})",
            rule="area_scope",
        )
    for code in areas:
        check_scope(by, code)


def issue_key(
    *,
    session: Session,
    request: ApiKeyCreate,
    key: str | None = None,
    by: Principal | None = None,
) -> ApiKeyIssued:
    """A new key; `by` is the admin asking, whose scope must hold the new key's (None: the
    service itself, at start-up or in tests)."""
    if request.role is Role.DRIVER and not request.vehicle_code:
        raise RuleBroken("a driver key needs the vehicle_code of its crew", field="vehicle_code")
    areas = _scope(session, request)
    if by is not None:
        _check_within(by, areas)
    key = key or "dk_" + secrets.token_urlsafe(32)
    fields = request.model_dump() | {"areas": areas}
    row = ApiKey(**fields, key_hash=hash_key(key), prefix=key[:10])
    session.add(row)
    session.commit()
    session.refresh(row)
    return ApiKeyIssued(**row.model_dump(), key=key)


def ensure_key(*, session: Session, name: str, role: Role, key: str) -> None:
    """Create the key if it does not exist yet (start-up bootstrap; safe to repeat)."""
    if session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first() is None:
        issue_key(session=session, request=ApiKeyCreate(name=name, role=role), key=key)


def authenticate(*, session: Session, key: str) -> Principal:
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
    if row is None or row.revoked or row.id is None:
        raise Unauthorized("unknown or revoked API key")
    return principal_of(row)


def _within(by: Principal, row: ApiKey) -> bool:
    return not by.areas or (bool(row.areas) and set(row.areas) <= set(by.areas))


def list_keys(*, session: Session, by: Principal) -> list[ApiKey]:
    """The keys `by` manages: all for a chain-wide admin, else those wholly in its scope."""
    rows = session.exec(select(ApiKey).order_by(col(ApiKey.id)))
    return [row for row in rows if _within(by, row)]


def revoke_key(*, session: Session, key_id: int, by: Principal) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"api key {key_id} not found")
    _check_within(by, list(row.areas or ()))
    row.revoked = True
    session.add(row)
    session.commit()
    session.refresh(row)
    return row
