"""The scope boundary of intake: orders, slots, tickets, notifications and the fleet.

Every route is tried on Chengdu's objects by a dispatcher of Shanghai (403, nothing changed)
and then by a dispatcher of Chengdu (it works); every list shows a key only its own areas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from api_keys import KeyMaker
from area_helpers import area_order, seed_two_areas
from fastapi.testclient import TestClient
from intake_helpers import publish_area
from ledger_helpers import stored_service_report
from plan_helpers import DAY, app_at
from prepared import ADMIN_KEY, Prepare, Prepared, service_settings

from api.core.config import ServiceSettings

Headers = dict[str, str]
NEXT = (DAY + dt.timedelta(days=1)).isoformat()
TICKET = {
    "category": "repair",
    "description": "坏了",
    "customer_name": "张三",
    "customer_phone": "13800000000",
    "equipment": "三人沙发",
    "service_type": "repair",
    "on_site_at": "2026-11-26T10:00:00+08:00",
}

COVERED: set[tuple[str, str]] = {
    ("POST", "/orders"),
    ("GET", "/orders"),
    ("GET", "/orders/overdue-installations"),
    ("GET", "/orders/{external_id}"),
    ("GET", "/orders/{external_id}/history"),
    ("POST", "/orders/{external_id}/cancel"),
    ("POST", "/orders/{external_id}/reschedule"),
    ("GET", "/slots"),
    ("POST", "/tickets"),
    ("GET", "/tickets"),
    ("GET", "/tickets/report"),
    ("POST", "/tickets/escalations"),
    ("GET", "/tickets/{ticket_id}"),
    ("PATCH", "/tickets/{ticket_id}"),
    ("POST", "/tickets/{ticket_id}/answer"),
    ("POST", "/tickets/{ticket_id}/assign"),
    ("POST", "/tickets/{ticket_id}/schedule"),
    ("POST", "/tickets/{ticket_id}/contact"),
    ("POST", "/tickets/{ticket_id}/wait-for-parts"),
    ("POST", "/tickets/{ticket_id}/parts-arrived"),
    ("POST", "/tickets/{ticket_id}/visit"),
    ("POST", "/tickets/{ticket_id}/close"),
    ("POST", "/tickets/{ticket_id}/follow-up"),
    ("POST", "/notifications/day-before/{date}"),
    ("POST", "/notifications/due"),
    ("POST", "/notifications/deliver"),
    ("GET", "/notifications"),
    ("POST", "/skills"),
    ("GET", "/skills"),
    ("POST", "/depots"),
    ("GET", "/depots"),
    ("PATCH", "/depots/{code}"),
    ("POST", "/vehicles"),
    ("GET", "/vehicles"),
    ("PATCH", "/vehicles/{code}"),
    ("POST", "/staff"),
    ("GET", "/staff"),
    ("PATCH", "/staff/{staff_id}"),
    ("POST", "/crews"),
    ("GET", "/crews"),
    ("DELETE", "/crews/{member_id}"),
    ("POST", "/banks"),
    ("GET", "/banks"),
    ("PATCH", "/banks/{code}"),
}


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    with app_at(settings) as test_client:
        yield test_client


@dataclass
class World:
    """Two areas with their fleet, orders, tickets, published plans and messages."""

    client: TestClient
    admin: Headers
    ids: dict[str, Any] = field(default_factory=dict)

    def call(self, method: str, path: str, headers: Headers, body: Any = None) -> Any:
        return self.client.request(method, path, json=body, headers=headers)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.call(method, path, self.admin, body)
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None

    def ticket(self, area: str) -> int:
        return int(self.ids[f"ticket-{area}"])


def _build_world(url: str) -> dict[str, Any]:
    """Two areas, each with a ticket, a technician crewed on NEXT, a published plan of DAY,
    its day-before messages and a bank; the ids of what was made."""
    with app_at(service_settings(url)) as client:
        made = World(client, {"Authorization": f"Bearer {ADMIN_KEY}"})
        seed_two_areas(client, made.admin)
        made.ok("POST", "/skills", {"name": "repair"})
        for area, order in (("cd", "CD-1"), ("sh", "SH-1")):
            body = {**TICKET, "external_id": f"TK-{area}", "order_external_id": order}
            made.ids[f"ticket-{area}"] = made.ok("POST", "/tickets", body)["id"]
            staff = {"name": f"{area}-tech", "role": "porter", "area_code": area}
            made.ids[f"staff-{area}"] = made.ok("POST", "/staff", staff)["id"]
            crew = {"date": NEXT, "vehicle_code": area.upper() + "1", "role": "porter"}
            member = made.ok("POST", "/crews", {**crew, "staff_id": made.ids[f"staff-{area}"]})
            made.ids[f"member-{area}"] = member["id"]
            publish_area(client, area)
            made.ok("POST", f"/notifications/day-before/{DAY.isoformat()}?area={area}")
            made.ok("POST", "/banks", {**_bank(f"BK-{area}"), "area_code": area})
        return made.ids


@pytest.fixture
def prepared_database(backend: str, prepare: Prepare) -> Prepared:
    """The two areas' world, built once and copied into each test's database."""
    return prepare(backend, "scope_intake_world", _build_world)


@pytest.fixture
def world(client: TestClient, admin: Headers, prepared_database: Prepared) -> World:
    return World(client, admin, dict(prepared_database.extras))


def _answer(w: World) -> None:
    w.ok("POST", f"/tickets/{w.ticket('cd')}/answer")


def _assign(w: World) -> None:
    _answer(w)
    w.ok("POST", f"/tickets/{w.ticket('cd')}/assign", {"vehicle_code": "CD1"})


def _parts(w: World) -> None:
    _answer(w)
    w.ok("POST", f"/tickets/{w.ticket('cd')}/wait-for-parts")


def _report(w: World) -> dict[str, Any]:
    report = stored_service_report(w.client, date=DAY, key="report-cd")
    return {"tested": True, "site_cleaned": True, "service_report_id": report}


def _closed(w: World) -> None:
    _assign(w)
    w.ok("POST", f"/tickets/{w.ticket('cd')}/close", _report(w))


@dataclass(frozen=True)
class Case:
    """One route tried on Chengdu's object: the state it needs, then the request."""

    method: str
    route: str
    path: Callable[[World], str]
    body: Callable[[World], Any] = lambda w: None
    setup: Callable[[World], None] = lambda w: None


