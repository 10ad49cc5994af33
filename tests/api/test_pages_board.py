"""The dispatcher's board page: the date's plan, its timeline, loose ends and the controls."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import play_the_day, published_day
from plan_helpers import (
    CREWS,
    DAY,
    NOW,
    ZONE,
    app_at,
    build_stored_plan,
    engine_of,
    if_match,
    seed_day,
    store_plan,
)
from prepared import ADMIN, Prepared, prepared_for, service_settings
from sqlalchemy import event
from sqlmodel import Session, col, select

from api.core.config import ServiceSettings
from api.orders.models import Order, Slot
from api.pages.board_kpis import KPI_WORDS
from api.pages.board_view import WORDS
from api.plans.models import Plan, PlanRoute, PlanStop
from optimizer.result import ReasonCode

TOMORROW = (NOW + dt.timedelta(days=1)).date()
REASON = "customer asked us to call first"


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parents: tuple[Element, ...]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class Page(HTMLParser):
    """Just enough of a DOM to find elements by tag, id, class and attributes."""

    VOID = {"input", "meta", "link", "br", "img", "hr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, tuple(self._open))
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def find(self, tag: str = "", *, within: Element | None = None, **attrs: str) -> list[Element]:
        """Elements of `tag` with these attributes (class_ names one class), inside `within`."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        css = wanted.pop("class", None)
        return [
            e
            for e in self.elements
            if (not tag or e.tag == tag)
            and (css is None or css in e.classes())
            and all(e.attrs.get(name) == value for name, value in wanted.items())
            and (within is None or any(p is within for p in e.parents))
        ]

    def one(self, tag: str = "", **attrs: str) -> Element:
        (found,) = self.find(tag, within=None, **attrs)
        return found


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """The service as of the seeded morning, so DAY is bookable and tomorrow is 11-25."""
    with app_at(settings) as test_client:
        yield test_client


def _build_board_plan(url: str) -> dict[str, Any]:
    """The seeded day planned, then SO-05 taken off by hand (version 2); the plan's id."""
    plan = build_stored_plan(url)["plan_id"]
    with app_at(service_settings(url)) as client:
        body = {"order": "SO-05", "reason": REASON}
        taken = client.post(f"/plans/{plan}/unassign", json=body, headers={**ADMIN, **if_match(1)})
        assert taken.status_code == 200, taken.text
    return {"plan_id": plan}


prepared_database = prepared_for("plan_id", "board_plan", _build_board_plan)


@pytest.fixture
def plan_id(prepared_database: Prepared) -> int:
    """The seeded day planned, then SO-05 taken off by hand (version 2)."""
    return int(prepared_database.extras["plan_id"])


def sign_in(client: TestClient, headers: dict[str, str]) -> None:
    key = headers["Authorization"].removeprefix("Bearer ")
    assert client.post("/session", json={"key": key}).status_code == 200


@pytest.fixture
def dispatcher(client: TestClient, key_for: KeyMaker) -> TestClient:
    """The client signed in as a dispatcher (the cookie authenticates pages and API calls)."""
    sign_in(client, key_for("dispatcher"))
    return client


def board(client: TestClient, **params: Any) -> Page:
    answer = client.get("/app/board", params=params)
    assert answer.status_code == 200, answer.text
    return Page(answer.text)


