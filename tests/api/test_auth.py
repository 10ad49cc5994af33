"""API keys: bearer authentication, roles, hashed storage."""

from __future__ import annotations

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.auth.models import ApiKey


def test_no_key_is_401(client: TestClient) -> None:
    """Without a key every domain endpoint answers 401 with a bearer challenge."""
    answer = client.get("/vehicles")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_unknown_key_is_401(client: TestClient) -> None:
    """A made-up key is refused."""
    assert client.get("/vehicles", headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("dispatcher", 403),  # dispatchers plan, they do not hand out keys
        ("warehouse", 403),  # nor does the warehouse
        ("order_system", 403),  # nor the order system
        ("admin", 200),  # admins do
    ],
)
def test_only_admins_manage_keys(
    client: TestClient, key_for: KeyMaker, role: str, status: int
) -> None:
    """The key list is for admins only."""
    assert client.get("/keys", headers=key_for(role)).status_code == status


def test_keys_are_stored_hashed_and_shown_once(client: TestClient, admin: dict[str, str]) -> None:
    """The clear key is in the creation answer only; the database holds its SHA-256."""
    issued = client.post("/keys", json={"name": "shop", "role": "order_system"}, headers=admin)
    assert issued.status_code == 201
    key = issued.json()["key"]
    listed = client.get("/keys", headers=admin).json()
    assert all("key" not in row and "key_hash" not in row for row in listed)
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        stored = [row.key_hash for row in session.exec(select(ApiKey))]
    assert key not in stored
    assert client.get("/orders", headers={"Authorization": f"Bearer {key}"}).status_code != 401


def test_revoked_key_stops_working(client: TestClient, admin: dict[str, str]) -> None:
    """A revoked key is refused from then on."""
    issued = client.post("/keys", json={"name": "old", "role": "dispatcher"}, headers=admin).json()
    headers = {"Authorization": f"Bearer {issued['key']}"}
    assert client.get("/vehicles", headers=headers).status_code == 200
    assert client.delete(f"/keys/{issued['id']}", headers=admin).status_code == 200
    assert client.get("/vehicles", headers=headers).status_code == 401


def test_driver_key_needs_a_vehicle(client: TestClient, admin: dict[str, str]) -> None:
    """A driver key without its crew's vehicle is refused, naming the field."""
    answer = client.post("/keys", json={"name": "d", "role": "driver"}, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["field"] == "vehicle_code"


def test_driver_cannot_read_the_fleet(client: TestClient, key_for: KeyMaker) -> None:
    """Drivers see their own route only, not the fleet."""
    assert client.get("/vehicles", headers=key_for("driver", "C01")).status_code == 403
