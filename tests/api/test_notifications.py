"""Customer notifications: the day-before notice, on-the-day arrivals and delays, sending."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import on_the_day, published_day_database, record
from plan_helpers import CREWS, DAY, ORDERS, ZONE, engine_of
from sqlmodel import Session, col, select

from api.auth.models import Role
from api.core.config import ServiceSettings
from api.notifications.models import Message, MessageStatus
from api.notifications.senders import WebhookSender
from api.notifications.service import MAX_ATTEMPTS, deliver_pending
from api.orders.models import Order
from api.plans.models import Plan, PlanStatus, PlanStop
from api.records.kinds import Kind

prepared_database = published_day_database


@pytest.fixture
def day(settings: ServiceSettings) -> Iterator[TestClient]:
    yield from on_the_day(settings)


class FailingSender:
    """An SMS gateway that is down."""

    def __init__(self) -> None:
        self.calls = 0

    def send(self, message: Message) -> None:
        self.calls += 1
        raise ConnectionError("gateway down")


def planned(client: TestClient) -> dict[str, PlanStop]:
    """External id -> its stop on the published plan."""
    with Session(engine_of(client)) as session:
        rows = session.exec(
            select(PlanStop, Order)
            .join(Order, col(PlanStop.order_id) == col(Order.id))
            .join(Plan, col(PlanStop.plan_id) == col(Plan.id))
            .where(Plan.status == PlanStatus.PUBLISHED)
        ).all()
        return {order.external_id: stop for stop, order in rows}


def at(seconds: int) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(0, 0), tzinfo=ZONE) + dt.timedelta(seconds=seconds)


def listed(client: TestClient, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    answer = client.get("/notifications", params=query, headers=headers)
    assert answer.status_code == 200, answer.text
    messages: list[dict[str, Any]] = answer.json()
    return messages


def due(client: TestClient, headers: dict[str, str], now: dt.datetime) -> dict[str, int]:
    answer = client.post("/notifications/due", params={"now": now.isoformat()}, headers=headers)
    assert answer.status_code == 200, answer.text
    counts: dict[str, int] = answer.json()
    return counts


@pytest.mark.parametrize(
    ("language", "morning", "leader"),
    [
        ("zh", "上午", "张伟"),  # the default: Chinese, C01's first crew member leads
        ("en", "morning", "张伟"),  # English on request; names stay as stored
    ],
)
def test_day_before_lists_every_customer_once_also_when_generated_twice(
    day: TestClient, admin: dict[str, str], language: str, morning: str, leader: str
) -> None:
    """The 19:00 notice goes to every customer of the plan exactly once, however often run."""
    path = f"/notifications/day-before/{DAY.isoformat()}"
    first = day.post(path, params={"language": language}, headers=admin)
    again = day.post(path, params={"language": language}, headers=admin)
    assert first.json() == {"created": len(ORDERS), "existing": 0}
    assert again.json() == {"created": 0, "existing": len(ORDERS)}
    messages = listed(day, admin, date=DAY.isoformat(), kind="day_before")
    assert sorted(m["external_id"] for m in messages) == sorted(ORDERS)
    so01 = next(m for m in messages if m["external_id"] == "SO-01")
    assert so01["dedup_key"] == f"day_before:{DAY.isoformat()}:SO-01"
    assert so01["language"] == language and so01["recipient"] == "13800138000"
    assert morning in so01["text"] and leader in so01["text"] and "13900139000" in so01["text"]
    assert all(m["status"] == "pending" and m["channel"] == "sms" for m in messages)


def test_an_unpublished_date_is_not_found(day: TestClient, admin: dict[str, str]) -> None:
    """A date without a published plan has nobody to notify, and says so."""
    later = DAY + dt.timedelta(days=1)
    answer = day.post(f"/notifications/day-before/{later.isoformat()}", headers=admin)
    assert answer.status_code == 404
    assert "no plan is published" in answer.json()["detail"]


def test_arriving_soon_only_within_two_hours_and_not_once_arrived(
    day: TestClient, admin: dict[str, str]
) -> None:
    """On the day, stops arriving in the next two hours hear of it once; arrived ones don't."""
    stops = planned(day)
    first = min(stops, key=lambda ext: stops[ext].arrival)
    now = stops[first].arrival - 60
    # Arrived on time, so no delay clouds the picture.
    record(day, Kind.ARRIVED, first, at=at(stops[first].arrival).isoformat())
    soon = {
        ext for ext, stop in stops.items() if now <= stop.arrival <= now + 7200 and ext != first
    }
    later = {ext for ext, stop in stops.items() if stop.arrival > now + 7200}
    assert soon and later  # the seeded plan has both kinds of stop
    assert due(day, admin, at(now))["created"] == len(soon)
    assert due(day, admin, at(now))["created"] == 0
    messages = listed(day, admin, kind="arriving_soon")
    assert {m["external_id"] for m in messages} == soon
    assert all(m["dedup_key"].startswith(f"arriving_soon:{DAY.isoformat()}:") for m in messages)


