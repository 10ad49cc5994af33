"""Deposit stops of a plan: the banks a planning day offers, and a route's deposits as rows.

A deposit row copies its branch's name and place, so a plan shows where its crew went even
after the branch is changed or closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from sqlmodel import Session, col, select

from api.plans.models import DepositStopPublic, PlanDeposit
from optimizer.data import Bank, ProblemData, bank_of, deposit_at, is_deposit
from optimizer.explain import hhmm
from optimizer.model import Model
from optimizer.result import Deposit, Route
from optimizer.settings import BankBranchSetting, seconds_of_day

DAY = 24 * 3600


def add_banks(model: Model, banks: Iterable[BankBranchSetting]) -> None:
    """The branches where the day's crews may deposit, with their hours and counter time."""
    for bank in banks:
        model.add_bank(
            bank.code,
            lat=bank.lat,
            lon=bank.lon,
            hours=(seconds_of_day(bank.opens), seconds_of_day(bank.closes)),
            service_s=bank.service_minutes * 60,
            name=bank.name,
        )


def add_stored_banks(model: Model, deposits: Sequence[PlanDeposit]) -> None:
    """The banks of a stored plan's deposits, to draw: their hours no longer matter."""
    for row in {row.bank_code: row for row in deposits}.values():
        model.add_bank(row.bank_code, lat=row.lat, lon=row.lon, hours=(0, DAY), name=row.bank_name)


def deposit_rows(*, plan_id: int, route: Route, banks: Sequence[Bank]) -> list[PlanDeposit]:
    """A route's deposit stops as rows, each with its branch's name and place copied in."""
    by_id = {bank.id: bank for bank in banks}
    rows = []
    for deposit in route.deposits:
        bank = by_id.get(deposit.bank_id)
        if bank is None:
            raise ValueError(f"{route.vehicle_id} deposits at unknown bank {deposit.bank_id!r}")
        rows.append(
            PlanDeposit(
                plan_id=plan_id,
                vehicle_code=route.vehicle_id,
                after=deposit.after,
                bank_code=bank.id,
                bank_name=bank.name,
                lat=bank.lat,
                lon=bank.lon,
                arrival=deposit.arrival,
                start=deposit.start,
                departure=deposit.departure,
                amount_fen=deposit.amount,
                distance_from_previous_m=deposit.distance_from_previous,
            )
        )
    return rows


def stored_deposits(rows: Sequence[PlanDeposit]) -> dict[str, tuple[Deposit, ...]]:
    """Vehicle code -> its stored deposit stops in route order, as the optimizer's Deposits."""
    by_vehicle: dict[str, list[Deposit]] = {}
    for row in sorted(rows, key=lambda r: (r.vehicle_code, r.after, r.arrival)):
        by_vehicle.setdefault(row.vehicle_code, []).append(
            Deposit(
                bank_id=row.bank_code,
                after=row.after,
                arrival=row.arrival,
                start=row.start,
                departure=row.departure,
                amount=row.amount_fen,
                distance_from_previous=row.distance_from_previous_m,
            )
        )
    return {vehicle: tuple(deposits) for vehicle, deposits in by_vehicle.items()}


def deposits_by_vehicle(*, session: Session, plan_id: int) -> dict[str, list[DepositStopPublic]]:
    """Vehicle code -> the plan's deposit stops on its route, in route order, to read."""
    return {
        vehicle: [deposit_public(row) for row in rows]
        for vehicle, rows in plan_deposits(session=session, plan_id=plan_id).items()
    }


def deposit_public(row: PlanDeposit) -> DepositStopPublic:
    return DepositStopPublic(
        id=row.id or 0,
        after=row.after,
        bank_code=row.bank_code,
        bank_name=row.bank_name,
        arrival=hhmm(row.arrival),
        start=hhmm(row.start),
        departure=hhmm(row.departure),
        amount_cny=round(row.amount_fen / 100, 2),
        distance_from_previous_km=round(row.distance_from_previous_m / 1000, 1),
    )


class _Placed(Protocol):
    @property
    def after(self) -> int: ...


Line = TypeVar("Line")
Placed = TypeVar("Placed", bound=_Placed)


def in_route_order(stops: Sequence[Line], deposits: Sequence[Placed]) -> list[Line | Placed]:
    """A route's stops with its deposit stops put in place: each after `after` stops."""
    placed = sorted(deposits, key=lambda deposit: deposit.after)
    lines: list[Line | Placed] = []
    for done, stop in enumerate(stops):
        lines += [deposit for deposit in placed if deposit.after == done]
        lines.append(stop)
    lines += [deposit for deposit in placed if deposit.after >= len(stops)]
    return lines


def plan_deposits(*, session: Session, plan_id: int) -> dict[str, list[PlanDeposit]]:
    """Vehicle code -> the plan's deposit rows on its route, in route order."""
    query = (
        select(PlanDeposit)
        .where(PlanDeposit.plan_id == plan_id)
        .order_by(col(PlanDeposit.vehicle_code), col(PlanDeposit.after), col(PlanDeposit.arrival))
    )
    found: dict[str, list[PlanDeposit]] = {}
    for row in session.exec(query):
        found.setdefault(row.vehicle_code, []).append(row)
    return found


def route_order(
    data: ProblemData, visits: Sequence[str], deposits: Sequence[tuple[int, str]]
) -> list[int] | None:
    """Visit ids and (stops before it, bank id) deposits as the optimizer's order of indices;
    None when one is no longer on the day (the checker names it)."""
    visit_index = {visit.id: index for index, visit in enumerate(data.visits)}
    bank_index = {bank.id: index for index, bank in enumerate(data.banks)}
    if any(v not in visit_index for v in visits) or any(b not in bank_index for _, b in deposits):
        return None
    order: list[int] = []
    for position in range(len(visits) + 1):
        order += [deposit_at(bank_index[b]) for after, b in deposits if after == position]
        order += [visit_index[visits[position]]] if position < len(visits) else []
    return order


def anchored(data: ProblemData, order: Sequence[int]) -> list[tuple[str | None, str]]:
    """The deposits of an optimizer order as (the visit each follows, bank id)."""
    found: list[tuple[str | None, str]] = []
    last: str | None = None
    for item in order:
        if is_deposit(item):
            found.append((last, data.banks[bank_of(item)].id))
        else:
            last = data.visits[item].id
    return found
