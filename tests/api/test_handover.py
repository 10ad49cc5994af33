"""Loading handover, stop events and sign-offs: the order the server enforces, and the chain."""

from __future__ import annotations

import base64
import datetime as dt
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import AT, GPS, PNG, on_the_day, published_day_database
from plan_helpers import CREWS, DAY, ORDERS, engine_of
from sqlalchemy import text
from sqlmodel import Session, col, select

from api.auth.models import Role
from api.auth.service import Principal
from api.core.config import ServiceSettings
from api.orders.models import Order, OrderStatus
from api.plans.model_input import planning_input
from api.records.kinds import Kind
from api.records.models import Attachment, LedgerEntry
from api.records.service import NewEntry, append
from optimizer.data import VisitKind
from optimizer.params import SolveParams
from optimizer.solve import solve

C01_STOPS = sorted(o for o, v in CREWS.items() if v == "C01")  # SO-01, SO-02, SO-03


prepared_database = published_day_database


@pytest.fixture
def day(settings: ServiceSettings) -> Iterator[TestClient]:
    """The seeded day planned and published three days ahead; the service as of its morning."""
    yield from on_the_day(settings)


def post(
    client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str], key: str = ""
) -> Any:
    headers = {**headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return client.post(f"/handover/{DAY.isoformat()}{path}", json=body, headers=headers)


def full_count() -> list[dict[str, Any]]:
    return [
        {"order": order, "sku": sku, "quantity": quantity}
        for order in C01_STOPS
        for sku, _, quantity, _, _ in ORDERS[order][3]
    ]


def load_and_leave(client: TestClient, key_for: KeyMaker) -> dict[str, str]:
    """C01 counted in full, signed and on the road; returns the C01 driver's headers."""
    driver = key_for("driver", "C01")
    count = {"keeper_name": "王库管", "at": AT, "counts": full_count()}
    assert post(client, "/loading/C01/count", count, key_for("warehouse")).status_code == 201
    sign = {"crew_leader_name": "张伟", "at": AT}
    assert post(client, "/loading/C01/sign", sign, driver).status_code == 201
    assert post(client, "/routes/C01/depart", {"at": AT, **GPS}, driver).status_code == 201
    return driver


def test_count_that_differs_blocks_departure_until_reconciled(
    day: TestClient, key_for: KeyMaker
) -> None:
    """One wardrobe short: departure is refused, then allowed once two people reconcile."""
    driver, keeper = key_for("driver", "C01"), key_for("warehouse")
    counts = full_count()
    wardrobes = next(c for c in counts if c["sku"] == "WARD-2")
    wardrobes["quantity"] -= 1
    assert (
        post(
            day, "/loading/C01/count", {"keeper_name": "王库管", "at": AT, "counts": counts}, keeper
        ).status_code
        == 201
    )
    assert (
        post(day, "/loading/C01/sign", {"crew_leader_name": "张伟", "at": AT}, driver).status_code
        == 201
    )
    blocked = post(day, "/routes/C01/depart", {"at": AT, **GPS}, driver)
    assert blocked.status_code == 422
    assert (
        blocked.json()["rule"] == "loading_handover"
        and "WARD-2: 3 of 4" in blocked.json()["detail"]
    )
    status = day.get(f"/handover/{DAY}/loading/C01", headers=driver).json()
    assert not status["may_depart"] and [d["sku"] for d in status["differences"]] == ["WARD-2"]
    reconcile = {
        "agreed_by": ["王库管", "张伟"],
        "note": "one wardrobe short, sent tomorrow",
        "at": AT,
    }
    assert post(day, "/loading/C01/reconcile", reconcile, keeper).status_code == 201
    assert post(day, "/routes/C01/depart", {"at": AT, **GPS}, driver).status_code == 201


def test_departure_needs_the_crew_signature(day: TestClient, key_for: KeyMaker) -> None:
    """A full count not yet signed by the crew leader still blocks departure."""
    driver = key_for("driver", "C01")
    body = {"keeper_name": "王库管", "at": AT, "counts": full_count()}
    assert post(day, "/loading/C01/count", body, key_for("warehouse")).status_code == 201
    blocked = post(day, "/routes/C01/depart", {"at": AT, **GPS}, driver)
    assert blocked.status_code == 422 and "not signed" in blocked.json()["detail"]


@pytest.mark.parametrize(
    ("steps", "rule"),
    [
        # on the road but not yet at the door
        ([], "arrival_first"),
        # at the door, goods not yet counted
        (["arrive"], "counts_first"),
    ],
)
def test_sign_off_only_after_arrival_and_counts(
    day: TestClient, key_for: KeyMaker, steps: list[str], rule: str
) -> None:
    """The customer cannot sign before the crew arrives and records the counts."""
    driver = load_and_leave(day, key_for)
    for step in steps:
        assert post(day, f"/stops/SO-01/{step}", {"at": AT, **GPS}, driver).status_code == 201
    sign = {
        "at": AT,
        **GPS,
        "signer_name": "张三",
        "signature_png": PNG,
        "amount_cny": 0,
        "counts": [{"sku": "SOFA-3", "quantity": 1}, {"sku": "PIL-1", "quantity": 2}],
    }
    refused = post(day, "/stops/SO-01/signoff", sign, driver)
    assert refused.status_code == 422 and refused.json()["rule"] == rule
    with Session(engine_of(day)) as session:
        assert not session.exec(
            select(LedgerEntry).where(LedgerEntry.kind == Kind.SIGNED_OFF)
        ).all()


def test_full_stop_is_signed_and_never_edited(day: TestClient, key_for: KeyMaker) -> None:
    """Arrive, count, sign: the order is delivered; the sign-off cannot be changed or deleted."""
    driver = load_and_leave(day, key_for)
    assert post(day, "/stops/SO-01/arrive", {"at": AT, **GPS}, driver).status_code == 201
    counts = [{"sku": "SOFA-3", "quantity": 1}, {"sku": "PIL-1", "quantity": 2}]
    assert (
        post(day, "/stops/SO-01/deliver", {"at": AT, **GPS, "counts": counts}, driver).status_code
        == 201
    )
    sign = {
        "at": AT,
        **GPS,
        "signer_name": "张三",
        "signature_png": PNG,
        "amount_cny": 0,
        "counts": counts,
    }
    signed = post(day, "/stops/SO-01/signoff", sign, driver)
    assert signed.status_code == 201, signed.text
    entry = signed.json()
    image = day.get(f"/handover/attachments/{entry['payload']['signature_sha256']}", headers=driver)
    assert image.content.startswith(b"\x89PNG")
    with Session(engine_of(day)) as session:
        order = session.exec(select(Order).where(Order.external_id == "SO-01")).one()
        assert order.status is OrderStatus.DELIVERED
    correction = post(
        day,
        f"/records/{entry['id']}/corrections",
        {"reason": "typo", "changes": {"signer_name": "张四"}},
        driver,
    )
    assert correction.status_code == 422 and correction.json()["rule"] == "append_only"
    assert day.delete(f"/handover/records/{entry['id']}", headers=driver).status_code in (404, 405)


def test_signed_counts_must_match_the_delivery(day: TestClient, key_for: KeyMaker) -> None:
    """A sign-off confirming more than was handed over is refused, naming the counts."""
    driver = load_and_leave(day, key_for)
    post(day, "/stops/SO-02/arrive", {"at": AT, **GPS}, driver)
    handed = [{"sku": "WARD-2", "quantity": 3}]
    assert (
        post(day, "/stops/SO-02/deliver", {"at": AT, **GPS, "counts": handed}, driver).status_code
        == 201
    )
    sign = {
        "at": AT,
        **GPS,
        "signer_name": "李四",
        "signature_png": PNG,
        "amount_cny": 0,
        "counts": [{"sku": "WARD-2", "quantity": 4}],
    }
    refused = post(day, "/stops/SO-02/signoff", sign, driver)
    assert refused.status_code == 422 and refused.json()["field"] == "counts"


def test_failed_delivery_comes_back_in_the_next_plan(day: TestClient, key_for: KeyMaker) -> None:
    """Customer absent: the order is planned again on the next plannable day, priority up."""
    driver = load_and_leave(day, key_for)
    failure = {"at": AT, **GPS, "reason": "customer_absent", "outcome": "back_to_warehouse"}
    answer = post(day, "/stops/SO-03/fail", failure, driver)
    assert answer.status_code == 201, answer.text
    again = dt.date.fromisoformat(answer.json()["payload"]["replanned_for"])
    assert again == DAY + dt.timedelta(days=1)  # failed at 09:00, before the 15:00 run
    settings = day.app.state.settings  # type: ignore[attr-defined]
    with Session(engine_of(day)) as session:
        order = session.exec(select(Order).where(Order.external_id == "SO-03")).one()
        assert (order.status, order.date, order.priority) == (OrderStatus.FAILED, again, 2)
        tomorrow = planning_input(session=session, date=again, settings=settings)
    result = solve(tomorrow.data, SolveParams(time_limit_s=2, solution_limit=20))
    routed = [stop.visit_id for route in result.routes for stop in route.stops]
    assert result.ok and len(routed) == 1
    assert list(tomorrow.orders) == ["SO-03"]
    assert [v.priority for v in tomorrow.data.visits] == [2]


def test_partial_delivery_plans_the_rest(day: TestClient, key_for: KeyMaker) -> None:
    """Three of four wardrobes handed over: the fourth, 100 kg, is planned again."""
    driver = load_and_leave(day, key_for)
    post(day, "/stops/SO-02/arrive", {"at": AT, **GPS}, driver)
    handed = {"at": AT, **GPS, "counts": [{"sku": "WARD-2", "quantity": 3}]}
    assert post(day, "/stops/SO-02/deliver", handed, driver).json()["payload"]["complete"] is False
    with Session(engine_of(day)) as session:
        order = session.exec(select(Order).where(Order.external_id == "SO-02")).one()
        assert order.status is OrderStatus.FAILED and order.date == DAY + dt.timedelta(days=1)
        assert order.weight_kg == pytest.approx(100)


def test_retry_is_stored_once_and_a_reused_key_conflicts(
    day: TestClient, key_for: KeyMaker
) -> None:
    """The same Idempotency-Key and body return the stored record; another body is 409."""
    driver = load_and_leave(day, key_for)
    key = uuid.uuid4().hex
    first = post(day, "/stops/SO-01/arrive", {"at": AT, **GPS}, driver, key)
    again = post(day, "/stops/SO-01/arrive", {"at": AT, **GPS}, driver, key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    clash = post(day, "/stops/SO-01/arrive", {"at": AT, "lat": 1.0, "lon": 1.0}, driver, key)
    assert clash.status_code == 409
    with Session(engine_of(day)) as session:
        assert (
            len(session.exec(select(LedgerEntry).where(LedgerEntry.kind == Kind.ARRIVED)).all())
            == 1
        )


def test_driver_writes_only_for_their_own_crew(day: TestClient, key_for: KeyMaker) -> None:
    """A C02 driver cannot record C01's stop or sign C01's loading."""
    load_and_leave(day, key_for)
    other = key_for("driver", "C02")
    assert post(day, "/stops/SO-01/arrive", {"at": AT, **GPS}, other).status_code == 403
    assert (
        post(day, "/loading/C01/sign", {"crew_leader_name": "陈静", "at": AT}, other).status_code
        == 403
    )


def test_failed_write_stores_nothing(day: TestClient, key_for: KeyMaker) -> None:
    """A sign-off whose photo is not an image stores neither the record nor its signature."""
    driver = load_and_leave(day, key_for)
    post(day, "/stops/SO-01/arrive", {"at": AT, **GPS}, driver)
    counts = [{"sku": "SOFA-3", "quantity": 1}, {"sku": "PIL-1", "quantity": 2}]
    post(day, "/stops/SO-01/deliver", {"at": AT, **GPS, "counts": counts}, driver)
    sign = {
        "at": AT,
        **GPS,
        "signer_name": "张三",
        "signature_png": PNG,
        "amount_cny": 0,
        "counts": counts,
        "photos": [base64.b64encode(b"not an image at all").decode()],
    }
    refused = post(day, "/stops/SO-01/signoff", sign, driver)
    assert refused.status_code == 422 and refused.json()["field"] == "photos"
    with Session(engine_of(day)) as session:
        assert session.exec(select(Attachment)).all() == []
        assert not session.exec(
            select(LedgerEntry).where(LedgerEntry.kind == Kind.SIGNED_OFF)
        ).all()


def test_concurrent_events_on_one_stop_are_both_kept_in_order(
    day: TestClient, key_for: KeyMaker
) -> None:
    """Two photos of one stop sent at once: both stored, consecutive on the day's chain."""
    load_and_leave(day, key_for)
    engine = engine_of(day)
    crew = Principal(key_id=0, name="C01 phone", role=Role.DRIVER, vehicle_code="C01")
    with Session(engine) as session:
        order_id = session.exec(select(Order.id).where(Order.external_id == "SO-01")).one()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def send(caption: str) -> None:
        def build(_: Session) -> NewEntry:
            time.sleep(0.2)  # holds the day's lock while the other append waits for it
            return NewEntry(
                date=DAY,
                kind=Kind.PHOTO,
                vehicle_code="C01",
                order_id=order_id,
                payload={"caption": caption},
            )

        try:
            start.wait(timeout=10)
            with Session(engine) as session:
                append(
                    session,
                    principal=crew,
                    idempotency_key=caption,
                    request={"c": caption},
                    date=DAY,
                    area="main",
                    build=build,
                )
        except BaseException as error:  # the assertion below reports it
            errors.append(error)

    threads = [threading.Thread(target=send, args=(f"photo-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with Session(engine) as session:
        photos = session.exec(
            select(LedgerEntry).where(LedgerEntry.kind == Kind.PHOTO).order_by(col(LedgerEntry.seq))
        ).all()
        seqs = session.exec(select(col(LedgerEntry.seq)).order_by(col(LedgerEntry.seq))).all()
    assert sorted(p.payload["caption"] for p in photos) == ["photo-1", "photo-2"]
    assert photos[1].seq == photos[0].seq + 1 and photos[1].prev_hash == photos[0].hash
    assert list(seqs) == list(range(1, len(seqs) + 1))


def test_audit_verify_catches_a_tampered_record(
    day: TestClient, key_for: KeyMaker, settings: ServiceSettings
) -> None:
    """Changing a stored count behind the service's back makes `dispatch audit verify` fail."""
    load_and_leave(day, key_for)
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    command = [sys.executable, "-m", "api.cli", "audit", "verify"]
    intact = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert intact.returncode == 0, intact.stderr
    with engine_of(day).begin() as connection:
        connection.execute(
            text("UPDATE ledger_entry SET payload = :p WHERE kind = 'loading_signed'"),
            {"p": '{"crew_leader_name": "someone else", "at": "2026-11-27T09:00:00+08:00"}'},
        )
    tampered = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert tampered.returncode == 1
    assert "loading_signed" in tampered.stdout and "changed after it was stored" in tampered.stdout


def test_service_report_is_signed_after_arrival(day: TestClient, key_for: KeyMaker) -> None:
    """An installation's report needs the arrival first; a delivery has no service report."""
    driver = load_and_leave(day, key_for)
    with Session(engine_of(day)) as session:
        order = session.exec(select(Order).where(Order.external_id == "SO-03")).one()
        order.service_type = VisitKind.INSTALL  # as if the order system had booked an install
        session.add(order)
        session.commit()
    report = {
        "at": AT,
        **GPS,
        "work_done": "茶几安装, 调平",
        "satisfaction": 5,
        "parts_used": [{"name": "调平脚", "quantity": 4}],
        "comment": "很满意",
        "signer_name": "王五",
        "signature_png": PNG,
    }
    early = post(day, "/stops/SO-03/service-report", report, driver)
    assert early.status_code == 422 and early.json()["rule"] == "arrival_first"
    assert post(day, "/stops/SO-03/arrive", {"at": AT, **GPS}, driver).status_code == 201
    signed = post(day, "/stops/SO-03/service-report", report, driver)
    assert signed.status_code == 201, signed.text
    assert signed.json()["payload"]["satisfaction"] == 5
    assert post(day, "/stops/SO-01/arrive", {"at": AT, **GPS}, driver).status_code == 201
    delivery = post(day, "/stops/SO-01/service-report", report, driver)
    assert delivery.status_code == 422 and delivery.json()["field"] == "order"
