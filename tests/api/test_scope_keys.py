"""The scope boundary of keys, sessions and areas: an admin of one area hands out, lists and
revokes only that area's keys and manages only its own area; readers list the areas in scope."""

from __future__ import annotations

from typing import Any

import pytest
from api_keys import KeyMaker
from area_helpers import seed_two_areas
from fastapi.testclient import TestClient

COVERED: set[tuple[str, str]] = {
    ("POST", "/keys"),
    ("GET", "/keys"),
    ("DELETE", "/keys/{key_id}"),
    ("POST", "/session"),
    ("GET", "/session"),
    ("DELETE", "/session"),
    ("POST", "/areas"),
    ("GET", "/areas"),
    ("GET", "/areas/{code}"),
    ("PATCH", "/areas/{code}"),
}


@pytest.fixture
def chain(client: TestClient, admin: dict[str, str]) -> TestClient:
    seed_two_areas(client, admin, orders=False)
    return client


def _key(client: TestClient, by: dict[str, str], **body: Any) -> Any:
    return client.post("/keys", json={"name": "k", "role": "dispatcher", **body}, headers=by)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"areas": ["cd"]}, 201),  # its own area
        ({"areas": ["sh"]}, 403),  # another area
        ({"areas": ["cd", "sh"]}, 403),  # wider than its own
        ({}, 403),  # the whole chain
        ({"role": "driver", "vehicle_code": "CD1"}, 201),  # a crew of its area
        ({"role": "driver", "vehicle_code": "SH1"}, 403),  # another area's crew
    ],
)
def test_scoped_admin_issues_keys_only_within_its_scope(
    chain: TestClient, key_for: KeyMaker, body: dict[str, Any], status: int
) -> None:
    """An admin of cd issues keys of cd only; a key of sh or of the chain is a 403."""
    answer = _key(chain, key_for("admin", areas=["cd"]), **body)
    assert answer.status_code == status, answer.text
    if status == 403:
        assert answer.json()["rule"] == "area_scope"
    else:
        assert answer.json()["areas"] == ["cd"]


def test_chain_admin_issues_keys_of_any_scope(chain: TestClient, admin: dict[str, str]) -> None:
    """A chain-wide admin issues keys of one area, several, or the whole chain."""
    for areas in (["sh"], ["cd", "sh"], []):
        answer = _key(chain, admin, areas=areas)
        assert answer.status_code == 201 and answer.json()["areas"] == areas
    unknown = _key(chain, admin, areas=["nowhere"])
    assert unknown.status_code == 422 and unknown.json()["field"] == "areas[0]"


