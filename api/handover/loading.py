"""Loading at the warehouse: the keeper counts against the picking list, the crew signs,
and a count that differs blocks departure until a reconciliation is recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from api.core.errors import Conflict, RuleBroken
from api.drivers.service import published_plan
from api.fleet.service import crews_on
from api.handover.models import (
    LoadingCountCreate,
    LoadingLine,
    LoadingReconcileCreate,
    LoadingSignCreate,
    LoadingStatus,
    Place,
)
from api.orders.models import Order, OrderItem
from api.plans.models import PlanStop
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import NewEntry, effective, entries

LOADING_KINDS = (Kind.LOADING_COUNTED, Kind.LOADING_SIGNED, Kind.LOADING_RECONCILED)


def picking_list(
    session: Session, *, area: str, date: dt.date, vehicle_code: str
) -> list[LoadingLine]:
    """What the crew must take: every item still owed on its stops of the published plan."""
    plan = published_plan(session=session, date=date, area=area)
    rows = session.exec(
        select(PlanStop, Order, OrderItem)
        .join(Order, col(PlanStop.order_id) == col(Order.id))
        .join(OrderItem, col(OrderItem.order_id) == col(Order.id))
        .where(PlanStop.plan_id == plan.id, PlanStop.vehicle_code == vehicle_code)
        .order_by(col(PlanStop.position), col(OrderItem.id))
    ).all()
    return [
        LoadingLine(
            order=order.external_id,
            sku=item.sku,
            name=item.name,
            expected=item.quantity - item.delivered,
            counted=None,
        )
        for _, order, item in rows
        if item.quantity > item.delivered
    ]


def count_entry(
    session: Session, *, area: str, date: dt.date, vehicle_code: str, count: LoadingCountCreate
) -> NewEntry:
    lines = picking_list(session, area=area, date=date, vehicle_code=vehicle_code)
    if not lines:
        raise RuleBroken(f"crew {vehicle_code} has nothing to load on {date}", field="vehicle")
    if _departed(session, area, date, vehicle_code):
        raise Conflict(f"crew {vehicle_code} has already left the warehouse")
    counted: dict[tuple[str, str], int] = {}
    for counted_line in count.counts:
        key = (counted_line.order, counted_line.sku)
        counted[key] = counted.get(key, 0) + counted_line.quantity
    listed = {(line.order, line.sku) for line in lines}
    for line in lines:
        line.counted = counted.get((line.order, line.sku), 0)
    extra = [
        LoadingLine(order=o, sku=s, name="(not on the list)", expected=0, counted=n)
        for (o, s), n in counted.items()
        if (o, s) not in listed and n > 0
    ]
    payload: dict[str, Any] = {
        "keeper_name": count.keeper_name,
        "at": count.at.isoformat(),
        "lines": [line.model_dump() for line in [*lines, *extra]],
    }
    return NewEntry(
        date=date, kind=Kind.LOADING_COUNTED, vehicle_code=vehicle_code, payload=payload
    )


def sign_entry(
    session: Session, *, area: str, date: dt.date, vehicle_code: str, sign: LoadingSignCreate
) -> NewEntry:
    if _latest_count(session, area, date, vehicle_code) is None:
        raise RuleBroken("the crew signs the loading only after the keeper's count", field="count")
    crew = [m.name for m in crews_on(session=session, date=date).get(vehicle_code, [])]
    if crew and sign.crew_leader_name not in crew:
        raise RuleBroken(
            f"{sign.crew_leader_name} is not on crew {vehicle_code} on {date}",
            field="crew_leader_name",
        )
    payload = {"crew_leader_name": sign.crew_leader_name, "at": sign.at.isoformat()}
    return NewEntry(date=date, kind=Kind.LOADING_SIGNED, vehicle_code=vehicle_code, payload=payload)


def reconcile_entry(
    session: Session,
    *,
    area: str,
    date: dt.date,
    vehicle_code: str,
    reconcile: LoadingReconcileCreate,
) -> NewEntry:
    status = loading_status(session, area=area, date=date, vehicle_code=vehicle_code)
    if not status.differences:
        raise RuleBroken("the count matches the picking list; nothing to reconcile")
    if len(set(reconcile.agreed_by)) < 2:
        raise RuleBroken("two different people must agree", field="agreed_by")
    payload = {
        "agreed_by": reconcile.agreed_by,
        "note": reconcile.note,
        "at": reconcile.at.isoformat(),
        "differences": [line.model_dump() for line in status.differences],
    }
    return NewEntry(
        date=date, kind=Kind.LOADING_RECONCILED, vehicle_code=vehicle_code, payload=payload
    )


def departure_entry(
    session: Session, *, area: str, date: dt.date, vehicle_code: str, place: Place
) -> NewEntry:
    if _departed(session, area, date, vehicle_code):
        raise Conflict(f"crew {vehicle_code} has already left on {date}")
    status = loading_status(session, area=area, date=date, vehicle_code=vehicle_code)
    if not status.may_depart:
        raise RuleBroken(f"departure blocked: {status.blocked_because}", rule="loading_handover")
    return NewEntry(
        date=date, kind=Kind.DEPARTED, vehicle_code=vehicle_code, payload=place.where_and_when()
    )


def return_entry(
    session: Session, *, area: str, date: dt.date, vehicle_code: str, place: Place
) -> NewEntry:
    if not _departed(session, area, date, vehicle_code):
        raise RuleBroken(f"crew {vehicle_code} has not left yet", field="vehicle")
    return NewEntry(
        date=date, kind=Kind.RETURNED, vehicle_code=vehicle_code, payload=place.where_and_when()
    )


def loading_status(
    session: Session, *, area: str, date: dt.date, vehicle_code: str
) -> LoadingStatus:
    rows = list(
        effective(
            entries(session, area=area, date=date, vehicle_code=vehicle_code, kinds=LOADING_KINDS)
        )
    )
    count = next((r for r in reversed(rows) if r.kind == Kind.LOADING_COUNTED), None)
    if count is None:
        lines = picking_list(session, area=area, date=date, vehicle_code=vehicle_code)
        # Nothing to load (a technician's round of repairs): nothing to count or sign either.
        blocked = "the load has not been counted against the picking list" if lines else ""
        return LoadingStatus(
            date=date,
            vehicle_code=vehicle_code,
            lines=lines,
            counted=False,
            differences=[],
            reconciled=False,
            signed=False,
            may_depart=not lines,
            blocked_because=blocked,
        )
    lines = [LoadingLine(**line) for line in count.payload["lines"]]
    differences = [line for line in lines if line.counted != line.expected]
    after = [r for r in rows if r.seq > count.seq]
    signed = any(r.kind == Kind.LOADING_SIGNED for r in after)
    reconciled = any(r.kind == Kind.LOADING_RECONCILED for r in after)
    blocked = ""
    if differences and not reconciled:
        described = "; ".join(
            f"{d.order} {d.sku}: {d.counted} of {d.expected}" for d in differences
        )
        blocked = f"the count differs from the picking list ({described}); record a reconciliation"
    elif not signed:
        blocked = "the crew leader has not signed the count"
    return LoadingStatus(
        date=date,
        vehicle_code=vehicle_code,
        lines=lines,
        counted=True,
        differences=differences,
        reconciled=reconciled,
        signed=signed,
        may_depart=not blocked,
        blocked_because=blocked,
    )


def _latest_count(
    session: Session, area: str, date: dt.date, vehicle_code: str
) -> LedgerEntry | None:
    rows = list(
        effective(
            entries(
                session,
                area=area,
                date=date,
                vehicle_code=vehicle_code,
                kinds=[Kind.LOADING_COUNTED],
            )
        )
    )
    return rows[-1] if rows else None


def _departed(session: Session, area: str, date: dt.date, vehicle_code: str) -> bool:
    return bool(
        entries(session, area=area, date=date, vehicle_code=vehicle_code, kinds=[Kind.DEPARTED])
    )