def test_board_shows_crews_timeline_and_unassigned(dispatcher: TestClient, plan_id: int) -> None:
    """Each crew's row has a travel and a service bar per stop, timed as stored; SO-05 is loose."""
    page = board(dispatcher, date=DAY.isoformat())
    timeline = page.one("div", class_="timeline")
    rows = {row.attrs["data-vehicle"]: row for row in page.find(class_="crew", within=timeline)}
    assert sorted(rows) == ["C01", "C02"]
    with Session(engine_of(dispatcher)) as session:
        query = select(PlanStop, Order).join(Order, col(PlanStop.order_id) == col(Order.id))
        stored = {
            o.external_id: s for s, o in session.exec(query.where(PlanStop.plan_id == plan_id))
        }
    assert sorted(stored) == sorted(set(CREWS) - {"SO-05"})
    for order, stop in stored.items():
        row = rows[stop.vehicle_code]
        (service,) = page.find(class_="bar", within=row, data_kind="service", data_order=order)
        assert (int(service.attrs["data-start"]), int(service.attrs["data-end"])) == (
            stop.start,
            stop.departure,
        )
        assert page.find(class_="bar", within=row, data_kind="travel", data_order=order)
    (loose,) = page.find("li", within=page.one(id="unassigned"))
    assert loose.attrs["data-order"] == "SO-05"
    assert REASON in loose.text and WORDS["zh"]["reason_dispatcher"] in loose.text
    assert "draft" in page.one(id="plan-status").text
    assert page.one(id="plan-version").text == "2"
    assert page.one(id="kpi-visits").text == "5 / 6"
    assert page.one("iframe", class_="map").attrs["src"] == f"/plans/{plan_id}/map.html"


def test_timeline_hours_and_slots_come_from_the_settings(
    settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """An afternoon slot ending at 20:00 stretches the drawn day and its band to 20:00."""
    late = settings.model_copy(update={"afternoon_end": dt.time(20, 0)})
    with app_at(late) as client:
        seed_day(client, admin)
        store_plan(client)
        sign_in(client, admin)  # admins may open the board too
        page = board(client, date=DAY.isoformat())
    timeline = page.one("div", class_="timeline")
    start, end = int(timeline.attrs["data-start"]), int(timeline.attrs["data-end"])
    assert (start, end) == (7 * 3600, 20 * 3600)  # the trucks' 7:30 shift start, rounded down
    afternoon = page.find(class_="slot-afternoon", within=timeline)[0]
    begin = (13 * 3600 - start) / (end - start) * 100
    assert afternoon.attrs["style"] == f"left: {round(begin, 3)}%; width: {round(100 - begin, 3)}%"


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ({}, TOMORROW),  # no date: tomorrow by the service clock
        ({"date": DAY.isoformat()}, DAY),  # the picker's choice
        ({"date": "27/11/2026"}, TOMORROW),  # not a date: tomorrow, with a note
    ],
)
def test_date_picker(dispatcher: TestClient, params: dict[str, str], shown: dt.date) -> None:
    """The #date input holds the date shown; a bad date falls back to tomorrow and says so."""
    page = board(dispatcher, **params)
    date = page.one("input", id="date")
    assert (date.attrs["type"], date.attrs["value"]) == ("date", shown.isoformat())
    assert bool(page.find(id="bad-date")) == (params.get("date") == "27/11/2026")


def test_english_switch(dispatcher: TestClient, plan_id: int) -> None:
    """Chinese by default; ?lang=en switches the board's words, remembered after."""
    chinese = dispatcher.get("/app/board", params={"date": DAY.isoformat()}).text
    assert '<html lang="zh-CN">' in chinese and WORDS["zh"]["board"] in chinese
    english = board(dispatcher, date=DAY.isoformat(), lang="en")
    assert english.one("html").attrs["lang"] == "en"
    assert english.one(id="plan-status").text.strip() == "draft"
    assert english.one(id="publish-button").text == "Publish"
    assert WORDS["en"]["board"] in dispatcher.get("/app/board").text


def test_words_exist_in_both_languages() -> None:
    """Every word has both languages, and every unassigned reason code has a label."""
    assert set(WORDS["zh"]) == set(WORDS["en"])
    assert {f"reason_{code.value}" for code in ReasonCode} <= set(WORDS["en"])


def test_driver_gets_403_and_strangers_sign_in(client: TestClient, key_for: KeyMaker) -> None:
    """A signed-in driver sees a 403 page; nobody signed in is sent to the sign-in page."""
    stranger = client.get("/app/board", follow_redirects=False)
    assert (stranger.status_code, stranger.headers["location"]) == (303, "/app/sign-in")
    sign_in(client, key_for("driver", "C01"))
    refused = client.get("/app/board")
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]


