"""A published day to record on, and the crew's records written straight to the ledger."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from api_keys import KeyMaker
from fastapi.testclient import TestClient
from plan_helpers import CREWS, DAY, ZONE, app_at, engine_of, seed_day, store_plan
from prepared import ADMIN, prepared_for, service_settings
from sqlmodel import Session, select

from api.auth.models import Role
from api.auth.service import Principal
from api.core.config import ServiceSettings
from api.demo_day import drawn_signature
from api.orders.models import Order
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import NewEntry, append

ON_THE_DAY = dt.datetime.combine(DAY, dt.time(9, 0), tzinfo=ZONE)
AT = ON_THE_DAY.isoformat()
GPS = {"lat": 30.66, "lon": 104.07}
PNG = drawn_signature()  # decoded in full by the service, so a real image


def published_day(
    settings: ServiceSettings,
    admin: dict[str, str],
    places: Sequence[tuple[float, float]] = (),
) -> Iterator[TestClient]:
    """The seeded day (at `places`, as seed_day) planned and published three days ahead; the
    service as of its morning."""
    with app_at(settings) as booking:
        _publish_seeded_day(booking, admin, places)
    yield from on_the_day(settings)


def _publish_seeded_day(
    booking: TestClient, admin: dict[str, str], places: Sequence[tuple[float, float]] = ()
) -> None:
    seed_day(booking, admin, places)
    plan_id = store_plan(booking)
    answer = booking.post(f"/plans/{plan_id}/publish", headers={**admin, "If-Match": '"1"'})
    assert answer.status_code == 200, answer.text


def build_published_day(url: str) -> dict[str, Any]:
    """For `prepared_for`: the database of `published_day`, built once and copied."""
    with app_at(service_settings(url)) as booking:
        _publish_seeded_day(booking, ADMIN)
    return {}


def on_the_day(settings: ServiceSettings) -> Iterator[TestClient]:
    """The service as of the published day's morning (its database already holds the day)."""
    with app_at(settings, ON_THE_DAY) as client:
        yield client


# A module whose `day` fixture is `on_the_day` takes this as its `prepared_database`.
published_day_database = prepared_for("day", "published_day", build_published_day)


def record(client: TestClient, kind: Kind, order: str, **payload: Any) -> None:
    """A crew's stop event stored straight in the ledger, as the handover routes would."""
    vehicle = CREWS[order]
    with Session(engine_of(client)) as session:
        order_id = session.exec(select(Order.id).where(Order.external_id == order)).one()
        entry = NewEntry(
            date=DAY,
            kind=kind,
            vehicle_code=vehicle,
            order_id=order_id,
            payload={"at": AT, **GPS, **payload},
        )
        append(
            session,
            principal=Principal(
                key_id=0, name="crew phone", role=Role.DRIVER, vehicle_code=vehicle
            ),
            idempotency_key=uuid.uuid4().hex,
            request={"kind": kind.value, "order": order, **payload},
            date=DAY,
            area="main",
            build=lambda _session: entry,
        )


def stored_service_report(client: TestClient, *, date: dt.date, key: str) -> int:
    """A signed service report's id, the entry written straight to the ledger with a made-up
    chain: for tests of what reads reports (handover tests write them for real)."""
    with Session(engine_of(client)) as session:
        entry = LedgerEntry(
            area_code="main",
            date=date,
            kind=Kind.SERVICE_REPORT,
            seq=1,
            recorded_at=f"{date.isoformat()}T03:00:00Z",
            idempotency_key=key,
            request_hash="0" * 64,
            prev_hash="0" * 64,
            hash="1" * 64,
        )
        session.add(entry)
        session.commit()
        assert entry.id is not None
        return entry.id


def deliver(client: TestClient, order: str, *, complete: bool = True) -> None:
    record(client, Kind.ARRIVED, order)
    record(client, Kind.DELIVERED, order, counts=[], complete=complete)


def cash(
    client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str], key: str = ""
) -> Any:
    headers = {**headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return client.post(f"/cash/{DAY.isoformat()}/{path}", json=body, headers=headers)


def collection(order: str, amount: float, method: str = "cash") -> dict[str, Any]:
    return {"order": order, "amount_cny": amount, "method": method, "at": AT}


def deposit(amount: float, members: list[str], vehicle: str = "C01") -> dict[str, Any]:
    body = {"vehicle_code": vehicle, "amount_cny": amount, "members": members, "at": AT}
    return {**body, "bank_reference": "ICBC-0001"}


def handover(amount: float, handed_by: str = "张伟") -> dict[str, Any]:
    return {
        "vehicle_code": "C01",
        "amount_cny": amount,
        "handed_by": handed_by,
        "received_by": "财务李",
        "at": AT,
    }


def local(hhmm: str) -> str:
    """A device time on DAY in the store's zone (+08:00)."""
    return f"{DAY.isoformat()}T{hhmm}:00+08:00"


def play_the_day(client: TestClient, key_for: KeyMaker) -> None:
    """What the crews report, stop by stop (slots: morning 08–12, afternoon 13–18).

    C01  SO-01 morning   arrives 09:30 on time, delivered in full
         SO-02 morning   arrives 12:30 late, delivered in part
         SO-03 afternoon arrives 05:00 UTC = 13:00 on time, delivered in full, ¥4,000 due:
                         ¥3,000 cash + ¥1,000 transfer; ¥2,000 banked, ¥1,000 to finance
    C02  SO-04 morning   arrives 07:40 early, failed: customer absent
         SO-05 afternoon no arrival recorded, failed: refused
         SO-06 afternoon arrives 18:30 late, no outcome yet, ¥800 cash collected
    """
    record(client, Kind.ARRIVED, "SO-01", at=local("09:30"))
    record(client, Kind.DELIVERED, "SO-01", counts=[], complete=True)
    record(client, Kind.ARRIVED, "SO-02", at=local("12:30"))
    record(client, Kind.DELIVERED, "SO-02", counts=[], complete=False)
    record(client, Kind.ARRIVED, "SO-03", at=f"{DAY.isoformat()}T05:00:00+00:00")
    record(client, Kind.DELIVERED, "SO-03", counts=[], complete=True)
    record(client, Kind.ARRIVED, "SO-04", at=local("07:40"))
    record(client, Kind.FAILED, "SO-04", reason="customer_absent", outcome="back_to_warehouse")
    record(client, Kind.FAILED, "SO-05", reason="refused", outcome="back_to_warehouse")
    record(client, Kind.ARRIVED, "SO-06", at=local("18:30"))
    c01, c02, finance = key_for("driver", "C01"), key_for("driver", "C02"), key_for("finance")
    for path, body, who in (
        ("collections", collection("SO-03", 3000), c01),
        ("collections", collection("SO-03", 1000, "transfer"), c01),
        ("deposits", deposit(2000, ["张伟", "刘洋"]), c01),
        ("handovers", handover(1000), finance),
        ("collections", collection("SO-06", 800), c02),
    ):
        answer = cash(client, path, body, who)
        assert answer.status_code == 201, answer.text
