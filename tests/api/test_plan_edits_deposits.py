"""Deposit stops through the dispatcher's edits, re-optimising and publishing.

C01 (two people, cap ¥3,000) serves three customers of ¥2,000 each, so a REAL planning job
gives it a deposit after each of the first two. C02 (two people) and C03 (one person), both
capped at ¥3,000, get their crews only after planning, so they start empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from deposit_helpers import cash_heavy_day, crew, planned_by_job
from fastapi.testclient import TestClient
from plan_helpers import app_at, if_match, snapshot, violations

from api.core.config import ServiceSettings


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    with app_at(settings) as test_client:
        yield test_client


@pytest.fixture
def planned(client: TestClient, admin: dict[str, str]) -> int:
    """The day planned by a real job while only C01 is crewed."""
    cash_heavy_day(client, admin, trucks=("C02", "C03"))
    return planned_by_job(client, admin)


@pytest.fixture
def plan_id(client: TestClient, admin: dict[str, str], planned: int) -> int:
    """The planned day once C02 and C03 have their crews too."""
    crew(client, admin, "C02", ["driver", "porter"])
    crew(client, admin, "C03", ["driver"])
    return planned


def _routes(client: TestClient, admin: dict[str, str], plan_id: int) -> dict[str, Any]:
    plan = client.get(f"/plans/{plan_id}", headers=admin).json()
    return {route["vehicle_code"]: route for route in plan["routes"]}


def _banked_after(route: dict[str, Any]) -> list[str]:
    """The customer each deposit of the route follows, in route order."""
    stops = [stop["external_id"] for stop in route["stops"]]
    return [stops[deposit["after"] - 1] for deposit in route["deposits"]]


def _move(client: TestClient, admin: dict[str, str], plan_id: int, **body: Any) -> Any:
    version = client.get(f"/plans/{plan_id}", headers=admin).json()["version"]
    headers = {**admin, **if_match(version)}
    return client.post(f"/plans/{plan_id}/moves", json=body, headers=headers)


def _sound(client: TestClient, plan_id: int, routes: dict[str, Any]) -> None:
    """The checker finds nothing, and no crew carries more than ¥3,000 between deposits."""
    assert violations(client, plan_id) == []
    assert all(s["cash_cny"] <= 3000 for r in routes.values() for s in r["stops"]), routes


def test_a_plan_with_deposits_is_published_with_its_deposit_stops(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """C01 collects ¥6,000 over the day with two deposits: published (200), deposits kept."""
    before = _routes(client, admin, plan_id)["C01"]
    assert len(before["stops"]) == 3 and len(before["deposits"]) == 2, before
    answer = client.post(f"/plans/{plan_id}/publish", headers={**admin, **if_match(1)})
    assert answer.status_code == 200, answer.text
    after = _routes(client, admin, plan_id)["C01"]
    assert after["deposits"] == before["deposits"]
    _sound(client, plan_id, {"C01": after})


def test_moving_within_a_route_keeps_each_deposit_after_its_customer(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """The two morning customers swap: each deposit still follows the same customer."""
    before = _routes(client, admin, plan_id)["C01"]
    first, second = (stop["external_id"] for stop in before["stops"][:2])
    assert sorted(_banked_after(before)) == sorted([first, second])
    answer = _move(client, admin, plan_id, order=second, vehicle_code="C01", position=1)
    assert answer.status_code == 200, answer.text
    after = _routes(client, admin, plan_id)
    assert [s["external_id"] for s in after["C01"]["stops"]][:2] == [second, first]
    assert _banked_after(after["C01"]) == [second, first]
    _sound(client, plan_id, after)


def test_moving_between_routes_keeps_the_deposit_the_route_needs(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """The afternoon customer goes to C02: C01 keeps its deposit after its first customer
    and drops the one it no longer needs; C02, with ¥2,000, has none."""
    before = _routes(client, admin, plan_id)["C01"]
    first = before["stops"][0]["external_id"]
    answer = _move(client, admin, plan_id, order="CD-3", vehicle_code="C02")
    assert answer.status_code == 200, answer.text
    after = _routes(client, admin, plan_id)
    assert _banked_after(after["C01"]) == [first]
    assert after["C02"]["deposits"] == [] and len(after["C02"]["stops"]) == 1
    _sound(client, plan_id, after)


def test_taking_off_the_customer_a_deposit_follows_keeps_the_deposit_the_route_needs(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """Without its first customer, C01 still banks between the other two: once, not twice."""
    before = _routes(client, admin, plan_id)["C01"]
    first, second = (stop["external_id"] for stop in before["stops"][:2])
    body = {"order": first, "reason": "客户改期"}
    headers = {**admin, **if_match(1)}
    answer = client.post(f"/plans/{plan_id}/unassign", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    after = _routes(client, admin, plan_id)
    assert _banked_after(after["C01"]) == [second]
    _sound(client, plan_id, after)


def test_a_cash_visit_onto_a_two_person_crew_at_its_cap_adds_a_deposit(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """C02 holds ¥2,000; a second ¥2,000 customer would take it to ¥4,000, so it banks in
    between instead of the move being refused."""
    assert _move(client, admin, plan_id, order="CD-3", vehicle_code="C02").status_code == 200
    answer = _move(client, admin, plan_id, order="CD-2", vehicle_code="C02", position=1)
    assert answer.status_code == 200, answer.text
    after = _routes(client, admin, plan_id)
    assert _banked_after(after["C02"]) == ["CD-2"]
    assert after["C01"]["deposits"] == []  # ¥2,000 left on C01: its deposit no longer helps
    assert after["C02"]["deposits"][0]["bank_code"] == "ICBC-CH"
    _sound(client, plan_id, after)


def test_a_cash_visit_onto_a_one_person_crew_at_its_cap_is_refused(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """C03 (one person) holds ¥2,000 and may not bank: a second customer is a 409 `cash`."""
    assert _move(client, admin, plan_id, order="CD-3", vehicle_code="C03").status_code == 200
    before = snapshot(client, plan_id)
    answer = _move(client, admin, plan_id, order="CD-2", vehicle_code="C03", position=1)
    assert answer.status_code == 409, answer.text
    assert answer.json()["rule"] == "cash" and "C03" in answer.json()["detail"]
    assert snapshot(client, plan_id) == before


def test_reoptimising_a_plan_with_deposits_keeps_a_valid_plan_with_deposits(
    client: TestClient, admin: dict[str, str], planned: int
) -> None:
    """C01 alone still serves all three customers, banking twice, after re-optimising."""
    body = {"time_limit_s": 3, "seed": 1}
    answer = client.post(
        f"/plans/{planned}/reoptimize", json=body, headers={**admin, **if_match(1)}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["unassigned"] == []
    after = _routes(client, admin, planned)
    assert len(after["C01"]["stops"]) == 3 and len(after["C01"]["deposits"]) == 2
    _sound(client, planned, after)