def test_no_plan_shows_the_empty_state_with_the_plan_button(dispatcher: TestClient) -> None:
    """A date without a plan says so and offers planning, with the default time limit."""
    page = board(dispatcher, date=DAY.isoformat())
    assert page.find(id="empty")
    assert "disabled" not in page.one("button", id="plan-button").attrs
    assert page.one("input", id="plan-seconds").attrs["value"] == "60"
    assert page.one("progress", id="progress") and page.find(id="progress-text")
    assert not page.find("iframe") and not page.find(id="publish-button")


def test_a_past_date_cannot_be_planned(dispatcher: TestClient) -> None:
    """Before today the plan button is off and the page says why."""
    page = board(dispatcher, date=(NOW.date() - dt.timedelta(days=1)).isoformat())
    assert "disabled" in page.one("button", id="plan-button").attrs
    assert page.find(id="past-date")


def test_links_to_sheet_and_picking_lists(dispatcher: TestClient, plan_id: int) -> None:
    """The board links the plan's dispatch sheet and picking lists, which the cookie opens."""
    page = board(dispatcher, date=DAY.isoformat())
    links = [page.one("a", id="dispatch-sheet-link"), page.one("a", id="picking-lists-link")]
    assert [link.attrs["href"] for link in links] == [
        f"/plans/{plan_id}/dispatch-sheet.html",
        f"/plans/{plan_id}/picking-lists.html",
    ]
    for link in links:
        assert dispatcher.get(link.attrs["href"]).status_code == 200


def test_move_form_offers_every_visit_and_crew(dispatcher: TestClient, plan_id: int) -> None:
    """The move form lists every visit of the plan with its crew, and the day's crews."""
    page = board(dispatcher, date=DAY.isoformat())
    orders = page.find("option", within=page.one("select", id="move-order"))
    expected = {**CREWS, "SO-05": ""}
    assert {o.attrs["value"]: o.attrs["data-vehicle"] for o in orders} == expected
    crews = page.find("option", within=page.one("select", id="move-to"))
    assert [o.attrs["value"] for o in crews] == ["C01", "C02"]
    assert page.one("button", id="move-button").attrs["type"] == "submit"


def script_data(page: Page) -> dict[str, Any]:
    """What board.js reads: the date, the plan, its version and the words."""
    data: dict[str, Any] = json.loads(page.one("script", id="board-data").text)
    return data


def test_a_move_made_the_way_the_script_does(dispatcher: TestClient, plan_id: int) -> None:
    """The page's plan and version, the cookie and If-Match move SO-05 back onto C02."""
    data = script_data(board(dispatcher, date=DAY.isoformat()))
    assert (data["date"], data["plan"], data["version"]) == (DAY.isoformat(), plan_id, 2)
    moved = dispatcher.post(
        f"/plans/{data['plan']}/moves",
        json={"order": "SO-05", "vehicle_code": "C02", "override_reason": ""},
        headers=if_match(data["version"]),
    )
    assert moved.status_code == 200, moved.text
    page = board(dispatcher, plan=str(plan_id))
    c02 = page.one("div", class_="crew", data_vehicle="C02")
    assert page.find(class_="bar", within=c02, data_kind="service", data_order="SO-05")
    assert page.one(id="plan-version").text == "3"
    assert page.find(id="all-assigned") and not page.find("li", within=page.one(id="unassigned"))


def test_publishing_the_way_the_script_does(dispatcher: TestClient, plan_id: int) -> None:
    """Published with the page's version: the status says so, publishing is off, moves need why."""
    data = script_data(board(dispatcher, date=DAY.isoformat()))
    answer = dispatcher.post(f"/plans/{data['plan']}/publish", headers=if_match(data["version"]))
    assert answer.status_code == 200, answer.text
    page = board(dispatcher, plan=str(plan_id))
    assert "published" in page.one(id="plan-status").text
    assert page.one(id="plan-version").text == "3"
    assert "disabled" in page.one("button", id="publish-button").attrs
    assert "required" in page.one("input", id="move-reason").attrs


