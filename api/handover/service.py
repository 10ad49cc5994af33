"""The handover records as one transactional step each: check the rules under the day's
lock, append the entry, apply what it means to the order; or store nothing at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, SQLModel

from api.areas.scope import check_scope
from api.auth.service import Principal
from api.cash.corrections import check_money_correction, require_finance
from api.core.config import ServiceSettings
from api.core.errors import Forbidden, NotFound, RuleBroken
from api.handover import loading, stops
from api.handover.replan import apply_outcome, next_planning_date, order_settings
from api.orders.models import Order
from api.records.access import (
    crew_area,
    order_by_external_id,
    planned_stop,
    require_own_crew,
)
from api.records.changes import check_fields
from api.records.kinds import MONEY, NEVER_CORRECTED, Kind
from api.records.models import LedgerEntry
from api.records.service import NewEntry, append, corrected_by

# What a stop's record needs from the caller besides the stop: (session, date, order, crew).
StopBuild = Callable[[Session, dt.date, Order, str], NewEntry]
# A crew's record, built under the lock of its area's chain: (session, area).
CrewBuild = Callable[[Session, str], NewEntry]
OUTCOME_FIELDS = frozenset({"counts", "complete", "outcome", "replanned_for"})


def record_for_crew(
    *,
    session: Session,
    principal: Principal,
    key: str,
    action: str,
    date: dt.date,
    vehicle_code: str,
    body: SQLModel,
    build: CrewBuild,
) -> tuple[LedgerEntry, bool]:
    """A loading or route record of one crew, in its vehicle's area's chain."""
    require_own_crew(principal, vehicle_code)
    area = crew_area(session, principal, vehicle_code)
    request = {"action": action, "date": date.isoformat(), "vehicle": vehicle_code, **_body(body)}
    return append(
        session,
        principal=principal,
        idempotency_key=key,
        request=request,
        date=date,
        area=area,
        build=lambda s: build(s, area),
    )


def record_for_stop(
    *,
    session: Session,
    settings: ServiceSettings,
    now: dt.datetime,
    principal: Principal,
    key: str,
    action: str,
    date: dt.date,
    external_id: str,
    body: SQLModel,
    build: StopBuild,
) -> tuple[LedgerEntry, bool]:
    """A record at one customer's stop, in the order's area's chain; delivery outcomes update
    the order in the same step. `settings` and `now` are the order's area's."""
    order = order_by_external_id(session, external_id, principal)
    stop = planned_stop(session, order, date)
    require_own_crew(principal, stop.vehicle_code)
    request = {"action": action, "date": date.isoformat(), "order": external_id, **_body(body)}
    # Back to the order's own area's planning, under its install types.
    local = order_settings(session, settings, order)
    next_date = next_planning_date(local, now)

    def follow_up(s: Session, entry: LedgerEntry) -> None:
        if entry.kind in (Kind.DELIVERED, Kind.FAILED, Kind.SERVICE_REPORT):
            apply_outcome(s, entry, next_date=next_date, settings=local)

    return append(
        session,
        principal=principal,
        idempotency_key=key,
        request=request,
        date=date,
        area=order.area_code,
        build=lambda s: build(s, date, order, stop.vehicle_code),
        follow_up=follow_up,
    )


def correct(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    key: str,
    date: dt.date,
    entry_id: int,
    reason: str,
    changes: dict[str, Any],
) -> tuple[LedgerEntry, bool]:
    """A new entry of the same kind replacing the fields named, pointing at the original.

    The corrected fields keep the types the record was written with; a money record is
    corrected by finance only, and passes the rules a new record of its kind passes.
    """
    original = session.get(LedgerEntry, entry_id)
    if original is None or original.date != date:
        raise NotFound(f"record {entry_id} not found")
    _may_correct(principal, original)
    unknown = sorted(set(changes) - set(original.payload) - {"correction_reason"})
    if unknown:
        raise RuleBroken(f"these fields are not in the record: {unknown}", field="changes")
    if original.kind in (Kind.DELIVERED, Kind.FAILED) and set(changes) & OUTCOME_FIELDS:
        # The order already moved on (delivered, or planned again) because of these.
        raise RuleBroken("a delivery's counts and outcome stay as recorded", field="changes")
    payload = {**original.payload, **changes, "correction_reason": reason}
    first = _first_version(session, original)

    def build(locked: Session) -> NewEntry:
        _still_current(locked, original)
        check_fields(first.payload, payload)
        if original.kind in MONEY:
            check_money_correction(locked, settings=settings, entry=original, payload=payload)
        return NewEntry(
            date=original.date,
            kind=original.kind,
            vehicle_code=original.vehicle_code,
            order_id=original.order_id,
            payload=payload,
            corrects=original.id,
        )

    request = {"action": "correct", "entry": entry_id, "reason": reason, "changes": changes}
    return append(
        session,
        principal=principal,
        idempotency_key=key,
        request=request,
        date=original.date,
        area=original.area_code,
        build=build,
    )


def _may_correct(principal: Principal, original: LedgerEntry) -> None:
    check_scope(principal, original.area_code)  # a record is corrected in its own area
    if original.kind in NEVER_CORRECTED:
        raise RuleBroken(f"a {original.kind} record is never changed", rule="append_only")
    if original.kind in MONEY:
        require_finance(principal, original)
        return
    if original.role != principal.role.value and principal.role.value != "admin":
        raise Forbidden(f"a {original.role} record is corrected by a {original.role}")
    require_own_crew(principal, original.vehicle_code)


def _first_version(session: Session, entry: LedgerEntry) -> LedgerEntry:
    """The record as the service first wrote it, before any correction."""
    while entry.corrects is not None:
        earlier = session.get(LedgerEntry, entry.corrects)
        if earlier is None:
            break
        entry = earlier
    return entry


def _still_current(session: Session, entry: LedgerEntry) -> None:
    """Corrections form one line: two of the same record would both count."""
    later = corrected_by(session, entry.id)
    if later is not None:
        raise RuleBroken(
            f"record {entry.id} was already corrected by record {later.id}; correct that one",
            field="entry_id",
            rule="latest_only",
        )


def _body(body: SQLModel) -> dict[str, Any]:
    return {"body": body.model_dump(mode="json")}


__all__ = ["correct", "loading", "record_for_crew", "record_for_stop", "stops"]
