"""API keys: stored as SHA-256 hashes, never in clear, each with one role."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class Role(StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    WAREHOUSE = "warehouse"
    FINANCE = "finance"
    DRIVER = "driver"
    ORDER_SYSTEM = "order_system"
    # The service manager (主管经理) approving a discount or waiver of a service fee.
    MANAGER = "manager"


def utcnow() -> datetime:
    return datetime.now(UTC)


class ApiKeyBase(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    role: Role
    # A driver's key sees only this vehicle's crew data.
    vehicle_code: str | None = Field(default=None, max_length=32)
    # The planning areas the key may see and change; empty: the whole chain. A driver's key
    # is scoped to its vehicle's area when it is issued.
    areas: list[str] = Field(
        default_factory=list, max_length=200, sa_column=Column(JSON, nullable=False)
    )


class ApiKeyCreate(ApiKeyBase):
    pass


class ApiKey(ApiKeyBase, table=True):
    __tablename__ = "api_key"
    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(unique=True, index=True, max_length=64)
    prefix: str = Field(max_length=12)
    created_at: datetime = Field(default_factory=utcnow)
    revoked: bool = False


class ApiKeyPublic(ApiKeyBase):
    id: int
    prefix: str
    created_at: datetime
    revoked: bool


class ApiKeyIssued(ApiKeyPublic):
    key: str  # shown once, at creation


class WebSession(SQLModel, table=True):
    """A signed-in page. The cookie holds a random token, never the API key; the database
    holds the token's SHA-256 and when it ends. Signing out deletes the row."""

    __tablename__ = "web_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    key_id: int = Field(foreign_key="api_key.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class SessionCreate(SQLModel):
    key: str = Field(min_length=1, max_length=200)


class SessionPublic(SQLModel):
    """Who a signed-in page speaks for; its session token stays in an HttpOnly cookie."""

    name: str
    role: Role
    vehicle_code: str | None
    areas: list[str] = Field(default_factory=list, description="empty: the whole chain")