def test_plan_parameter_wins_over_the_date(dispatcher: TestClient, plan_id: int) -> None:
    """?plan= shows that plan on its own date; an unknown plan is a 404 page."""
    page = board(dispatcher, plan=str(plan_id), date=TOMORROW.isoformat())
    assert page.one("input", id="date").attrs["value"] == DAY.isoformat()
    assert f"#{plan_id}" in page.one(id="plan-info").text
    missing = dispatcher.get("/app/board", params={"plan": "999999"})
    assert missing.status_code == 404 and "plan 999999" in missing.text


def big_plan(client: TestClient, stops: int) -> int:
    """A stored plan of `stops` made-up stops on C01 and C02 (no solving: only reading counts)."""
    with Session(engine_of(client)) as session:
        plan = Plan(
            area_code="main", date=DAY, kpis={"visits_total": stops, "visits_routed": stops}
        )
        session.add(plan)
        session.flush()
        assert plan.id is not None
        for n in range(stops):
            order = Order(
                area_code="main",
                external_id=f"BIG-{n:04d}",
                customer=f"客户{n}",
                phone="13800138000",
                address=f"地址{n}",
                lat=30.6,
                lon=104.0,
                date=DAY,
                slot=Slot.MORNING,
                payload_hash="-",
            )
            session.add(order)
            session.flush()
            assert order.id is not None
            vehicle, position = ("C01", "C02")[n % 2], n // 2 + 1
            at = 8 * 3600 + position * 60
            session.add(
                PlanStop(
                    plan_id=plan.id,
                    vehicle_code=vehicle,
                    position=position,
                    order_id=order.id,
                    arrival=at,
                    start=at,
                    departure=at + 50,
                    weight_on_board_g=0,
                    volume_on_board_cm3=0,
                    cash_on_board_fen=0,
                    distance_from_previous_m=100,
                )
            )
        for vehicle in ("C01", "C02"):
            session.add(
                PlanRoute(
                    plan_id=plan.id,
                    vehicle_code=vehicle,
                    departure=8 * 3600,
                    return_time=12 * 3600,
                    distance_m=1000,
                )
            )
        session.commit()
        return plan.id


def test_the_board_reads_in_batches(dispatcher: TestClient, plan_id: int) -> None:
    """A plan of 300 stops takes no more queries to show than one of five."""
    big = big_plan(dispatcher, 300)
    statements: list[str] = []

    def count(*args: Any) -> None:
        # The planning worker polls the same engine from its own threads; only pages count.
        if not threading.current_thread().name.startswith("plan-"):
            statements.append(args[2])

    engine = engine_of(dispatcher)
    event.listen(engine, "before_cursor_execute", count)
    try:
        small_page = board(dispatcher, plan=str(plan_id))
        small = len(statements)
        big_page = board(dispatcher, plan=str(big))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) - small <= small, statements
    assert len(small_page.find(class_="bar", data_kind="service")) == 5
    assert len(big_page.find(class_="bar", data_kind="service")) == 300


