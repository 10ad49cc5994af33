"""Pages' sessions: a server-side token in a Secure cookie that ends, and slowed guessing."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from api.auth.models import ApiKeyCreate, Role, WebSession
from api.auth.service import hash_key, issue_key
from api.core.config import ServiceSettings
from api.core.deps import SESSION_COOKIE
from api.main import create_app


def _key(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def signed_in(client: TestClient, key_for: KeyMaker) -> tuple[str, str]:
    """A driver signed in: (the API key, the cookie's token)."""
    key = _key(key_for("driver", "C01"))
    assert client.post("/session", json={"key": key}).status_code == 200
    token = client.cookies[SESSION_COOKIE]
    return key, token


def test_the_cookie_holds_a_session_token_not_the_key(
    client: TestClient, key_for: KeyMaker
) -> None:
    """The cookie is a random token; the database keeps only its hash; the key is nowhere."""
    key, token = signed_in(client, key_for)
    assert token != key and key not in token
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        (stored,) = session.exec(select(WebSession)).all()
    assert stored.token_hash == hash_key(token) and token not in stored.token_hash
    assert client.get("/session").json()["vehicle_code"] == "C01"


def test_a_key_in_the_cookie_is_not_a_session(client: TestClient, key_for: KeyMaker) -> None:
    """A raw API key set as the cookie, as the pages once kept it, is refused."""
    key = _key(key_for("dispatcher"))
    client.cookies.set(SESSION_COOKIE, key)
    assert client.get("/session").status_code == 401
    assert client.get("/app/board", follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session_on_the_server(client: TestClient, key_for: KeyMaker) -> None:
    """After DELETE /session the old cookie, kept by someone, is refused by API and pages."""
    _, token = signed_in(client, key_for)
    assert client.delete("/session").status_code == 204
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/session").status_code == 401
    assert client.get("/app/driver", follow_redirects=False).headers["location"] == "/app/sign-in"


def test_a_session_ends_when_it_expires(client: TestClient, key_for: KeyMaker) -> None:
    """A session past its end is refused, however the browser kept its cookie."""
    _, token = signed_in(client, key_for)
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        ended = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.execute(update(WebSession).values(expires_at=ended))
        session.commit()
    assert client.get("/session").status_code == 401


def test_revoking_the_key_ends_its_sessions(
    client: TestClient, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """A revoked key's pages are signed out at once."""
    signed_in(client, key_for)
    key_id = max(row["id"] for row in client.get("/keys", headers=admin).json())
    assert client.delete(f"/keys/{key_id}", headers=admin).status_code == 200
    assert client.get("/session").status_code == 401


@pytest.fixture
def secure(settings: ServiceSettings) -> Iterator[TestClient]:
    """The service with the default settings for the cookie, spoken to over HTTPS."""
    defaults = settings.model_copy(update={"session_cookie_secure": True})
    assert ServiceSettings.model_fields["session_cookie_secure"].default is True
    with TestClient(create_app(defaults), base_url="https://testserver") as client:
        yield client


def test_the_cookie_is_secure_by_default(secure: TestClient) -> None:
    """The session cookie is Secure, HttpOnly and SameSite=Strict, and ends with the session."""
    with Session(secure.app.state.engine) as session:  # type: ignore[attr-defined]
        key = issue_key(
            session=session, request=ApiKeyCreate(name="d", role=Role.DRIVER, vehicle_code="C01")
        ).key
    answer = secure.post("/session", json={"key": key})
    cookie = answer.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Max-Age=57600" in cookie  # 16 hours
    assert secure.get("/session").status_code == 200
    assert "Secure" in secure.delete("/session").headers["set-cookie"]


@pytest.fixture
def guarded(settings: ServiceSettings) -> Iterator[TestClient]:
    """Two free failures, then a lock-out of 1 s that doubles."""
    quick = settings.model_copy(update={"sign_in_free_failures": 2, "sign_in_backoff_seconds": 1.0})
    with TestClient(create_app(quick)) as client:
        yield client


def test_failed_sign_ins_are_slowed(guarded: TestClient) -> None:
    """Past the free failures a client waits (429, Retry-After), even with a right key."""
    with Session(guarded.app.state.engine) as session:  # type: ignore[attr-defined]
        key = issue_key(session=session, request=ApiKeyCreate(name="k", role=Role.DISPATCHER)).key
    for guess in ("dk_a", "dk_b", "dk_c"):
        assert guarded.post("/session", json={"key": guess}).status_code == 401
    locked = guarded.post("/session", json={"key": key})
    assert locked.status_code == 429 and locked.json()["rule"] == "sign_in_backoff"
    assert int(locked.headers["retry-after"]) == 1
    bearer = guarded.get("/vehicles", headers={"Authorization": f"Bearer {key}"})
    assert bearer.status_code == 429  # the header is no way around it
    time.sleep(1.1)
    assert guarded.get("/vehicles", headers={"Authorization": "Bearer dk_d"}).status_code == 401
    again = guarded.post("/session", json={"key": key})
    assert again.status_code == 429 and int(again.headers["retry-after"]) == 2  # doubled
    time.sleep(2.1)
    assert guarded.post("/session", json={"key": key}).status_code == 200
