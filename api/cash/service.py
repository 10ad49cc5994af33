"""Cash on board: what a crew collects, banks and hands to finance (the day's 日清日结 is
in api.cash.reconciliation, finance's corrections in api.cash.corrections).

Every record is a ledger entry (api.records) appended under the day's lock, so the cap and
the "at most what is on board" rules are checked against the chain as it stands: two phones
collecting at once cannot both squeeze under the cap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, SQLModel

from api.areas.scope import local_settings
from api.auth.service import Principal
from api.cash import deposit_stops
from api.cash.ledger import (
    amount_fen,
    crew_cash,
    fen,
    yuan,
)
from api.cash.models import (
    CollectionCreate,
    CollectionPublic,
    DepositCreate,
    DepositPublic,
    HandoverCreate,
    HandoverPublic,
    OnBoardPublic,
    PaymentMethod,
    cny,
)
from api.core.config import ServiceSettings
from api.core.crud import get_or_404
from api.core.errors import RuleBroken
from api.fleet.models import Vehicle
from api.fleet.service import crews_on
from api.orders.models import Order
from api.records.access import (
    crew_area,
    order_by_external_id,
    planned_stop,
    require_own_crew,
)
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import NewEntry, append, effective, entries


def cash_cap_fen(*, session: Session, settings: ServiceSettings, vehicle_code: str) -> int:
    """The vehicle's own cap, else the one in force in its area: `settings` are the area's
    (local_settings), where an area may set a cap of its own."""
    vehicle = get_or_404(session, Vehicle, "vehicle", code=vehicle_code)
    return fen(vehicle.cash_cap_cny or settings.cash_cap_cny)


def _request(op: str, date: dt.date, body: SQLModel) -> dict[str, Any]:
    """What a retry must repeat: amounts in fen, so 12.5 and 12.50 are the same request."""
    fields = body.model_dump(mode="json")
    fields["amount_fen"] = fen(fields.pop("amount_cny"))
    return {"op": op, "date": date.isoformat(), **fields}


def _at(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def collect(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    idempotency_key: str,
    date: dt.date,
    body: CollectionCreate,
) -> tuple[CollectionPublic, bool]:
    """Record money taken at a stop the crew has reached; (record, created)."""
    order = order_by_external_id(session, body.order, principal)
    stop = planned_stop(session, order, date)
    require_own_crew(principal, stop.vehicle_code)
    vehicle_code = stop.vehicle_code
    local = local_settings(session=session, settings=settings, area=order.area_code)
    cap = cash_cap_fen(session=session, settings=local, vehicle_code=vehicle_code)
    amount = fen(body.amount_cny)

    def build(locked: Session) -> NewEntry:
        rows = list(effective(entries(locked, area=order.area_code, date=date, order_id=order.id)))
        _collectable(rows, order)
        collection_rules(
            locked, date=date, order=order, vehicle_code=vehicle_code, body=body, cap=cap
        )
        payload = {"amount_fen": amount, "method": body.method.value, "at": _at(body.at)}
        return NewEntry(
            date=date,
            kind=Kind.COLLECTED,
            vehicle_code=vehicle_code,
            order_id=order.id,
            payload=payload,
        )

    entry, created = append(
        session,
        principal=principal,
        idempotency_key=idempotency_key,
        request=_request("collection", date, body),
        date=date,
        area=order.area_code,
        build=build,
    )
    public = CollectionPublic(
        **CollectionPublic.entry_fields(entry),
        order=order.external_id,
        method=PaymentMethod(entry.payload["method"]),
    )
    return public, created


def collection_rules(
    locked: Session,
    *,
    date: dt.date,
    order: Order,
    vehicle_code: str,
    body: CollectionCreate,
    cap: int,
    leaving_out: int | None = None,
) -> None:
    """What a collection's amount must keep to, also when finance corrects one (the entry
    `leaving_out`): never more than the order's due, cash never above the cap."""
    amount = fen(body.amount_cny)
    rows = effective(entries(locked, area=order.area_code, date=date, order_id=order.id))
    _at_most_due([row for row in rows if row.id != leaving_out], order, amount)
    if body.method is PaymentMethod.CASH:
        on_board = crew_cash(
            locked,
            area=order.area_code,
            date=date,
            vehicle_code=vehicle_code,
            leaving_out=leaving_out,
        ).on_board
        under_cap(date, vehicle_code, on_board, amount, cap)


