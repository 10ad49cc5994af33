"""The driver's phone page and their crew's map: own crew only, stops in order, cash on board."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import (
    AT,
    GPS,
    PNG,
    collection,
    on_the_day,
    published_day_database,
    record,
)
from plan_helpers import CREWS, DAY, ORDERS, engine_of
from sqlalchemy import event

from api.core.config import ServiceSettings
from api.records.kinds import Kind

C01_ORDERS = sorted(o for o, v in CREWS.items() if v == "C01")  # SO-01, SO-02, SO-03
C02_ORDERS = sorted(o for o, v in CREWS.items() if v == "C02")
PAGES = ["/app/driver", "/app/driver/map.html"]
# The page's reads today are 15, the route's bank stops one of them; one query per stop
# would add at least 3 on this day.
QUERY_BUDGET = 15
SO_01_DELIVERED = [
    {"sku": "SOFA-3", "ordered": 1, "quantity": 1},
    {"sku": "PIL-1", "ordered": 2, "quantity": 2},
]


prepared_database = published_day_database


@pytest.fixture
def day(settings: ServiceSettings) -> Iterator[TestClient]:
    """The seeded day published; the service as of its morning, so "today" is DAY."""
    yield from on_the_day(settings)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def tags(page: str, tag: str, **wanted: str) -> list[dict[str, str]]:
    """Attributes of every `tag` whose attributes include `wanted` (data_x means data-x)."""
    parser = _Tags()
    parser.feed(page)
    want = {name.replace("_", "-"): value for name, value in wanted.items()}
    return [
        attrs
        for name, attrs in parser.tags
        if name == tag and all(attrs.get(k) == v for k, v in want.items())
    ]


def stops(page: str) -> list[dict[str, str]]:
    return [attrs for attrs in tags(page, "li") if "stop" in attrs.get("class", "").split()]


def stop_html(page: str, order: str) -> str:
    """The markup of one stop's card, up to the next card."""
    start = page.index(f'data-order="{order}"')
    end = page.find('<li class="stop', start)
    return page[start : end if end > 0 else len(page)]


def cash_text(page: str) -> str:
    found = re.search(r'id="cash-on-board".*?class="amount">([^<]*)<', page, re.S)
    assert found, "no cash-on-board bar"
    return found.group(1).strip()


def sign_in(client: TestClient, headers: dict[str, str]) -> None:
    key = headers["Authorization"].removeprefix("Bearer ")
    assert client.post("/session", json={"key": key}).status_code == 200


def test_driver_sees_their_stops_in_order(day: TestClient, key_for: KeyMaker) -> None:
    """C01's stops in route order with items, cash to collect, links, actions and the cash bar."""
    driver = key_for("driver", "C01")
    route = day.get("/driver/route", params={"date": DAY.isoformat()}, headers=driver).json()
    sign_in(day, driver)
    page = day.get("/app/driver")
    assert page.status_code == 200, page.text
    assert '<html lang="zh-CN">' in page.text and "车上现金" in page.text
    assert [s["data-order"] for s in stops(page.text)] == [s["external_id"] for s in route["stops"]]
    assert sorted(s["data-order"] for s in stops(page.text)) == C01_ORDERS
    assert all(order not in page.text for order in C02_ORDERS)
    assert {s["data-state"] for s in stops(page.text)} == {"planned"}
    assert cash_text(page.text) == "¥0.00 / ¥50,000.00"
    so_03 = stop_html(page.text, "SO-03")
    assert "¥4,000.00" in so_03 and "茶几 × 1" in so_03
    so_01 = stop_html(page.text, "SO-01")
    assert "三人沙发 × 1" in so_01 and "抱枕 × 2" in so_01
    assert 'href="tel:13800138000"' in so_01
    assert "https://uri.amap.com/navigation?to=104.07,30.66,%E5%BC%A0%E4%B8%89" in so_01
    assert 'href="geo:30.66,104.07"' in so_01
    assert len(tags(page.text, "button", data_action="depart")) == 1
    assert len(tags(page.text, "button", data_action="arrive")) == len(C01_ORDERS)
    (frame,) = tags(page.text, "iframe")
    assert frame["class"] == "map" and frame["src"].startswith("/app/driver/map.html?")
    assert "vehicle=C01" in frame["src"]


@pytest.mark.parametrize(
    ("query", "lang", "words"),
    [
        ("", "zh-CN", ["我的路线", "车上现金", "我已到达"]),  # Chinese by default
        ("?lang=en", "en", ["My route", "Cash on board", "I have arrived"]),  # the switch
    ],
)
def test_page_language(
    day: TestClient, key_for: KeyMaker, query: str, lang: str, words: list[str]
) -> None:
    """The page speaks Chinese unless English is asked for; the script gets the same words."""
    sign_in(day, key_for("driver", "C01"))
    page = day.get(f"/app/driver{query}").text
    assert f'<html lang="{lang}">' in page
    assert all(word in page for word in words)
    script_words = re.search(r'id="driver-words"[^>]*>(.*?)</script>', page, re.S)
    assert script_words and json.loads(script_words.group(1))["cash_on_board"] == words[1]


