"""Corrections of money records: made by finance, checked as a new record of that kind is
checked, and accepted by finance, one by one, before the day's reconciliation balances."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, select

from api.areas.scope import check_scope, local_settings
from api.auth.models import Role
from api.auth.service import Principal
from api.cash.models import CollectionCreate, DepositCreate, HandoverCreate
from api.cash.service import (
    at_most_on_board,
    cash_cap_fen,
    collection_rules,
    fen,
    one_of_the_crew,
    two_of_the_crew,
)
from api.core.config import ServiceSettings
from api.core.errors import Forbidden, NotFound, RuleBroken
from api.orders.models import Order
from api.records.kinds import MONEY, Kind
from api.records.models import LedgerEntry
from api.records.service import NewEntry, append, corrected_by

Request = CollectionCreate | DepositCreate | HandoverCreate
REQUESTS: dict[str, type[Request]] = {
    Kind.COLLECTED: CollectionCreate,
    Kind.DEPOSITED: DepositCreate,
    Kind.HANDED_TO_FINANCE: HandoverCreate,
}
FINANCE = (Role.FINANCE, Role.ADMIN)


def require_finance(principal: Principal, entry: LedgerEntry) -> None:
    if principal.role not in FINANCE:
        raise Forbidden(
            f"a {entry.kind} record is money: a crew may not correct it; finance corrects it"
        )


def check_money_correction(
    locked: Session, *, settings: ServiceSettings, entry: LedgerEntry, payload: dict[str, Any]
) -> None:
    """The corrected money record (`payload` replacing `entry`) passes the rules a new record
    of its kind passes, with `entry` left out of the day's sums. When a collection was taken
    (after the arrival, before the sign-off) is not corrected, only what it says."""
    # The cap in force is the one of the record's area.
    local = local_settings(session=locked, settings=settings, area=entry.area_code)
    try:
        _rules(locked, settings=local, entry=entry, payload=payload)
    except RuleBroken as error:
        # The correction names the record's fields: its amount is in fen.
        if error.field == "amount_cny":
            error.field = "amount_fen"
        raise


def _rules(
    locked: Session, *, settings: ServiceSettings, entry: LedgerEntry, payload: dict[str, Any]
) -> None:
    request = _as_request(locked, entry, payload)
    area, date, vehicle_code = entry.area_code, entry.date, entry.vehicle_code
    if isinstance(request, CollectionCreate):
        collection_rules(
            locked,
            date=date,
            order=_order(locked, entry),
            vehicle_code=vehicle_code,
            body=request,
            cap=cash_cap_fen(session=locked, settings=settings, vehicle_code=vehicle_code),
            leaving_out=entry.id,
        )
        return
    if isinstance(request, DepositCreate):
        two_of_the_crew(locked, date, vehicle_code, request.members)
    else:
        one_of_the_crew(locked, date, vehicle_code, request.handed_by)
    amount = fen(request.amount_cny)
    at_most_on_board(locked, area, date, vehicle_code, amount, leaving_out=entry.id)


def _as_request(session: Session, entry: LedgerEntry, payload: dict[str, Any]) -> Request:
    """The payload as the request that would have written it, validated as that request."""
    amount = payload.get("amount_fen")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise RuleBroken("amount_fen: must be a whole number of fen", field="amount_fen")
    fields = {**payload, "amount_cny": Decimal(amount) / 100, "vehicle_code": entry.vehicle_code}
    if entry.kind == Kind.COLLECTED:
        fields["order"] = _order(session, entry).external_id
    try:
        return REQUESTS[entry.kind].model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "changes"
        name = "amount_fen" if name == "amount_cny" else name
        raise RuleBroken(f"{name}: {first['msg']}", field=name, rule="record_fields") from None


def _order(session: Session, entry: LedgerEntry) -> Order:
    order = session.get(Order, entry.order_id) if entry.order_id is not None else None
    if order is None:
        raise RuleBroken(f"record {entry.id} names no order", field="order")
    return order


def accept(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    idempotency_key: str,
    date: dt.date,
    entry_id: int,
) -> tuple[LedgerEntry, bool]:
    """Finance accepts a corrected money record as it now stands; (acceptance, created).

    The correction is checked again as it is stored, so one an older release let a crew
    store (cash relabelled, an amount no record could hold) is corrected, not accepted. The
    acceptance goes into the correction's area's chain; a key outside that area gets 403.
    """
    area = _correction(session, date, entry_id).area_code
    check_scope(principal, area)

    def build(locked: Session) -> NewEntry:
        correction = _correction(locked, date, entry_id)
        _acceptable(locked, correction)
        check_money_correction(
            locked, settings=settings, entry=correction, payload=correction.payload
        )
        return NewEntry(
            date=date,
            kind=Kind.CORRECTION_ACCEPTED,
            vehicle_code=correction.vehicle_code,
            order_id=correction.order_id,
            payload={"correction": entry_id, "corrects": correction.corrects},
        )

    request = {"op": "accept_correction", "date": date.isoformat(), "entry": entry_id}
    return append(
        session,
        principal=principal,
        idempotency_key=idempotency_key,
        request=request,
        date=date,
        area=area,
        build=build,
    )


def _correction(session: Session, date: dt.date, entry_id: int) -> LedgerEntry:
    correction = session.get(LedgerEntry, entry_id)
    if correction is None or correction.date != date:
        raise NotFound(f"record {entry_id} not found")
    return correction


def _acceptable(session: Session, correction: LedgerEntry) -> None:
    if correction.kind not in MONEY or correction.corrects is None:
        raise RuleBroken(
            f"record {correction.id} is not a correction of a money record",
            field="entry_id",
            rule="money_correction",
        )
    later = corrected_by(session, correction.id)
    if later is not None:
        raise RuleBroken(
            f"record {correction.id} was corrected again by record {later.id}; accept that one",
            field="entry_id",
            rule="latest_only",
        )
    accepted = session.exec(
        select(LedgerEntry).where(
            LedgerEntry.area_code == correction.area_code,
            LedgerEntry.date == correction.date,
            LedgerEntry.kind == Kind.CORRECTION_ACCEPTED,
        )
    ).all()
    if any(row.payload.get("correction") == correction.id for row in accepted):
        raise RuleBroken(
            f"record {correction.id} is already accepted", field="entry_id", rule="accepted_once"
        )