def under_cap(date: dt.date, vehicle_code: str, on_board: int, amount: int, cap: int) -> None:
    if on_board + amount > cap:
        raise RuleBroken(
            f"collecting {yuan(amount)} in cash would take {vehicle_code}'s cash on board to "
            f"{yuan(on_board + amount)}, above its cap of {yuan(cap)}; deposit cash at a bank "
            f"first (POST /cash/{date}/deposits)",
            field="amount_cny",
            rule="cash_cap",
        )


def arrived_first(rows: Sequence[LedgerEntry], external_id: str, *, field: str) -> None:
    """Money is taken at a stop only once the arrival there is recorded."""
    if not any(row.kind == Kind.ARRIVED for row in rows):
        raise RuleBroken(
            f"record the arrival at {external_id} before collecting",
            field=field,
            rule="arrival_first",
        )


def _collectable(rows: Sequence[LedgerEntry], order: Order) -> None:
    """When money is taken: after the arrival, before the customer signs for it."""
    arrived_first(rows, order.external_id, field="order")
    if any(row.kind == Kind.SIGNED_OFF for row in rows):
        # The customer signed for the amount collected; more afterwards would not match it.
        raise RuleBroken(
            f"{order.external_id} is already signed off; collect before the sign-off",
            field="order",
            rule="before_sign_off",
        )


def _at_most_due(rows: Sequence[LedgerEntry], order: Order, amount: int) -> None:
    due = fen(order.cash_cny)
    collected = sum(amount_fen(row) for row in rows if row.kind == Kind.COLLECTED)
    if collected + amount > due:
        owed = (
            f"is due {yuan(due)} and {yuan(collected)} is collected; "
            f"at most {yuan(max(due - collected, 0))} more"
            if due
            else "has nothing to collect"
        )
        raise RuleBroken(f"{order.external_id} {owed}", field="amount_cny", rule="at_most_due")


def _crew_names(session: Session, date: dt.date, vehicle_code: str) -> list[str]:
    return [member.name for member in crews_on(session=session, date=date).get(vehicle_code, [])]


def at_most_on_board(
    session: Session,
    area: str,
    date: dt.date,
    vehicle_code: str,
    amount: int,
    leaving_out: int | None = None,
) -> None:
    """Cash paid in (banked or handed over) is at most the cash on board, the entry a
    correction replaces (`leaving_out`) left out."""
    cash = crew_cash(
        session, area=area, date=date, vehicle_code=vehicle_code, leaving_out=leaving_out
    )
    on_board = cash.on_board
    if amount > on_board:
        raise RuleBroken(
            f"{vehicle_code} has {yuan(on_board)} on board, less than {yuan(amount)}",
            field="amount_cny",
            rule="at_most_on_board",
        )


def two_of_the_crew(
    session: Session, date: dt.date, vehicle_code: str, names: Sequence[str]
) -> list[str]:
    """A bank trip is made in pairs (one carries, one watches), both of that day's crew."""
    members = list(dict.fromkeys(names))
    if len(names) != 2 or len(members) != 2:
        raise RuleBroken(
            "a bank deposit is made by exactly two different crew members",
            field="members",
            rule="two_people",
        )
    crew = _crew_names(session, date, vehicle_code)
    strangers = [name for name in members if name not in crew]
    if strangers:
        raise RuleBroken(
            f"{', '.join(strangers)} not on {vehicle_code}'s crew on {date} "
            f"({', '.join(crew) or 'nobody'})",
            field="members",
            rule="crew_members",
        )
    return members


def one_of_the_crew(session: Session, date: dt.date, vehicle_code: str, name: str) -> None:
    """Cash is handed to finance by a member of that day's crew."""
    crew = _crew_names(session, date, vehicle_code)
    if name not in crew:
        raise RuleBroken(
            f"{name} is not on {vehicle_code}'s crew on {date} ({', '.join(crew) or 'nobody'})",
            field="handed_by",
            rule="crew_member",
        )


