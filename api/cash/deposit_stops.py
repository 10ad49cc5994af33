"""Which planned bank stop a deposit is made at (delivery rules, art. 7).

A crew banks at the stop its published plan gives it, and hands over everything on board
there, so the cash after it is zero. A crew may also need a bank the plan did not name (a
detour, a branch closed early): that deposit is still recorded, marked unplanned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, col, select

from api.cash.ledger import crew_cash, yuan
from api.core.errors import RuleBroken
from api.plans.models import Plan, PlanDeposit, PlanStatus
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import effective, entries


def _planned_rows(
    session: Session, area: str, date: dt.date, vehicle_code: str
) -> list[PlanDeposit]:
    """The crew's deposit stops on its area's published plan of the date, in route order."""
    plan_ids = select(Plan.id).where(
        Plan.area_code == area, Plan.date == date, Plan.status == PlanStatus.PUBLISHED
    )
    query = (
        select(PlanDeposit)
        .where(col(PlanDeposit.plan_id).in_(plan_ids), PlanDeposit.vehicle_code == vehicle_code)
        .order_by(col(PlanDeposit.after), col(PlanDeposit.id))
    )
    return list(session.exec(query))


def planned_stop(
    locked: Session,
    *,
    area: str,
    date: dt.date,
    vehicle_code: str,
    bank_code: str | None,
    plan_deposit_id: int | None,
) -> PlanDeposit | None:
    """The planned stop this deposit is made at: the one named, else the crew's first stop
    at this bank not yet banked at; None for a deposit the plan did not foresee."""
    stops = _planned_rows(locked, area, date, vehicle_code)
    if plan_deposit_id is not None:
        named = next((stop for stop in stops if stop.id == plan_deposit_id), None)
        if named is None:
            raise RuleBroken(
                f"deposit stop {plan_deposit_id} is not on {vehicle_code}'s published route "
                f"of {date}",
                field="plan_deposit_id",
                rule="planned_deposit",
            )
        if bank_code is not None and bank_code != named.bank_code:
            raise RuleBroken(
                f"deposit stop {plan_deposit_id} is at {named.bank_code}, not {bank_code}",
                field="bank_code",
                rule="planned_deposit",
            )
        return named
    if bank_code is None:
        return None
    used = _banked_stops(entries(locked, area=area, date=date, vehicle_code=vehicle_code))
    return next((s for s in stops if s.bank_code == bank_code and s.id not in used), None)


def _banked_stops(rows: Sequence[LedgerEntry]) -> set[int]:
    return {
        row.payload["plan_deposit_id"]
        for row in effective(rows)
        if row.kind == Kind.DEPOSITED and isinstance(row.payload.get("plan_deposit_id"), int)
    }


def all_on_board(
    locked: Session, *, area: str, date: dt.date, vehicle_code: str, amount: int
) -> None:
    """At a planned stop the crew banks everything on board: afterwards it carries nothing."""
    on_board = crew_cash(locked, area=area, date=date, vehicle_code=vehicle_code).on_board
    if amount != on_board:
        raise RuleBroken(
            f"at its planned bank stop {vehicle_code} deposits all its cash on board, "
            f"{yuan(on_board)}, not {yuan(amount)}",
            field="amount_cny",
            rule="deposit_all",
        )
