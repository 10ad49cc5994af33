"""Pages' sign-in sessions, kept on the server: the cookie is a random token that ends.

The API key is checked once, at sign-in, and never leaves the server again: a stolen
cookie is worth a session that signing out or its expiry ends, not the key itself.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete
from sqlmodel import Session, col

from api.auth.models import ApiKey, WebSession
from api.auth.service import Principal, hash_key, principal_of
from api.core.errors import Unauthorized


def now() -> dt.datetime:
    # Real time, not the service's clock: a test day fixed in the past must not end sessions.
    return dt.datetime.now(dt.UTC)


def open_session(*, session: Session, principal: Principal, hours: float) -> str:
    """A new session for a key already checked; returns the token for the cookie."""
    token = "ds_" + secrets.token_urlsafe(32)
    started = now()
    # Ended sessions go as new ones start, so the table stays the size of the signed-in.
    session.execute(delete(WebSession).where(col(WebSession.expires_at) <= started))
    session.add(
        WebSession(
            token_hash=hash_key(token),
            key_id=principal.key_id,
            created_at=started,
            expires_at=started + dt.timedelta(hours=hours),
        )
    )
    session.commit()
    return token


def session_principal(*, session: Session, token: str) -> Principal:
    """Who a session speaks for, while it lasts and its key is not revoked."""
    row = session.get(WebSession, hash_key(token))
    if row is None or _aware(row.expires_at) <= now():
        raise Unauthorized("the session has ended; sign in again")
    key = session.get(ApiKey, row.key_id)
    if key is None or key.revoked or key.id is None:
        raise Unauthorized("unknown or revoked API key")
    return principal_of(key)


def close_session(*, session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(col(WebSession.token_hash) == hash_key(token)))
    session.commit()


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands a stored UTC time back without its zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