def test_a_delay_past_the_slot_is_announced_once(day: TestClient, admin: dict[str, str]) -> None:
    """A crew four hours late at its first stop pushes its later morning stops past noon."""
    stops = planned(day)
    c01 = sorted((ext for ext in stops if CREWS[ext] == "C01"), key=lambda e: stops[e].position)
    late_at = stops[c01[0]].arrival + 4 * 3600
    record(day, Kind.ARRIVED, c01[0], at=at(late_at).isoformat())
    end = {"morning": 12 * 3600, "afternoon": 18 * 3600}
    expected = {ext for ext in c01[1:] if stops[ext].arrival + 4 * 3600 > end[ORDERS[ext][0]]}
    assert expected  # at least one later C01 stop misses its slot
    due(day, admin, at(late_at))
    due(day, admin, at(late_at + 600))
    delayed = listed(day, admin, kind="delayed")
    assert sorted(m["external_id"] for m in delayed) == sorted(expected)
    assert all("延误" in m["text"] for m in delayed)


def test_deliver_with_the_log_sender_sends_each_message_once(
    day: TestClient, admin: dict[str, str]
) -> None:
    """Delivering marks every message sent; a second delivery has nothing left to send."""
    day.post(f"/notifications/day-before/{DAY.isoformat()}", headers=admin)
    assert day.post("/notifications/deliver", headers=admin).json() == {
        "sent": len(ORDERS),
        "failed": 0,
    }
    assert day.post("/notifications/deliver", headers=admin).json() == {"sent": 0, "failed": 0}
    sent = listed(day, admin, status="sent")
    assert len(sent) == len(ORDERS)
    assert all(m["sent_at"] and m["attempts"] == 1 for m in sent)


def test_a_failing_sender_leaves_the_message_pending_with_the_error(
    day: TestClient, admin: dict[str, str]
) -> None:
    """A failure is recorded and retried, until MAX_ATTEMPTS marks the message failed."""
    day.post(f"/notifications/day-before/{DAY.isoformat()}", headers=admin)
    sender = FailingSender()
    with Session(engine_of(day)) as session:
        result = deliver_pending(session=session, sender=sender)
    assert result.failed == len(ORDERS) and result.sent == 0
    pending = listed(day, admin, status="pending")
    assert len(pending) == len(ORDERS)
    assert all(m["attempts"] == 1 and "gateway down" in m["last_error"] for m in pending)
    with Session(engine_of(day)) as session:
        for _ in range(MAX_ATTEMPTS):
            deliver_pending(session=session, sender=sender)
    assert sender.calls == MAX_ATTEMPTS * len(ORDERS)  # no send after giving up
    assert len(listed(day, admin, status="failed")) == len(ORDERS)


