"""Dispatcher edits: checked by the independent checker, versioned, recorded, then published."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from plan_helpers import (
    DAY,
    ZONE,
    app_at,
    build_stored_plan,
    engine_of,
    if_match,
    routes_of,
    snapshot,
    store_plan,
    violations,
)
from prepared import Prepared, prepared_for
from sqlmodel import Session, col, select

import api.plans.drafts
from api.core.config import ServiceSettings
from api.orders.models import Order, OrderStatus
from api.plans import edits
from api.plans.drafts import Editor
from api.plans.models import Plan, PlanStatus, PlanStop, PlanUnassigned


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """Replaces conftest's client (and so key_for's) with one whose clock stands at NOW."""
    with app_at(settings) as test_client:
        yield test_client


prepared_database = prepared_for("plan_id", "stored_plan", build_stored_plan)


@pytest.fixture
def plan_id(prepared_database: Prepared) -> int:
    """The seeded day solved and stored as a draft at version 1 (in the prepared database)."""
    return int(prepared_database.extras["plan_id"])


def post(
    client: TestClient,
    headers: dict[str, str],
    plan_id: int,
    path: str,
    version: int | None,
    **body: Any,
) -> Any:
    extra = if_match(version) if version is not None else {}
    return client.post(f"/plans/{plan_id}/{path}", json=body, headers={**headers, **extra})


def changes(client: TestClient, headers: dict[str, str], plan_id: int) -> list[dict[str, Any]]:
    answer = client.get(f"/plans/{plan_id}/changes", headers=headers)
    assert answer.status_code == 200, answer.text
    listed: list[dict[str, Any]] = answer.json()
    return listed


def stop_of(client: TestClient, plan_id: int, external_id: str) -> PlanStop | None:
    with Session(engine_of(client)) as session:
        query = (
            select(PlanStop)
            .join(Order, col(PlanStop.order_id) == col(Order.id))
            .where(PlanStop.plan_id == plan_id, Order.external_id == external_id)
        )
        return session.exec(query).first()


def test_move_to_another_crew_is_retimed(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """A visit moved onto another crew lands where asked and both routes are re-timed."""
    before = routes_of(client, plan_id)
    answer = post(client, admin, plan_id, "moves", 1, order="SO-04", vehicle_code="C01", position=1)
    assert answer.status_code == 200, answer.text
    assert answer.headers["etag"] == '"2"'
    body = answer.json()
    assert (body["plan_id"], body["version"], body["unassigned"]) == (plan_id, 2, [])
    assert body["routes"]["C01"] == ["SO-04", *before["C01"]]
    assert body["routes"]["C02"] == [v for v in before["C02"] if v != "SO-04"]
    assert routes_of(client, plan_id) == body["routes"]
    # The checker recomputes every stored time, load and distance from the new order of visits.
    assert violations(client, plan_id) == []
    moved = stop_of(client, plan_id, "SO-04")
    assert moved is not None and (moved.vehicle_code, moved.position) == ("C01", 1)
    assert moved.weight_on_board_g == (10 + 46 + 400 + 20) * 1000  # all of C01's goods
    [change] = changes(client, admin, plan_id)
    assert (change["kind"], change["version"], change["by"]) == ("move", 2, "bootstrap admin")
    assert change["detail"] == {"order": "SO-04", "from": "C02", "to": "C01", "position": 1}


@pytest.mark.parametrize(
    ("order", "rule", "words"),
    [
        # A morning visit after C02's afternoon stops arrives after its slot has closed.
        ("SO-01", "window", "after its slot ends at 12:00"),
        # Four 100 kg wardrobes do not fit C02's 300 kg.
        ("SO-02", "weight", "over its capacity of 300"),
        # ¥4,000 to collect breaks C02's ¥3,000 cash cap.
        ("SO-03", "cash", "over its cap of ¥3,000.00"),
    ],
)
def test_move_breaking_a_rule_is_409_and_changes_nothing(
    client: TestClient, admin: dict[str, str], plan_id: int, order: str, rule: str, words: str
) -> None:
    """A move the checker refuses is a 409 naming the rule; the plan stays as it was."""
    before = snapshot(client, plan_id)
    answer = post(client, admin, plan_id, "moves", 1, order=order, vehicle_code="C02")
    assert answer.status_code == 409, answer.text
    assert answer.json()["rule"] == rule
    assert words in answer.json()["detail"] and "C02" in answer.json()["detail"]
    assert snapshot(client, plan_id) == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        # An order that is not on the plan at all.
        ({"order": "SO-99", "vehicle_code": "C01"}, 404),
        # A position past the end of the route (C01 has three stops).
        ({"order": "SO-04", "vehicle_code": "C01", "position": 5}, 422),
        # A crew that does not exist is refused by the checker.
        ({"order": "SO-04", "vehicle_code": "C09"}, 409),
    ],
)
def test_impossible_moves_are_refused(
    client: TestClient, admin: dict[str, str], plan_id: int, body: dict[str, Any], status: int
) -> None:
    """Unknown orders, positions and crews are refused and nothing is stored."""
    before = snapshot(client, plan_id)
    answer = post(client, admin, plan_id, "moves", 1, **body)
    assert answer.status_code == status, answer.text
    assert snapshot(client, plan_id) == before


@pytest.mark.parametrize(
    "header",
    [
        None,  # no If-Match at all
        "*",  # any version: an edit must name the one it was made from
        '"two"',  # not a version number
    ],
)
def test_edit_without_a_version_is_428(
    client: TestClient, admin: dict[str, str], plan_id: int, header: str | None
) -> None:
    """Edits must say which version they were made from."""
    headers = admin if header is None else {**admin, "If-Match": header}
    answer = client.post(
        f"/plans/{plan_id}/pins", json={"order": "SO-01", "pinned": True}, headers=headers
    )
    assert answer.status_code == 428, answer.text
    assert answer.json()["error"] == "precondition_required"
    assert changes(client, admin, plan_id) == []


def test_stale_version_is_409_and_the_winner_is_kept(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """The second of two edits made from version 1 is refused; the first one stays."""
    first = post(client, admin, plan_id, "moves", 1, order="SO-04", vehicle_code="C01", position=1)
    assert first.status_code == 200, first.text
    second = post(client, admin, plan_id, "pins", 1, order="SO-01", pinned=True)
    assert second.status_code == 409
    assert second.json()["detail"] == "the plan changed (version 2); reload and retry"
    assert routes_of(client, plan_id) == first.json()["routes"]
    assert [c["kind"] for c in changes(client, admin, plan_id)] == ["move"]


def test_concurrent_edits_cannot_both_win(
    client: TestClient,
    admin: dict[str, str],
    plan_id: int,
    settings: ServiceSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An edit committed while another is being checked makes the other fail at its UPDATE."""
    check_routes = api.plans.drafts.check_routes
    raced: list[int] = []

    def check_and_race(*args: Any) -> Any:
        if not raced:
            raced.append(1)  # the rival runs in its own session, as another process would
            with Session(engine_of(client), expire_on_commit=False) as rival:
                pin = edits.PinRequest(order="SO-01", pinned=True)
                editor = Editor(by="rival", version=1, now=dt.datetime.now(dt.UTC))
                edits.set_pin(
                    session=rival, settings=settings, plan_id=plan_id, editor=editor, request=pin
                )
        return check_routes(*args)

    monkeypatch.setattr(api.plans.drafts, "check_routes", check_and_race)
    answer = post(client, admin, plan_id, "moves", 1, order="SO-04", vehicle_code="C01", position=1)
    assert answer.status_code == 409, answer.text
    assert answer.json()["detail"] == "the plan changed (version 2); reload and retry"
    assert [(c["kind"], c["by"]) for c in changes(client, admin, plan_id)] == [("pin", "rival")]
    pinned = stop_of(client, plan_id, "SO-01")
    assert pinned is not None and pinned.pinned
    assert "SO-04" in routes_of(client, plan_id)["C02"]


