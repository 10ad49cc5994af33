"""At the customer: arrival, delivery counts, failure, sign-off and service report, in the
order the server enforces: nothing is signed before arrival and before the counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from api.cash.ledger import amount_fen
from api.core.errors import Conflict, RuleBroken
from api.handover.models import (
    DeliveryCreate,
    FailureCreate,
    PhotoCreate,
    Place,
    ServiceReportCreate,
    SignOffCreate,
)
from api.orders.models import Order, OrderItem
from api.records.images import Signed, Upload
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import NewEntry, effective, entries, keep_image
from optimizer.data import VisitKind


@dataclass(frozen=True, slots=True)
class StopState:
    departed: bool
    arrived: bool
    delivered: LedgerEntry | None
    failed: LedgerEntry | None
    signed_off: bool
    reported: bool
    collected_fen: int


def stop_state(session: Session, *, date: dt.date, order: Order, vehicle_code: str) -> StopState:
    rows = list(effective(entries(session, area=order.area_code, date=date, order_id=order.id)))
    kinds = {row.kind for row in rows}
    last = {row.kind: row for row in rows}
    departed = bool(
        entries(
            session,
            area=order.area_code,
            date=date,
            vehicle_code=vehicle_code,
            kinds=[Kind.DEPARTED],
        )
    )
    collected = sum(amount_fen(row) for row in rows if row.kind == Kind.COLLECTED)
    return StopState(
        departed=departed,
        arrived=Kind.ARRIVED in kinds,
        delivered=last.get(Kind.DELIVERED),
        failed=last.get(Kind.FAILED),
        signed_off=Kind.SIGNED_OFF in kinds,
        reported=Kind.SERVICE_REPORT in kinds,
        collected_fen=collected,
    )


def arrival_entry(
    session: Session, *, date: dt.date, order: Order, vehicle_code: str, place: Place
) -> NewEntry:
    state = stop_state(session, date=date, order=order, vehicle_code=vehicle_code)
    if not state.departed:
        raise RuleBroken(f"crew {vehicle_code} has not left the warehouse yet", rule="departure")
    if state.arrived:
        raise Conflict(f"arrival at {order.external_id} is already recorded")
    return _entry(date, Kind.ARRIVED, order, vehicle_code, place.where_and_when())


def delivery_entry(
    session: Session, *, date: dt.date, order: Order, vehicle_code: str, delivery: DeliveryCreate
) -> NewEntry:
    state = stop_state(session, date=date, order=order, vehicle_code=vehicle_code)
    if not state.arrived:
        raise RuleBroken("record the arrival before the delivery counts", rule="arrival_first")
    if state.delivered or state.failed:
        raise Conflict(f"{order.external_id} already has an outcome; correct it instead")
    owed = _owed(session, order)
    counts: dict[str, int] = {}
    for line in delivery.counts:
        if line.sku not in owed:
            raise RuleBroken(f"{line.sku} is not on order {order.external_id}", field="counts")
        counts[line.sku] = counts.get(line.sku, 0) + line.quantity
    too_many = [sku for sku, n in counts.items() if n > owed[sku]]
    if too_many:
        raise RuleBroken(f"more than ordered of {', '.join(too_many)}", field="counts")
    lines = [{"sku": sku, "ordered": n, "quantity": counts.get(sku, 0)} for sku, n in owed.items()]
    complete = all(line["quantity"] == line["ordered"] for line in lines)
    payload = {**delivery.where_and_when(), "counts": lines, "complete": complete}
    return _entry(date, Kind.DELIVERED, order, vehicle_code, payload)


def failure_entry(
    session: Session,
    *,
    date: dt.date,
    order: Order,
    vehicle_code: str,
    failure: FailureCreate,
    next_planning_date: dt.date,
) -> NewEntry:
    state = stop_state(session, date=date, order=order, vehicle_code=vehicle_code)
    if not state.departed:
        raise RuleBroken(f"crew {vehicle_code} has not left the warehouse yet", rule="departure")
    if state.delivered or state.failed:
        raise Conflict(f"{order.external_id} already has an outcome; correct it instead")
    # The next plan still to be made, and never the day itself or one before it.
    earliest = max(next_planning_date, date + dt.timedelta(days=1))
    again = failure.reschedule_date or earliest
    if again < earliest:
        raise RuleBroken(
            f"the next plan that can take it is for {earliest}", field="reschedule_date"
        )
    payload = {
        **failure.where_and_when(),
        "reason": failure.reason.value,
        "outcome": failure.outcome.value,
        "storage_place": failure.storage_place,
        "note": failure.note,
        "replanned_for": again.isoformat(),
    }
    return _entry(date, Kind.FAILED, order, vehicle_code, payload)


def sign_off_entry(
    session: Session,
    *,
    date: dt.date,
    order: Order,
    vehicle_code: str,
    sign: SignOffCreate,
    images: Signed,
) -> NewEntry:
    state = stop_state(session, date=date, order=order, vehicle_code=vehicle_code)
    if not state.arrived:
        raise RuleBroken("the customer signs only after the crew has arrived", rule="arrival_first")
    if state.delivered is None:
        raise RuleBroken(
            "the customer signs only after the counts are recorded", rule="counts_first"
        )
    if state.signed_off:
        raise Conflict(f"{order.external_id} is already signed off; a sign-off is never changed")
    delivered = {
        c["sku"]: c["quantity"] for c in state.delivered.payload["counts"] if c["quantity"]
    }
    confirmed: dict[str, int] = {}
    for line in sign.counts:
        confirmed[line.sku] = confirmed.get(line.sku, 0) + line.quantity
    if {k: v for k, v in confirmed.items() if v} != delivered:
        raise RuleBroken(f"the counts signed must be those delivered: {delivered}", field="counts")
    signed_fen = round(sign.amount_cny * 100)
    if signed_fen != state.collected_fen:
        collected = state.collected_fen / 100
        raise RuleBroken(
            f"the amount signed must be what was collected: {collected:.2f} CNY", field="amount_cny"
        )
    payload = {
        **sign.where_and_when(),
        **_signed(session, sign.signer_name, images),
        "counts": [{"sku": sku, "quantity": n} for sku, n in sorted(delivered.items())],
        "amount_fen": signed_fen,
    }
    return _entry(date, Kind.SIGNED_OFF, order, vehicle_code, payload)


def service_report_entry(
    session: Session,
    *,
    date: dt.date,
    order: Order,
    vehicle_code: str,
    report: ServiceReportCreate,
    images: Signed,
) -> NewEntry:
    if order.service_type not in (VisitKind.INSTALL, VisitKind.REPAIR):
        raise RuleBroken(
            f"{order.external_id} is a {order.service_type.value}, not a service visit",
            field="order",
        )
    state = stop_state(session, date=date, order=order, vehicle_code=vehicle_code)
    if not state.arrived:
        raise RuleBroken("a service report is signed only after arrival", rule="arrival_first")
    if state.reported:
        raise Conflict(f"{order.external_id} already has a signed service report")
    payload = {
        **report.where_and_when(),
        "work_done": report.work_done,
        "parts_used": [part.model_dump() for part in report.parts_used],
        "satisfaction": report.satisfaction,
        "comment": report.comment,
        **_signed(session, report.signer_name, images),
    }
    return _entry(date, Kind.SERVICE_REPORT, order, vehicle_code, payload)


def photo_entry(
    session: Session,
    *,
    date: dt.date,
    order: Order,
    vehicle_code: str,
    photo: PhotoCreate,
    image: Upload,
) -> NewEntry:
    state = stop_state(session, date=date, order=order, vehicle_code=vehicle_code)
    if not state.departed:
        raise RuleBroken(f"crew {vehicle_code} has not left the warehouse yet", rule="departure")
    payload = {
        **photo.where_and_when(),
        "caption": photo.caption,
        "image_sha256": keep_image(session, image),
    }
    return _entry(date, Kind.PHOTO, order, vehicle_code, payload)


def _signed(session: Session, signer: str, images: Signed) -> dict[str, Any]:
    """Who signed, and the signature and photos kept by their SHA-256."""
    return {
        "signer_name": signer,
        "signature_sha256": keep_image(session, images.signature),
        "photos_sha256": [keep_image(session, photo) for photo in images.photos],
    }


def _owed(session: Session, order: Order) -> dict[str, int]:
    items = session.exec(select(OrderItem).where(OrderItem.order_id == order.id)).all()
    owed: dict[str, int] = {}
    for item in items:
        if item.quantity > item.delivered:
            owed[item.sku] = owed.get(item.sku, 0) + item.quantity - item.delivered
    return owed


def _entry(
    date: dt.date, kind: Kind, order: Order, vehicle_code: str, payload: dict[str, Any]
) -> NewEntry:
    return NewEntry(
        date=date, kind=kind, vehicle_code=vehicle_code, order_id=order.id, payload=payload
    )
