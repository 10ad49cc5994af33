"""Fleet endpoints: depots, vehicles, skills, staff and daily crews."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def seed_fleet(client: TestClient, headers: dict[str, str]) -> None:
    assert (
        client.post("/skills", json={"name": "gas_appliance"}, headers=headers).status_code == 201
    )
    depot = {"code": "WH", "name": "新都物流园", "lat": 30.82, "lon": 104.16}
    assert client.post("/depots", json=depot, headers=headers).status_code == 201
    truck = {
        "code": "C01",
        "depot_code": "WH",
        "weight_kg": 3000,
        "volume_m3": 16,
        "skills": ["gas_appliance"],
    }
    assert client.post("/vehicles", json=truck, headers=headers).status_code == 201


def test_create_and_list_vehicle(client: TestClient, admin: dict[str, str]) -> None:
    """A vehicle is stored with its skills and listed back."""
    seed_fleet(client, admin)
    listed = client.get("/vehicles", headers=admin).json()
    assert [(v["code"], v["skills"]) for v in listed] == [("C01", ["gas_appliance"])]


def test_unknown_skill_is_refused_naming_the_field(
    client: TestClient, admin: dict[str, str]
) -> None:
    """A vehicle with an undeclared skill is a 422 naming skills; nothing is stored."""
    seed_fleet(client, admin)
    truck = {"code": "C02", "depot_code": "WH", "weight_kg": 1, "volume_m3": 1, "skills": ["x"]}
    answer = client.post("/vehicles", json=truck, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["field"] == "skills"
    assert len(client.get("/vehicles", headers=admin).json()) == 1


def test_shift_ending_before_start_is_422(client: TestClient, admin: dict[str, str]) -> None:
    """A shift that ends before it starts is refused with the field path."""
    seed_fleet(client, admin)
    answer = client.patch("/vehicles/C01", json={"shift_end": "06:00"}, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["field"] == "shift_end"


def test_duplicate_depot_is_409(client: TestClient, admin: dict[str, str]) -> None:
    """The same depot code twice is a conflict, not a server error."""
    seed_fleet(client, admin)
    depot = {"code": "WH", "lat": 30.0, "lon": 104.0}
    assert client.post("/depots", json=depot, headers=admin).status_code == 409


def test_person_on_two_vehicles_same_day_is_409(client: TestClient, admin: dict[str, str]) -> None:
    """One person rides one vehicle a day."""
    seed_fleet(client, admin)
    truck = {"code": "C02", "depot_code": "WH", "weight_kg": 1500, "volume_m3": 9}
    client.post("/vehicles", json=truck, headers=admin)
    staff = client.post("/staff", json={"name": "张伟", "role": "driver"}, headers=admin).json()
    member = {
        "date": "2026-11-24",
        "vehicle_code": "C01",
        "staff_id": staff["id"],
        "role": "driver",
    }
    assert client.post("/crews", json=member, headers=admin).status_code == 201
    again = client.post("/crews", json={**member, "vehicle_code": "C02"}, headers=admin)
    assert again.status_code == 409
    crews = client.get("/crews", params={"date": "2026-11-24"}, headers=admin).json()
    assert [m["name"] for m in crews["C01"]] == ["张伟"]


def test_depot_hours_update_and_list(client: TestClient, admin: dict[str, str]) -> None:
    """A depot's hours are updated and listed back; closing before opening is refused."""
    seed_fleet(client, admin)
    moved = client.patch("/depots/WH", json={"closes": "21:30"}, headers=admin)
    assert moved.status_code == 200
    assert client.get("/depots", headers=admin).json()[0]["closes"] == "21:30:00"
    bad = client.patch("/depots/WH", json={"closes": "05:00"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["field"] == "closes"
    assert client.patch("/depots/NOPE", json={"name": "x"}, headers=admin).status_code == 404


def test_staff_update_and_crew_removal(client: TestClient, admin: dict[str, str]) -> None:
    """Staff are listed and renamed; a crew assignment can be withdrawn."""
    seed_fleet(client, admin)
    staff = client.post("/staff", json={"name": "王强", "role": "porter"}, headers=admin).json()
    renamed = client.patch(f"/staff/{staff['id']}", json={"phone": "13800000000"}, headers=admin)
    assert renamed.json()["phone"] == "13800000000"
    assert [s["name"] for s in client.get("/staff", headers=admin).json()] == ["王强"]
    member = {
        "date": "2026-11-24",
        "vehicle_code": "C01",
        "staff_id": staff["id"],
        "role": "porter",
    }
    assigned = client.post("/crews", json=member, headers=admin).json()
    assert client.delete(f"/crews/{assigned['id']}", headers=admin).status_code == 204
    assert client.get("/crews", params={"date": "2026-11-24"}, headers=admin).json() == {}


def test_skills_listed(client: TestClient, admin: dict[str, str]) -> None:
    """Declared skills are listed; a badly formed skill name is a 422 with its path."""
    seed_fleet(client, admin)
    assert [s["name"] for s in client.get("/skills", headers=admin).json()] == ["gas_appliance"]
    bad = client.post("/skills", json={"name": "Gas Appliance"}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "name"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight_kg", 1e308),  # the model's grams would overflow, stopping every day's plan
        ("weight_kg", 100_001),  # past the settings' 100 t
        ("volume_m3", 501),
        ("cash_cap_cny", 1_000_001),
    ],
)
def test_absurd_capacities_are_refused_naming_the_field(
    client: TestClient, admin: dict[str, str], field: str, value: float
) -> None:
    """A vehicle past the settings' bounds is a 422 naming the field, created or updated."""
    seed_fleet(client, admin)
    truck = {"code": "C02", "depot_code": "WH", "weight_kg": 1000, "volume_m3": 12, field: value}
    created = client.post("/vehicles", json=truck, headers=admin)
    updated = client.patch("/vehicles/C01", json={field: value}, headers=admin)
    for answer in (created, updated):
        assert (answer.status_code, answer.json()["field"]) == (422, field), answer.text
    assert [v["code"] for v in client.get("/vehicles", headers=admin).json()] == ["C01"]
    assert client.get("/vehicles", headers=admin).json()[0]["weight_kg"] != value