def _tk(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/tickets/{w.ticket('cd')}{suffix}"


CASES = [
    Case(
        "POST",
        "/orders",
        lambda w: "/orders",
        lambda w: {**area_order("cd", "CD-9", 4), "area": "cd"},
    ),
    Case("GET", "/orders/{external_id}", lambda w: "/orders/CD-1"),
    Case("GET", "/orders/{external_id}/history", lambda w: "/orders/CD-1/history"),
    Case(
        "POST",
        "/orders/{external_id}/cancel",
        lambda w: "/orders/CD-1/cancel",
        lambda w: {"reason": "客户取消"},
    ),
    Case(
        "POST",
        "/orders/{external_id}/reschedule",
        lambda w: "/orders/CD-1/reschedule",
        lambda w: {"date": NEXT, "slot": "afternoon"},
    ),
    Case("GET", "/slots", lambda w: "/slots?lat=30.67&lon=104.07&days=3&area=cd"),
    Case(
        "POST",
        "/tickets",
        lambda w: "/tickets",
        lambda w: {**TICKET, "external_id": "TK-new", "order_external_id": "CD-2"},
    ),
    Case("GET", "/tickets/{ticket_id}", _tk()),
    Case("PATCH", "/tickets/{ticket_id}", _tk(), lambda w: {"equipment": "床"}),
    Case("POST", "/tickets/{ticket_id}/answer", _tk("/answer")),
    Case(
        "POST",
        "/tickets/{ticket_id}/assign",
        _tk("/assign"),
        lambda w: {"vehicle_code": "CD1"},
        _answer,
    ),
    Case("POST", "/tickets/{ticket_id}/schedule", _tk("/schedule"), setup=_answer),
    Case(
        "POST",
        "/tickets/{ticket_id}/contact",
        _tk("/contact"),
        lambda w: {"estimated_arrival": "2026-11-26T10:00:00+08:00"},
        _assign,
    ),
    Case("POST", "/tickets/{ticket_id}/wait-for-parts", _tk("/wait-for-parts"), setup=_answer),
    Case("POST", "/tickets/{ticket_id}/parts-arrived", _tk("/parts-arrived"), setup=_parts),
    Case("POST", "/tickets/{ticket_id}/visit", _tk("/visit"), setup=_assign),
    Case("POST", "/tickets/{ticket_id}/close", _tk("/close"), _report, _assign),
    Case("POST", "/tickets/{ticket_id}/follow-up", _tk("/follow-up"), setup=_closed),
    Case(
        "POST",
        "/notifications/day-before/{date}",
        lambda w: f"/notifications/day-before/{DAY.isoformat()}?area=cd",
    ),
    Case("POST", "/notifications/due", lambda w: "/notifications/due?area=cd"),
    Case("POST", "/depots", lambda w: "/depots", lambda w: {**_depot("WH-CD2"), "area_code": "cd"}),
    Case("PATCH", "/depots/{code}", lambda w: "/depots/WH-CD", lambda w: {"name": "成华仓"}),
    Case("POST", "/vehicles", lambda w: "/vehicles", lambda w: _truck("CD2", "WH-CD")),
    Case("PATCH", "/vehicles/{code}", lambda w: "/vehicles/CD1", lambda w: {"name": "川A"}),
    Case(
        "POST",
        "/staff",
        lambda w: "/staff",
        lambda w: {"name": "王师傅", "role": "driver", "area_code": "cd"},
    ),
    Case(
        "PATCH",
        "/staff/{staff_id}",
        lambda w: f"/staff/{w.ids['staff-cd']}",
        lambda w: {"name": "王师傅"},
    ),
    Case(
        "POST",
        "/crews",
        lambda w: "/crews",
        lambda w: {
            "date": (DAY + dt.timedelta(days=2)).isoformat(),
            "vehicle_code": "CD1",
            "staff_id": w.ids["staff-cd"],
            "role": "porter",
        },
    ),
    Case("DELETE", "/crews/{member_id}", lambda w: f"/crews/{w.ids['member-cd']}"),
    Case("POST", "/banks", lambda w: "/banks", lambda w: {**_bank("BK-cd2"), "area_code": "cd"}),
    Case("PATCH", "/banks/{code}", lambda w: "/banks/BK-cd", lambda w: {"closes": "16:30"}),
]


def _depot(code: str) -> dict[str, Any]:
    return {"code": code, "lat": 30.7, "lon": 104.1}


def _bank(code: str) -> dict[str, Any]:
    return {"code": code, "name": "工商银行", "lat": 30.7, "lon": 104.1}


def _truck(code: str, depot: str) -> dict[str, Any]:
    return {"code": code, "depot_code": depot, "weight_kg": 500, "volume_m3": 5}


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.method} {case.route}")
def test_a_key_of_another_area_is_refused_and_its_own_is_served(
    world: World, key_for: KeyMaker, case: Case
) -> None:
    """Shanghai's dispatcher gets 403 on Chengdu's object and changes nothing; Chengdu's works."""
    case.setup(world)
    path, body = case.path(world), case.body(world)
    before = world.call("GET", "/orders/CD-1", world.admin).json()
    refused = world.call(case.method, path, key_for("dispatcher", areas=["sh"]), body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["rule"] == "area_scope"
    assert world.call("GET", "/orders/CD-1", world.admin).json() == before
    served = world.call(case.method, path, key_for("dispatcher", areas=["cd"]), body)
    assert served.status_code < 300, served.text


# list route -> how to read the areas of its rows
LISTS: dict[str, tuple[str, Callable[[Any], set[str]]]] = {
    "/orders": ("/orders", lambda rows: {row["area_code"] for row in rows}),
    "/tickets": ("/tickets", lambda rows: {row["area_code"] for row in rows}),
    "/notifications": ("/notifications", lambda rows: {row["area_code"] for row in rows}),
    "/depots": ("/depots", lambda rows: {row["area_code"] for row in rows}),
    "/banks": ("/banks", lambda rows: {row["area_code"] for row in rows}),
    "/vehicles": ("/vehicles", lambda rows: {row["area_code"] for row in rows}),
    "/staff": ("/staff", lambda rows: {row["area_code"] for row in rows}),
    "/crews": (f"/crews?date={DAY.isoformat()}", lambda crews: {c[:2].lower() for c in crews}),
    "/tickets/report": ("/tickets/report", lambda report: _reported(report)),
}


def _reported(report: dict[str, Any]) -> set[str]:
    """The areas with open tickets in the report (an empty area shows only zeros)."""
    return {area for area, got in report["by_area"].items() if sum(got["open_by_age"].values())}


@pytest.mark.parametrize("route", sorted(LISTS))
def test_a_list_shows_only_the_areas_in_scope(world: World, key_for: KeyMaker, route: str) -> None:
    """A list shows a scoped key only its area, a chain-wide key both; naming another is 403."""
    path, areas_of = LISTS[route]
    joiner = "&" if "?" in path else "?"
    for scope in ("cd", "sh"):
        own = world.call("GET", path, key_for("dispatcher", areas=[scope]))
        assert own.status_code == 200, own.text
        assert areas_of(own.json()) == {scope}
        other = "sh" if scope == "cd" else "cd"
        named = world.call(
            "GET", f"{path}{joiner}area={other}", key_for("dispatcher", areas=[scope])
        )
        assert named.status_code == 403 and named.json()["rule"] == "area_scope"
    assert areas_of(world.call("GET", path, key_for("dispatcher")).json()) == {"cd", "sh"}


def test_overdue_installations_are_listed_only_in_scope(world: World, key_for: KeyMaker) -> None:
    """Overdue installations: naming another area is 403, one's own is listed."""
    sh_key = key_for("dispatcher", areas=["sh"])
    path = "/orders/overdue-installations"
    assert world.call("GET", f"{path}?area=cd", sh_key).status_code == 403
    assert world.call("GET", f"{path}?area=sh", sh_key).status_code == 200


def test_deliver_sends_only_the_areas_in_scope(world: World, key_for: KeyMaker) -> None:
    """Deliver sends only its own area's messages; naming another area is 403."""
    sh_key = key_for("dispatcher", areas=["sh"])
    assert world.call("POST", "/notifications/deliver?area=cd", sh_key).status_code == 403
    sent = world.call("POST", "/notifications/deliver", sh_key).json()["sent"]
    rows = world.call("GET", "/notifications", world.admin).json()
    assert sent == 2 and {(m["area_code"], m["status"]) for m in rows} == {
        ("cd", "pending"),
        ("sh", "sent"),
    }


def test_escalations_stay_within_scope(world: World, key_for: KeyMaker) -> None:
    """Shanghai's dispatcher escalates none of Chengdu's overdue complaints; a chain key does."""
    due = {"solution": "换货", "solution_due": "2026-11-23T10:00:00+08:00"}
    for area, order in (("cd", "CD-3"), ("sh", "SH-2")):
        body = {"external_id": f"C-{area}", "category": "complaint", "order_external_id": order}
        world.ok("POST", "/tickets", {**body, **due})
    cd_key = key_for("dispatcher", areas=["cd"])
    assert world.call("POST", "/tickets/escalations?area=sh", cd_key).status_code == 403
    mine = world.call("POST", "/tickets/escalations", cd_key).json()["escalated"]
    rest = world.call("POST", "/tickets/escalations", key_for("dispatcher")).json()["escalated"]
    shown = {t["id"]: t["area_code"] for t in world.ok("GET", "/tickets")}
    assert [shown[i] for i in mine] == ["cd"] and [shown[i] for i in rest] == ["sh"]


def test_skills_are_the_chains(world: World, key_for: KeyMaker) -> None:
    """Skills are chain-wide: any area's dispatcher adds one, and every key reads them all."""
    for n, scope in enumerate(("cd", "sh")):
        key = key_for("dispatcher", areas=[scope])
        added = world.call("POST", "/skills", key, {"name": f"sofa_{n}"})
        assert added.status_code == 201, added.text
    names = {
        row["name"]
        for row in world.call("GET", "/skills", key_for("warehouse", areas=["sh"])).json()
    }
    assert names == {"repair", "sofa_0", "sofa_1"}
