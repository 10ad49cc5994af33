"""Paid service against the scope boundary: a key of another area never quotes, approves,
collects or reads a fee of this area's tickets (403, nothing stored), and this area's does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from fee_helpers import FEE, PAID, D, at_tk1, collection, fee, fee_day
from plan_helpers import app_at, engine_of
from sqlmodel import Session, func, select

from api.core.config import ServiceSettings
from api.records.models import LedgerEntry

COVERED: set[tuple[str, str]] = {
    ("GET", "/tickets/{ticket_id}/quote"),
    ("POST", "/fees/{date}/tickets/{ticket_id}/approval"),
    ("POST", "/fees/{date}/tickets/{ticket_id}/collection"),
    ("GET", "/reports/technicians"),
}
OUTSIDE = ["sh"]  # the other area; TK-1 and T01 are the default area's ("main")


@pytest.fixture
def day(
    settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> Iterator[tuple[TestClient, int]]:
    """TK-1 published on T01 in "main", a second area "sh", and T01 arrived at TK-1."""
    with app_at(settings) as booking:
        ids = fee_day(booking, admin, admin, {"TK-1": PAID})
        area = {"code": "sh", "name": "上海浦东店", "city": "上海"}
        assert booking.post("/areas", json=area, headers=admin).status_code == 201
    with at_tk1(settings, key_for("driver", "T01")) as client:
        yield client, ids["TK-1"]


def _stored(client: TestClient) -> int:
    with Session(engine_of(client)) as session:
        return session.exec(select(func.count()).select_from(LedgerEntry)).one()


@pytest.mark.parametrize("role", ["dispatcher", "manager", "finance"])
def test_a_quote_is_only_for_the_tickets_area(
    day: tuple[TestClient, int], key_for: KeyMaker, role: str
) -> None:
    """Another area's key gets 403 for the ticket's quote; the area's own key gets it."""
    client, ticket_id = day
    path = f"/tickets/{ticket_id}/quote?parts=SEAL:2"
    assert client.get(path, headers=key_for(role, areas=OUTSIDE)).status_code == 403
    assert client.get(path, headers=key_for(role, areas=["main"])).json()["total_cny"] == 136.0


def test_a_quote_is_not_for_another_technician(
    day: tuple[TestClient, int], key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """A technician quotes only the tickets assigned to their own vehicle."""
    client, ticket_id = day
    other = {"code": "T09", "kind": "technician", "depot_code": "WH", "weight_kg": 150}
    other |= {"volume_m3": 1.5, "crew_size": 1, "shift_start": "08:00", "shift_end": "18:00"}
    assert client.post("/vehicles", json=other, headers=admin).status_code == 201
    refused = client.get(f"/tickets/{ticket_id}/quote", headers=key_for("driver", "T09"))
    assert refused.status_code == 403


def test_an_approval_is_only_by_a_manager_of_the_area(
    day: tuple[TestClient, int], key_for: KeyMaker
) -> None:
    """A manager of another area is refused and nothing is stored; the area's manager approves."""
    client, ticket_id = day
    waiver = {"kind": "waiver", "reason": "投诉补偿"}
    before = _stored(client)
    outsider = fee(client, ticket_id, "approval", waiver, key_for("manager", areas=OUTSIDE))
    assert (outsider.status_code, _stored(client)) == (403, before)
    own = fee(client, ticket_id, "approval", waiver, key_for("manager", areas=["main"]))
    assert own.status_code == 201, own.text


def test_a_collection_is_only_in_the_tickets_area(
    day: tuple[TestClient, int], key_for: KeyMaker
) -> None:
    """A dispatcher of another area cannot record the fee; the technician of the visit can."""
    client, ticket_id = day
    before = _stored(client)
    body = collection(FEE)
    outsider = fee(client, ticket_id, "collection", body, key_for("dispatcher", areas=OUTSIDE))
    assert (outsider.status_code, _stored(client)) == (403, before)
    other_crew = fee(client, ticket_id, "collection", body, key_for("driver", "T02"))
    assert (other_crew.status_code, _stored(client)) == (403, before)
    own = fee(client, ticket_id, "collection", body, key_for("driver", "T01"))
    assert own.status_code == 201, own.text


def test_the_technician_report_shows_only_the_keys_areas(
    day: tuple[TestClient, int], key_for: KeyMaker
) -> None:
    """Another area's key sees none of this area's technicians and may not name the area."""
    client, _ = day
    outsider = key_for("dispatcher", areas=OUTSIDE)
    named = client.get("/reports/technicians", params={"date": D, "area": "main"}, headers=outsider)
    assert named.status_code == 403
    own_only = client.get("/reports/technicians", params={"date": D}, headers=outsider).json()
    assert (own_only["technicians"], own_only["total"]["jobs"]) == ([], 0)
    chain = client.get("/reports/technicians", params={"date": D}, headers=key_for("manager"))
    assert [t["vehicle_code"] for t in chain.json()["technicians"]] == ["T01"]
