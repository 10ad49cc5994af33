"""Issuing and verifying API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api.auth.models import ApiKey, ApiKeyCreate, ApiKeyIssued, Role
from api.core.errors import NotFound, RuleBroken, Unauthorized


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: int
    name: str
    role: Role
    vehicle_code: str | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(*, session: Session, request: ApiKeyCreate, key: str | None = None) -> ApiKeyIssued:
    if request.role is Role.DRIVER and not request.vehicle_code:
        raise RuleBroken("a driver key needs the vehicle_code of its crew", field="vehicle_code")
    key = key or "dk_" + secrets.token_urlsafe(32)
    row = ApiKey(**request.model_dump(), key_hash=hash_key(key), prefix=key[:10])
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
    return Principal(row.id, row.name, row.role, row.vehicle_code)


def list_keys(*, session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))))


def revoke_key(*, session: Session, key_id: int) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"api key {key_id} not found")
    row.revoked = True
    session.add(row)
    session.commit()
    session.refresh(row)
    return row