@pytest.mark.parametrize("path", PAGES)  # the page and its map alike
def test_not_signed_in_goes_to_sign_in(day: TestClient, path: str) -> None:
    """Without the session cookie the browser is sent to the sign-in page."""
    answer = day.get(path, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/app/sign-in"


@pytest.mark.parametrize("path", PAGES)  # the page and its map alike
def test_driver_cannot_open_another_crew(day: TestClient, key_for: KeyMaker, path: str) -> None:
    """A C01 driver naming C02 gets the 403 page, and nothing of C02's route."""
    sign_in(day, key_for("driver", "C01"))
    answer = day.get(path, params={"vehicle": "C02"})
    assert answer.status_code == 403
    assert "text/html" in answer.headers["content-type"]
    assert all(order not in answer.text for order in C02_ORDERS)


def test_map_shows_only_the_crew_and_local_leaflet(day: TestClient, key_for: KeyMaker) -> None:
    """The map has C01's numbered stops only, and loads Leaflet from this service."""
    sign_in(day, key_for("driver", "C01"))
    answer = day.get("/app/driver/map.html")
    assert answer.status_code == 200, answer.text
    page = answer.text
    assert "/static/leaflet/leaflet.js" in page and "/static/leaflet/leaflet.css" in page
    assert "cdn" not in page.lower()
    assert all(order in page for order in C01_ORDERS)
    assert all(order not in page for order in C02_ORDERS) and "C02" not in page
    assert [f"C01 #{n} " in page for n in (1, 2, 3, 4)] == [True, True, True, False]


@pytest.mark.parametrize(
    ("vehicle", "orders"),
    [
        ("C01", C01_ORDERS),  # the crew a driver key would also see
        ("C02", C02_ORDERS),  # and any other crew
    ],
)
def test_dispatcher_may_open_any_crew(
    day: TestClient, key_for: KeyMaker, vehicle: str, orders: list[str]
) -> None:
    """A dispatcher picks the crew with ?vehicle= and watches it read-only, map included."""
    sign_in(day, key_for("dispatcher"))
    page = day.get("/app/driver", params={"vehicle": vehicle})
    assert page.status_code == 200, page.text
    assert sorted(s["data-order"] for s in stops(page.text)) == orders
    assert not tags(page.text, "button", data_action="arrive")  # the handover API is the crew's
    assert 'id="cash-on-board"' in page.text
    assert day.get("/app/driver/map.html", params={"vehicle": vehicle}).status_code == 200


def test_dispatcher_without_a_crew_gets_a_choice(day: TestClient, key_for: KeyMaker) -> None:
    """With no ?vehicle= a dispatcher is offered the crews of the published day."""
    sign_in(day, key_for("dispatcher"))
    page = day.get("/app/driver").text
    links = [a["href"] for a in tags(page, "a") if "crew-link" in a.get("class", "")]
    assert links == [f"/app/driver?date={DAY}&vehicle={code}" for code in ("C01", "C02")]


@pytest.mark.parametrize(
    ("events", "state", "shown"),
    [
        # at the door: counts default to the planned quantities
        ([Kind.ARRIVED], "arrived", ['data-action="deliver"', 'data-sku="PIL-1"', 'value="2"']),
        # counted: the customer signs on the pad, named in the input
        (
            [Kind.ARRIVED, Kind.DELIVERED],
            "delivered",
            ['<canvas class="signature"', 'name="signer_name"', 'data-action="signoff"'],
        ),
        # signed: nothing left to do
        ([Kind.ARRIVED, Kind.DELIVERED, Kind.SIGNED_OFF], "signed", ["已签收"]),
        # failed at the door, with what became of the goods
        ([Kind.ARRIVED, Kind.FAILED], "failed", ["客户拒收", "带回仓库"]),
    ],
)
def test_stop_state_follows_the_records(
    day: TestClient, key_for: KeyMaker, events: list[Kind], state: str, shown: list[str]
) -> None:
    """Once a stop's records are stored, its card shows the state and the next step."""
    payloads: dict[Kind, dict[str, Any]] = {
        Kind.DELIVERED: {"counts": SO_01_DELIVERED, "complete": True},
        Kind.FAILED: {"reason": "refused", "outcome": "back_to_warehouse"},
    }
    for kind in events:
        record(day, kind, "SO-01", **payloads.get(kind, {}))
    sign_in(day, key_for("driver", "C01"))
    page = day.get("/app/driver").text
    states = {s["data-order"]: s["data-state"] for s in stops(page)}
    assert states == {"SO-01": state, "SO-02": "planned", "SO-03": "planned"}
    card = stop_html(page, "SO-01")
    assert all(text in card for text in shown), card
    if state == "delivered":
        (so_01,) = [s for s in stops(page) if s["data-order"] == "SO-01"]
        assert json.loads(so_01["data-counts"]) == [
            {"sku": "SOFA-3", "quantity": 1},
            {"sku": "PIL-1", "quantity": 2},
        ]


def test_collection_shows_in_the_cash_bar(day: TestClient, key_for: KeyMaker) -> None:
    """Cash collected at SO-03 is on board: the bar and the stop say so, the rest is due."""
    driver = key_for("driver", "C01")
    record(day, Kind.ARRIVED, "SO-03")
    headers = {**driver, "Idempotency-Key": uuid.uuid4().hex}
    taken = day.post(f"/cash/{DAY}/collections", json=collection("SO-03", 1500), headers=headers)
    assert taken.status_code == 201, taken.text
    sign_in(day, driver)
    page = day.get("/app/driver").text
    assert cash_text(page) == "¥1,500.00 / ¥50,000.00"
    (amount,) = tags(page, "input", name="amount_cny")
    assert amount["value"] == "2500.00"  # what is still due at SO-03
    on_board = day.get(f"/cash/{DAY}/on-board/C01").json()  # what the script re-reads
    assert on_board["cash_on_board_cny"] == 1500 and on_board["cap_cny"] == 50_000


def test_the_page_posts_what_the_api_accepts(day: TestClient, key_for: KeyMaker) -> None:
    """Depart, arrive, count and sign with the paths and values the page carries: all stored."""
    driver = load_for_c01(day, key_for)
    sign_in(day, driver)
    page = day.get("/app/driver").text
    (root,) = tags(page, "div", id="driver")
    base = f"/handover/{root['data-date']}"
    place = {"at": AT, **GPS}
    assert post(day, f"{base}/routes/{root['data-vehicle']}/depart", place, driver) == 201
    page = day.get("/app/driver").text
    assert tags(page, "section", id="route-head", data_departed="true")
    assert not tags(page, "button", data_action="depart")
    assert post(day, f"{base}/stops/SO-01/arrive", place, driver) == 201
    inputs = tags(day.get("/app/driver").text, "input", name="count")
    counts = [{"sku": i["data-sku"], "quantity": int(i["value"])} for i in inputs]
    assert post(day, f"{base}/stops/SO-01/deliver", {**place, "counts": counts}, driver) == 201
    (card,) = tags(day.get("/app/driver").text, "li", data_order="SO-01")
    sign = {
        **place,
        "signer_name": "张三",
        "signature_png": PNG,
        "counts": json.loads(card["data-counts"]),
        "amount_cny": float(card["data-collected-cny"]),
    }
    assert post(day, f"{base}/stops/SO-01/signoff", sign, driver) == 201
    (card,) = tags(day.get("/app/driver").text, "li", data_order="SO-01")
    assert card["data-state"] == "signed"


def post(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> int:
    """Status of a write sent as common.js sends it: JSON with a fresh Idempotency-Key."""
    answer = client.post(path, json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code < 300, answer.text
    return answer.status_code


def load_for_c01(client: TestClient, key_for: KeyMaker) -> dict[str, str]:
    """C01 counted in full by the warehouse and signed by its leader; the driver's headers."""
    driver = key_for("driver", "C01")
    counts = [
        {"order": order, "sku": sku, "quantity": quantity}
        for order in C01_ORDERS
        for sku, _, quantity, _, _ in ORDERS[order][3]
    ]
    loading = f"/handover/{DAY}/loading/C01"
    count = {"keeper_name": "王库管", "at": AT, "counts": counts}
    post(client, f"{loading}/count", count, key_for("warehouse"))
    post(client, f"{loading}/sign", {"crew_leader_name": "张伟", "at": AT}, driver)
    return driver


def test_the_page_reads_the_day_in_a_fixed_number_of_queries(
    day: TestClient, key_for: KeyMaker
) -> None:
    """Stops in every state cost no query each: a 100-stop day reads as fast as a 3-stop one."""
    record(day, Kind.ARRIVED, "SO-01")
    record(day, Kind.DELIVERED, "SO-01", counts=SO_01_DELIVERED, complete=True)
    record(day, Kind.ARRIVED, "SO-02")
    sign_in(day, key_for("driver", "C01"))
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = engine_of(day)
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert day.get("/app/driver").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= QUERY_BUDGET, "\n".join(statements)