def deposit(
    *,
    session: Session,
    principal: Principal,
    idempotency_key: str,
    date: dt.date,
    body: DepositCreate,
) -> tuple[DepositPublic, bool]:
    """Record cash paid in at a bank by two members of the crew; (record, created). At the
    planned stop the crew banks all its cash; elsewhere the deposit is marked unplanned."""
    require_own_crew(principal, body.vehicle_code)
    area = crew_area(session, principal, body.vehicle_code)
    members = two_of_the_crew(session, date, body.vehicle_code, body.members)
    amount = fen(body.amount_cny)

    def build(locked: Session) -> NewEntry:
        at_most_on_board(locked, area, date, body.vehicle_code, amount)
        stop = deposit_stops.planned_stop(
            locked,
            area=area,
            date=date,
            vehicle_code=body.vehicle_code,
            bank_code=body.bank_code,
            plan_deposit_id=body.plan_deposit_id,
        )
        if stop is not None:
            deposit_stops.all_on_board(
                locked, area=area, date=date, vehicle_code=body.vehicle_code, amount=amount
            )
        payload = {
            "amount_fen": amount,
            "members": members,
            "bank_reference": body.bank_reference,
            "at": _at(body.at),
            "bank_code": stop.bank_code if stop is not None else body.bank_code,
            "plan_deposit_id": stop.id if stop is not None else None,
            "planned": stop is not None,
        }
        return NewEntry(
            date=date, kind=Kind.DEPOSITED, vehicle_code=body.vehicle_code, payload=payload
        )

    entry, created = append(
        session,
        principal=principal,
        idempotency_key=idempotency_key,
        request=_request("deposit", date, body),
        date=date,
        area=area,
        build=build,
    )
    public = DepositPublic(
        **DepositPublic.entry_fields(entry),
        members=entry.payload["members"],
        bank_reference=entry.payload["bank_reference"],
        bank_code=entry.payload.get("bank_code"),
        plan_deposit_id=entry.payload.get("plan_deposit_id"),
        planned=bool(entry.payload.get("planned")),
    )
    return public, created


def hand_over(
    *,
    session: Session,
    principal: Principal,
    idempotency_key: str,
    date: dt.date,
    body: HandoverCreate,
) -> tuple[HandoverPublic, bool]:
    """Record cash a crew member handed to finance at the warehouse; (record, created)."""
    area = crew_area(session, principal, body.vehicle_code)
    one_of_the_crew(session, date, body.vehicle_code, body.handed_by)
    amount = fen(body.amount_cny)

    def build(locked: Session) -> NewEntry:
        at_most_on_board(locked, area, date, body.vehicle_code, amount)
        payload = {
            "amount_fen": amount,
            "handed_by": body.handed_by,
            "received_by": body.received_by,
            "at": _at(body.at),
        }
        return NewEntry(
            date=date, kind=Kind.HANDED_TO_FINANCE, vehicle_code=body.vehicle_code, payload=payload
        )

    entry, created = append(
        session,
        principal=principal,
        idempotency_key=idempotency_key,
        request=_request("handover", date, body),
        date=date,
        area=area,
        build=build,
    )
    public = HandoverPublic(
        **HandoverPublic.entry_fields(entry),
        handed_by=entry.payload["handed_by"],
        received_by=entry.payload["received_by"],
    )
    return public, created


def on_board(
    *, session: Session, settings: ServiceSettings, area: str, date: dt.date, vehicle_code: str
) -> OnBoardPublic:
    """The crew's cash of the day in its `area`, whose own `settings` (local_settings) set
    the cap unless the vehicle has one."""
    cap = cash_cap_fen(session=session, settings=settings, vehicle_code=vehicle_code)
    cash = crew_cash(session, area=area, date=date, vehicle_code=vehicle_code)
    return OnBoardPublic(
        date=date,
        vehicle_code=vehicle_code,
        cash_on_board_cny=cny(cash.on_board),
        cap_cny=cny(cap),
        room_cny=cny(max(cap - cash.on_board, 0)),
        collected_cash_cny=cny(cash.collected_cash),
        collected_transfer_cny=cny(cash.collected_transfer),
        deposited_cny=cny(cash.deposited),
        handed_over_cny=cny(cash.handed_over),
        fee_cash_cny=cny(cash.fee_cash),
        fee_transfer_cny=cny(cash.fee_transfer),
    )