@pytest.fixture
def played(
    settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> Iterator[TestClient]:
    """The seeded day published and played, a ticket answered at once; a dispatcher on it."""
    for client in published_day(settings, admin):
        play_the_day(client, key_for)
        boss = key_for("dispatcher")
        ticket = {"external_id": "TK-board", "category": "repair", "description": "漏水"}
        opened = client.post("/tickets", json=ticket, headers=boss).json()
        assert client.post(f"/tickets/{opened['id']}/answer", headers=boss).status_code == 200
        sign_in(client, boss)
        yield client


def figure(page: Page, key: str) -> tuple[str, str, tuple[int, int]]:
    """A panel figure: its value, its basis text and its counts."""
    element = page.one(id=f"kpi-{key}")
    (value,) = page.find("strong", within=element)
    (basis,) = page.find(class_="basis", within=element)
    counts = (int(element.attrs["data-numerator"]), int(element.attrs["data-denominator"]))
    return value.text, basis.text, counts


def test_kpi_panel_shows_the_days_figures(played: TestClient) -> None:
    """The panel of the played day: the /kpis totals as shares with their counts."""
    page = board(played, date=DAY.isoformat())
    panel = page.one("section", id="kpi-panel")
    assert (panel.attrs["data-from"], panel.attrs["data-to"]) == (DAY.isoformat(),) * 2
    api = played.get("/kpis", params={"from": DAY.isoformat(), "to": DAY.isoformat()}).json()
    total = api["total"]
    assert figure(page, "on-time-morning") == ("33%", "1 / 3", (1, 3))
    assert figure(page, "on-time-afternoon") == ("50%", "1 / 2", (1, 2))
    assert figure(page, "delivery-success") == ("40%", "2 / 5", (2, 5))
    assert figure(page, "answered-in-time") == ("100%", "1 / 1", (1, 1))
    rates = {"on-time-morning": "on_time_morning", "delivery-success": "delivery_success"}
    for key, name in rates.items():
        assert figure(page, key)[2] == (total[name]["numerator"], total[name]["denominator"])
    installs, satisfaction = figure(page, "installs"), figure(page, "satisfaction")
    assert installs == ("—", KPI_WORDS["zh"]["kpi_none"], (0, 0))  # no install visits
    assert satisfaction == ("—", f"0 {KPI_WORDS['zh']['kpi_reports']}", (0, 0))
    assert "≤ 12 " in page.one(id="kpi-answered-in-time").text  # the 12-hour clock is named


@pytest.mark.parametrize(
    ("shown", "days", "counted"),
    [
        # the day after: nothing played on it
        (DAY + dt.timedelta(days=1), 1, (0, 0)),
        # the week up to the day after takes the played day in
        (DAY + dt.timedelta(days=1), 7, (2, 5)),
        # the week up to the day before ends before it
        (DAY - dt.timedelta(days=1), 7, (0, 0)),
    ],
)
def test_kpi_panel_range(
    played: TestClient, shown: dt.date, days: int, counted: tuple[int, int]
) -> None:
    """One day or the seven up to the board's date; the chosen range is marked and kept."""
    page = board(played, date=shown.isoformat(), kpi_days=str(days))
    panel = page.one("section", id="kpi-panel")
    start = shown - dt.timedelta(days=days - 1)
    assert (panel.attrs["data-from"], panel.attrs["data-to"]) == (
        start.isoformat(),
        shown.isoformat(),
    )
    assert figure(page, "delivery-success")[2] == counted
    assert "aria-current" in page.one("a", id=f"kpi-days-{days}").attrs
    week = page.one("a", id="kpi-days-7").attrs["href"]
    assert f"date={shown.isoformat()}" in week and "kpi_days=7" in week
    assert script_data(page)["kpi_days"] == days


def test_kpi_panel_in_english(played: TestClient) -> None:
    """The panel's words switch with the page; every one exists in both languages."""
    assert set(KPI_WORDS["zh"]) == set(KPI_WORDS["en"])
    page = board(played, date=DAY.isoformat(), lang="en")
    assert KPI_WORDS["en"]["kpi_title"] in page.one(id="kpi-panel").text
    assert KPI_WORDS["en"]["kpi_delivery_success"] in page.one(id="kpi-delivery-success").text


@pytest.mark.parametrize(
    ("clock", "notice"),
    [
        (NOW, False),  # published days ahead: nothing to say
        (
            dt.datetime.combine(DAY - dt.timedelta(days=1), dt.time(18, 5), ZONE),
            True,
        ),  # 65 min late
    ],
)
def test_a_plan_published_late_says_so_on_the_board(
    dispatcher: TestClient,
    settings: ServiceSettings,
    admin: dict[str, str],
    plan_id: int,
    clock: dt.datetime,
    notice: bool,
) -> None:
    """The board tells the dispatcher a plan went out after the cut-off, and by how much."""
    with app_at(settings, clock) as publisher:
        answer = publisher.post(f"/plans/{plan_id}/publish", headers={**admin, **if_match(2)})
        assert answer.status_code == 200, answer.text
    shown = board(dispatcher, plan=str(plan_id)).find(id="published-late")
    assert bool(shown) is notice
    assert all("65" in element.text and "17:00" in element.text for element in shown)