def test_scoped_admin_lists_only_keys_within_its_scope(
    chain: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """GET /keys shows an area's admin only the keys wholly inside its area."""
    made = {tuple(a): _key(chain, admin, areas=a).json()["id"] for a in (["cd"], ["sh"], [])}
    both = _key(chain, admin, areas=["cd", "sh"]).json()["id"]
    seen = {row["id"] for row in chain.get("/keys", headers=key_for("admin", areas=["cd"])).json()}
    assert made[("cd",)] in seen
    assert not seen & {made[("sh",)], made[()], both}
    everything = {row["id"] for row in chain.get("/keys", headers=admin).json()}
    assert {*made.values(), both} <= everything


def test_scoped_admin_revokes_only_keys_within_its_scope(
    chain: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """DELETE /keys/{id} of another area's key or a chain-wide one is a 403 and changes nothing."""
    cd_admin = key_for("admin", areas=["cd"])
    own, other, chain_wide = (_key(chain, admin, areas=a).json() for a in (["cd"], ["sh"], []))
    for foreign in (other, chain_wide):
        refused = chain.delete(f"/keys/{foreign['id']}", headers=cd_admin)
        assert refused.status_code == 403 and refused.json()["rule"] == "area_scope"
        headers = {"Authorization": f"Bearer {foreign['key']}"}
        assert chain.get("/session", headers=headers).status_code == 200
    revoked = chain.delete(f"/keys/{own['id']}", headers=cd_admin)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True


def test_session_shows_the_keys_scope(chain: TestClient, admin: dict[str, str]) -> None:
    """Signing in, asking who one is and signing out all carry the key's own scope."""
    for areas in (["sh"], ["cd"], []):
        key = _key(chain, admin, areas=areas).json()["key"]
        signed = chain.post("/session", json={"key": key})
        assert signed.status_code == 200 and signed.json()["areas"] == areas
        assert chain.get("/session").json()["areas"] == areas
        assert chain.delete("/session").status_code == 204
        assert chain.get("/session").status_code == 401


def test_areas_list_only_the_keys_scope(chain: TestClient, key_for: KeyMaker) -> None:
    """GET /areas lists the areas in the key's scope; a chain-wide key sees all of them."""
    for areas, expected in ((["cd"], ["cd"]), (["sh"], ["sh"]), ([], ["cd", "main", "sh"])):
        listed = chain.get("/areas", headers=key_for("dispatcher", areas=areas))
        assert [area["code"] for area in listed.json()] == expected


@pytest.mark.parametrize("role", ["dispatcher", "warehouse", "finance", "order_system"])
def test_an_area_outside_the_scope_is_403(chain: TestClient, key_for: KeyMaker, role: str) -> None:
    """Reading another area is a 403 naming the rule; one's own area reads."""
    headers = key_for(role, areas=["cd"])
    refused = chain.get("/areas/sh", headers=headers)
    assert refused.status_code == 403 and refused.json()["rule"] == "area_scope"
    own = chain.get("/areas/cd", headers=headers)
    assert own.status_code == 200 and own.json()["depots"] == ["WH-CD"]


def test_scoped_admin_manages_only_its_own_area(chain: TestClient, key_for: KeyMaker) -> None:
    """An admin of cd changes cd but neither changes sh nor creates another area."""
    cd_admin = key_for("admin", areas=["cd"])
    other = chain.patch("/areas/sh", json={"cash_cap_cny": 1000}, headers=cd_admin)
    assert other.status_code == 403 and other.json()["rule"] == "area_scope"
    new = chain.post("/areas", json={"code": "sz", "name": "深圳店"}, headers=cd_admin)
    assert new.status_code == 403 and new.json()["rule"] == "area_scope"
    own = chain.patch("/areas/cd", json={"cash_cap_cny": 30000}, headers=cd_admin)
    assert own.status_code == 200, own.text
    assert own.json()["cash_cap_cny"] == 30000 and own.json()["overrides"] == ["cash_cap_cny"]


def test_area_overrides_are_in_force_and_the_rest_is_the_chains(
    chain: TestClient, admin: dict[str, str]
) -> None:
    """An area shows its own slot hours where set and the chain's settings everywhere else."""
    body = {"code": "sz", "name": "深圳福田店", "city": "深圳", "timezone": "Asia/Shanghai"}
    hours = {"morning_start": "09:00:00", "morning_end": "13:00:00"}
    created = chain.post("/areas", json={**body, **hours}, headers=admin)
    assert created.status_code == 201, created.text
    area, main = created.json(), chain.get("/areas/main", headers=admin).json()
    assert area["overrides"] == ["morning_start", "morning_end"]
    assert (area["morning_start"], area["morning_end"]) == ("09:00:00", "13:00:00")
    assert area["afternoon_start"] == main["afternoon_start"]
    assert area["cash_cap_cny"] == main["cash_cap_cny"]
    changed = chain.patch("/areas/sz", json={"name": "深圳南山店"}, headers=admin).json()
    assert changed["name"] == "深圳南山店" and changed["morning_start"] == "09:00:00"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA time zone"),
        ({"morning_end": "14:00"}, None, "slot hours must be ordered"),  # runs into the afternoon
        ({"code": "Shop One"}, "code", "pattern"),
    ],
)
def test_a_bad_area_is_422_and_nothing_is_stored(
    chain: TestClient, admin: dict[str, str], change: dict[str, Any], field: str | None, words: str
) -> None:
    """A bad time zone, an override breaking the slot order or a bad code is a 422."""
    body = {"code": "sz", "name": "深圳店", **change}
    answer = chain.post("/areas", json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    if field is not None:
        assert answer.json()["field"] == field
    assert words in str(answer.json()["detail"])
    assert "sz" not in [area["code"] for area in chain.get("/areas", headers=admin).json()]
    if "code" not in change:  # the same change to an existing area
        assert chain.patch("/areas/cd", json=change, headers=admin).status_code == 422