def test_a_message_claimed_by_another_worker_is_not_sent_again(
    day: TestClient, admin: dict[str, str]
) -> None:
    """A message in the middle of being sent elsewhere is left alone."""
    day.post(f"/notifications/day-before/{DAY.isoformat()}", headers=admin)
    with Session(engine_of(day)) as session:
        taken = session.exec(select(Message).order_by(col(Message.id))).first()
        assert taken is not None
        taken.status = MessageStatus.SENDING
        session.add(taken)
        session.commit()
    result = day.post("/notifications/deliver", headers=admin).json()
    assert result == {"sent": len(ORDERS) - 1, "failed": 0}
    assert len(listed(day, admin, status="sending")) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", f"/notifications/day-before/{DAY.isoformat()}"),  # generating
        ("post", "/notifications/due"),  # the on-the-day run
        ("post", "/notifications/deliver"),  # sending
        ("get", "/notifications"),  # reading customers' phone numbers
    ],
)
def test_a_driver_may_not_touch_notifications(
    client: TestClient, key_for: KeyMaker, method: str, path: str
) -> None:
    """Notifications are the dispatchers' business."""
    answer = client.request(method, path, headers=key_for(Role.DRIVER, "C01"))
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("gateway_status", "sent"),
    [
        (200, 1),  # accepted
        (503, 0),  # the gateway is down: retried later
    ],
)
def test_the_webhook_sender_posts_with_the_dedup_key(
    day: TestClient, admin: dict[str, str], gateway_status: int, sent: int
) -> None:
    """The gateway gets the message as JSON with Idempotency-Key set to the dedup key."""
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(gateway_status)

    day.post(f"/notifications/day-before/{DAY.isoformat()}", headers=admin)
    sender = WebhookSender(
        "https://sms.example/send", client=httpx.Client(transport=httpx.MockTransport(gateway))
    )
    with Session(engine_of(day)) as session:
        result = deliver_pending(session=session, sender=sender, limit=1)
    assert (result.sent, result.failed) == (sent, 1 - sent)
    body = json.loads(seen[0].content)
    assert seen[0].headers["Idempotency-Key"] == f"day_before:{DAY.isoformat()}:{body['order']}"
    assert body["to"] and body["text"] and body["channel"] == "sms"


def test_the_notifier_tells_tomorrows_customers_once(day: TestClient) -> None:
    """The day before, one tick makes and sends a notice per customer; the next tick nothing."""
    from api.notifications.scheduler import notify_tick

    settings = day.app.state.settings  # type: ignore[attr-defined]
    evening = dt.datetime.combine(DAY - dt.timedelta(days=1), dt.time(17, 30), tzinfo=ZONE)
    first = notify_tick(engine=engine_of(day), settings=settings, now=evening)
    assert first == {"day_before": len(ORDERS), "due": 0, "sent": len(ORDERS)}
    again = notify_tick(engine=engine_of(day), settings=settings, now=evening)
    assert again == {"day_before": 0, "due": 0, "sent": 0}


def test_the_notifier_tells_each_areas_customers_on_its_own_clock(
    settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """Just after midnight in Shanghai it is still DAY's eve in Urumqi: only cd is told."""
    from area_helpers import ORDERS as AREA_ORDERS
    from area_helpers import seed_two_areas
    from intake_helpers import publish_area
    from plan_helpers import app_at

    from api.notifications.scheduler import notify_tick

    with app_at(settings) as client:
        seed_two_areas(client, admin)
        answer = client.patch("/areas/cd", json={"timezone": "Asia/Urumqi"}, headers=admin)
        assert answer.status_code == 200, answer.text
        publish_area(client, "cd")
        publish_area(client, "sh")
        # 00:30 of DAY in Shanghai is 22:30 the evening before in Urumqi.
        now = dt.datetime.combine(DAY, dt.time(0, 30), tzinfo=ZONE)
        done = notify_tick(engine=engine_of(client), settings=settings, now=now)
        with Session(engine_of(client)) as session:
            told = session.exec(select(Message.area_code, Message.external_id)).all()
    assert done["day_before"] == len(AREA_ORDERS["cd"])
    assert sorted(told) == [("cd", external_id) for external_id in AREA_ORDERS["cd"]]