def test_pinned_stop_stays_on_its_crew_when_reoptimised(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """A visit moved and pinned to C01 is still there, still pinned, after re-optimising."""
    moved = post(client, admin, plan_id, "moves", 1, order="SO-04", vehicle_code="C01", position=1)
    assert moved.status_code == 200
    assert post(client, admin, plan_id, "pins", 2, order="SO-04", pinned=True).status_code == 200
    answer = post(client, admin, plan_id, "reoptimize", 3, time_limit_s=1, seed=3)
    assert answer.status_code == 200, answer.text
    assert answer.headers["etag"] == '"4"'
    assert "SO-04" in answer.json()["routes"]["C01"]
    stop = stop_of(client, plan_id, "SO-04")
    assert stop is not None and stop.vehicle_code == "C01" and stop.pinned
    assert violations(client, plan_id) == []
    kinds = [(c["kind"], c["version"]) for c in changes(client, admin, plan_id)]
    assert kinds == [("move", 2), ("pin", 3), ("reoptimize", 4)]
    assert changes(client, admin, plan_id)[-1]["detail"]["pins"] == {"SO-04": "C01"}
    with Session(engine_of(client)) as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None and (plan.seed, plan.time_limit_s) == (3, 1.0)


def test_moving_a_pinned_stop_to_another_crew_is_409(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """A pin holds against a hand move too: unpin first."""
    assert post(client, admin, plan_id, "pins", 1, order="SO-05", pinned=True).status_code == 200
    answer = post(client, admin, plan_id, "moves", 2, order="SO-05", vehicle_code="C01")
    assert (answer.status_code, answer.json()["rule"]) == (409, "pinned")


def test_unassign_records_the_reason(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """An unassigned visit leaves its route, with the dispatcher's reason stored and logged."""
    reason = "customer asked us to call first"
    answer = post(client, admin, plan_id, "unassign", 1, order="SO-05", reason=reason)
    assert answer.status_code == 200, answer.text
    assert answer.json()["unassigned"] == ["SO-05"]
    assert "SO-05" not in answer.json()["routes"]["C02"]
    with Session(engine_of(client)) as session:
        [row] = session.exec(select(PlanUnassigned).where(PlanUnassigned.plan_id == plan_id))
        assert (row.code, row.reason) == ("dispatcher", reason)
    [change] = changes(client, admin, plan_id)
    assert change["kind"] == "unassign"
    assert change["detail"] == {"order": "SO-05", "from": "C02", "reason": reason}
    assert violations(client, plan_id) == []


def test_reoptimising_keeps_a_hand_unassigned_visit_off(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """Re-optimising does not quietly put back what a dispatcher took off."""
    taken = post(client, admin, plan_id, "unassign", 1, order="SO-05", reason="call first")
    assert taken.status_code == 200
    answer = post(client, admin, plan_id, "reoptimize", 2, time_limit_s=1)
    assert answer.status_code == 200, answer.text
    assert answer.json()["unassigned"] == ["SO-05"]
    assert sorted(v for route in answer.json()["routes"].values() for v in route) == [
        "SO-01",
        "SO-02",
        "SO-03",
        "SO-04",
        "SO-06",
    ]


def test_cancelled_order_blocks_its_route_until_taken_off(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """A route still holding a cancelled order fails the checker until the order is unassigned."""
    cancel = client.post("/orders/SO-05/cancel", json={"reason": "bought elsewhere"}, headers=admin)
    assert cancel.status_code == 200, cancel.text
    reorder = post(
        client, admin, plan_id, "moves", 1, order="SO-04", vehicle_code="C02", position=1
    )
    assert (reorder.status_code, reorder.json()["rule"]) == (409, "unknown_visit")
    assert "SO-05" in reorder.json()["detail"]
    taken = post(client, admin, plan_id, "unassign", 1, order="SO-05", reason="cancelled")
    assert taken.status_code == 200, taken.text
    again = post(client, admin, plan_id, "moves", 2, order="SO-04", vehicle_code="C02", position=1)
    assert again.status_code == 200, again.text


def test_reoptimize_time_limit_is_capped(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """A synchronous re-solve may not hold the request for more than 30 s."""
    answer = post(client, admin, plan_id, "reoptimize", 1, time_limit_s=31)
    assert answer.status_code == 422


def order_status(client: TestClient, external_id: str) -> OrderStatus:
    with Session(engine_of(client)) as session:
        query = select(Order.status).where(Order.external_id == external_id)
        return OrderStatus(session.exec(query).one())


def test_published_plan_needs_an_override_reason(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """After publishing, an edit without a reason is 409; with one it is stored and logged."""
    published = post(client, admin, plan_id, "publish", 1)
    assert published.status_code == 200, published.text
    assert published.headers["etag"] == '"2"'
    assert order_status(client, "SO-05") is OrderStatus.PLANNED
    refused = post(client, admin, plan_id, "unassign", 2, order="SO-05", reason="call first")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "the plan is published; an override_reason is required"
    why = "customer phoned the store at 08:10"
    kept = post(
        client, admin, plan_id, "unassign", 2, order="SO-05", reason="call", override_reason=why
    )
    assert kept.status_code == 200, kept.text
    logged = changes(client, admin, plan_id)
    assert [(c["kind"], c["override_reason"]) for c in logged] == [
        ("publish", ""),
        ("unassign", why),
    ]
    # Off a published route, the order is waiting for a plan again.
    assert order_status(client, "SO-05") is OrderStatus.BOOKED


def test_publishing_freezes_and_supersedes_the_earlier_published_plan(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """A second published plan of the date retires the first, whose edits then fail."""
    assert post(client, admin, plan_id, "publish", 1).status_code == 200
    newer = store_plan(client)
    assert post(client, admin, newer, "publish", 1).status_code == 200
    with Session(engine_of(client)) as session:
        old, new = session.get(Plan, plan_id), session.get(Plan, newer)
        assert old is not None and new is not None
        assert (old.status, old.version) == (PlanStatus.SUPERSEDED, 3)
        assert (new.status, new.published_by) == (PlanStatus.PUBLISHED, "bootstrap admin")
        assert new.published_at is not None
        planned = session.exec(select(Order.status).where(Order.status == OrderStatus.PLANNED))
        assert len(list(planned)) == 6
    assert changes(client, admin, plan_id)[-1]["detail"] == {"superseded_by": newer}
    assert changes(client, admin, newer)[-1]["detail"] == {"superseded": [plan_id]}
    again = post(client, admin, plan_id, "pins", 3, order="SO-01", pinned=True, override_reason="x")
    assert again.status_code == 409 and "superseded" in again.json()["detail"]
    twice = post(client, admin, newer, "publish", 2)
    assert twice.status_code == 409 and "only a draft" in twice.json()["detail"]


@pytest.mark.parametrize(
    ("clock", "late"),
    [
        (dt.time(16, 59), 0),  # on the eve, a minute before the 17:00 cut-off
        (dt.time(17, 40), 40),  # on the eve, 40 minutes past it
    ],
)
def test_a_late_publish_goes_through_but_says_so(
    settings: ServiceSettings, admin: dict[str, str], plan_id: int, clock: dt.time, late: int
) -> None:
    """Past the cut-off a plan still publishes; the answer warns and the change log keeps it."""
    eve = dt.datetime.combine(DAY - dt.timedelta(days=1), clock, ZONE)
    with app_at(settings, eve) as on_the_eve:
        answer = post(on_the_eve, admin, plan_id, "publish", 1)
        assert answer.status_code == 200, answer.text
        [*_, published] = changes(on_the_eve, admin, plan_id)
    warnings = answer.json()["warnings"]
    assert len(warnings) == (1 if late else 0)
    assert all(f"{late} min after the 17:00 cut-off" in warning for warning in warnings)
    assert published["kind"] == "publish"
    assert published["detail"].get("late_minutes", 0) == late
