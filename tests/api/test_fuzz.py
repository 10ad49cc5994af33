"""Whatever the schema allows, or nearly allows, no endpoint answers with a server error.

Schemathesis generates requests from our own OpenAPI schema, valid and malformed, and sends
them over real HTTP to the running service. Bad input must come back as 4xx, never 5xx.
Edge numbers the generator never reaches are sent explicitly, and must be refused by name.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.core.config import ServiceSettings
from api.main import create_app
from api.serve import running_service

KEY = secrets.token_urlsafe(16)
schema = (
    schemathesis.openapi.from_dict(create_app().openapi())
    # Starting solves is exercised in test_plans; fuzzing it would only queue CPU work.
    .exclude(path_regex=r"^/plans(/\{plan_id\}/reoptimize)?$", method="POST")
    # Revoking keys would revoke the fuzzer's own key and turn the rest into 401s.
    .exclude(path_regex=r"^/keys/", method="DELETE")
)


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real service on a free local port, with a fresh SQLite database."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    service = ServiceSettings(
        database_url=f"sqlite:///{folder / 'fuzz.db'}",
        bootstrap_admin_key=KEY,
        run_scheduler=False,
        # Generated sign-ins carry made-up keys; locked out, every later case would be a 429.
        sign_in_free_failures=1_000_000,
    )
    with running_service(create_app(service)) as url:
        yield url


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, service_url: str) -> None:
    """Generated requests, with an admin key, never get a 5xx."""
    # The schema declares bearer auth, so generated cases carry made-up tokens: use ours.
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {KEY}"}
    response = case.call(base_url=service_url)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"


# Numbers at the edges of what JSON and Python can carry, which generated cases never reach:
# NaN and infinity (not standard JSON, but parsed), the largest float, an integer no float
# holds, minus zero, and strings far longer than any field takes.
EDGES: dict[str, object] = {
    "inf": float("inf"),
    "-inf": float("-inf"),
    "nan": float("nan"),
    "1e308": 1e308,
    "10**400": 10**400,
    "-0.0": -0.0,
    "huge string": "9" * 200_000,
}
# Values every numeric field here must refuse, naming the field; -0.0 may be a fine zero.
REFUSED = {"inf", "-inf", "nan", "1e308", "10**400", "huge string"}
SOON = (dt.date.today() + dt.timedelta(days=5)).isoformat()
ORDER = {
    "customer": "李娜",
    "phone": "13800138000",
    "address": "成都市武侯区天府大道北段100号",
    "lat": 30.65,
    "lon": 104.07,
    "date": SOON,
    "slot": "morning",
    "items": [{"sku": "T", "name": "瓷砖", "quantity": 1, "weight_kg": 20, "volume_m3": 0.1}],
}
VEHICLE = {"code": "E1", "depot_code": "WH", "weight_kg": 1000, "volume_m3": 12}
BANK_FIELDS = ["lat", "lon", "service_minutes"]
# (path, a valid body, the fields to set to each edge value, in the body's own nesting)
BODIES = [
    (
        "/orders",
        ORDER,
        ["cash_cny", "lat", "lon", "service_minutes", "priority", "items.0.quantity"]
        + ["items.0.weight_kg", "items.0.volume_m3"],
    ),
    ("/vehicles", VEHICLE, ["weight_kg", "volume_m3", "cash_cap_cny", "crew_size"]),
    ("/depots", {"code": "E", "lat": 30.6, "lon": 104.0}, ["lat", "lon"]),
    ("/banks", {"code": "E", "name": "工商银行", "lat": 30.6, "lon": 104.0}, BANK_FIELDS),
    ("/tickets", {"external_id": "E", "category": "repair"}, ["lat", "lon"]),
    ("/plans", {"date": SOON}, ["time_limit_s", "seed"]),
]
SLOT_FIELDS = ["lat", "lon", "weight_kg", "volume_m3", "cash_cny", "service_minutes", "days"]


def _with(body: dict[str, Any], dotted: str, value: object) -> dict[str, Any]:
    """A deep copy of `body` with the field at `dotted` ("items.0.quantity") set to `value`."""
    copy = json.loads(json.dumps(body))
    *parents, last = dotted.split(".")
    target = copy
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return dict(copy)


def _named(dotted: str) -> str:
    """The field as the API names it: items.0.quantity is items[0].quantity."""
    return dotted.replace(".0.", "[0].")


@pytest.mark.parametrize("edge", list(EDGES))
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        pytest.param(path, body, field, id=f"{path} {field}")
        for path, body, fields in BODIES
        for field in fields
    ],
)
def test_edge_numbers_in_bodies(
    service_url: str, path: str, body: dict[str, Any], field: str, edge: str
) -> None:
    """An edge number in any numeric field is a 4xx; a refused one names the field."""
    if path == "/plans" and edge == "-0.0":
        pytest.skip("a valid plan request would queue a solve")
    payload = _with(body, field, EDGES[edge])
    if path in ("/orders", "/tickets"):
        payload["external_id"] = f"E-{field}-{edge}"
    answer = httpx.post(
        service_url + path,
        content=json.dumps(payload, ensure_ascii=False),  # NaN and Infinity as parsers read them
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code < 500, f"{path} {field}={edge}: {answer.text[:300]}"
    if edge in REFUSED:
        assert answer.status_code in (413, 422), answer.text[:300]
    if answer.status_code == 422 and edge in REFUSED:
        assert answer.json()["field"] == _named(field), answer.text[:300]
        assert len(answer.content) < 2_000  # the input is never echoed


@pytest.mark.parametrize("edge", list(EDGES))
@pytest.mark.parametrize("field", SLOT_FIELDS)
def test_edge_numbers_in_slot_questions(service_url: str, field: str, edge: str) -> None:
    """GET /slots with an edge number in any query parameter is a 4xx naming the parameter."""
    value = EDGES[edge]
    if edge == "huge string":
        value = "9" * 5_000  # a URL this long still reaches the service
    params = {"lat": 30.65, "lon": 104.07, field: str(value)}
    answer = httpx.get(
        service_url + "/slots",
        params=params,
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    )
    assert answer.status_code < 500, f"/slots {field}={edge}: {answer.text[:300]}"
    if edge in REFUSED:
        assert answer.status_code == 422, answer.text[:300]
        assert answer.json()["field"] == field, answer.text[:300]
        assert len(answer.content) < 2_000
