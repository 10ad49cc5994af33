"""日清日结: every crew's expected, collected and paid-in cash of the day, the mismatches
named, and each corrected money record listed until finance has accepted it. Each
reconciliation is stored as a RECONCILED ledger entry, so the chain holds what finance saw.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, select

from api.auth.service import Principal
from api.cash.ledger import CrewCash, day_cash, money_corrections
from api.cash.models import (
    CrewReconciliationPublic,
    MismatchPublic,
    MoneyCorrectionPublic,
    ReconciliationPublic,
    cny,
)
from api.core.errors import NotFound
from api.drivers.service import published_plan
from api.fees.ledger import uncollected, visit_fees
from api.plans.models import PlanRoute
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import NewEntry, append, effective, entries


def reconciliation_table(session: Session, *, area: str, date: dt.date) -> dict[str, Any]:
    """Per crew on the area's published plan: expected, collected, paid in, left; in fen."""
    plan = published_plan(session=session, date=date, area=area)
    codes = session.exec(select(PlanRoute.vehicle_code).where(PlanRoute.plan_id == plan.id)).all()
    crews = day_cash(session, area=area, date=date, vehicle_codes=codes)
    for code, tickets in uncollected(visit_fees(session, area=area, date=date)).items():
        crews.setdefault(code, CrewCash()).uncollected_fees += tickets
    total = CrewCash()
    for cash in crews.values():
        total.add(cash)
    rows = [_crew_row(code, crews[code]) for code in sorted(crews)]
    corrections = money_corrections(session, area=area, date=date)
    for row in rows:
        row["mismatches"] += _not_accepted(date, corrections, row["vehicle_code"])
    return {
        "plan_id": plan.id,
        "plan_version": plan.version,
        "crews": rows,
        "total": _crew_row("total", total),
        "corrections": corrections,
        "balanced": not any(row["mismatches"] for row in rows),
    }


def _not_accepted(
    date: dt.date, corrections: Sequence[dict[str, Any]], vehicle_code: str
) -> list[dict[str, str]]:
    """A corrected money record counts once finance has accepted it; till then it is named."""
    return [
        {
            "code": "correction_not_accepted",
            "detail": f"{c['kind']} record {c['corrects']} corrected by {c['by']} as record "
            f"{c['id']}: finance has not accepted it (POST /cash/{date}/corrections/"
            f"{c['id']}/accept)",
        }
        for c in corrections
        if c["vehicle_code"] == vehicle_code and c["accepted_by"] is None
    ]


def _crew_row(vehicle_code: str, cash: CrewCash) -> dict[str, Any]:
    return {
        "vehicle_code": vehicle_code,
        "expected_fen": cash.expected,
        "collected_cash_fen": cash.collected_cash,
        "collected_transfer_fen": cash.collected_transfer,
        "deposited_fen": cash.deposited,
        "handed_over_fen": cash.handed_over,
        "on_board_fen": cash.on_board,
        "fee_cash_fen": cash.fee_cash,
        "fee_transfer_fen": cash.fee_transfer,
        "partial_orders": sorted(cash.partial_orders),
        "uncollected_fees": sorted(cash.uncollected_fees),
        "mismatches": cash.mismatches(),
    }


def reconcile(
    *, session: Session, principal: Principal, idempotency_key: str, area: str, date: dt.date
) -> tuple[ReconciliationPublic, bool]:
    """Compute the area's reconciliation of the day and store it as a RECONCILED entry in the
    area's chain; (it, created)."""
    published_plan(session=session, date=date, area=area)  # 404 before the lock is taken

    def build(locked: Session) -> NewEntry:
        table = reconciliation_table(locked, area=area, date=date)
        return NewEntry(date=date, kind=Kind.RECONCILED, payload=table)

    entry, created = append(
        session,
        principal=principal,
        idempotency_key=idempotency_key,
        request={"op": "reconciliation", "date": date.isoformat(), "area": area},
        date=date,
        area=area,
        build=build,
    )
    return reconciliation_public(entry), created


def latest_reconciliation(*, session: Session, area: str, date: dt.date) -> ReconciliationPublic:
    rows = list(effective(entries(session, area=area, date=date, kinds=[Kind.RECONCILED])))
    if not rows:
        raise NotFound(f"no reconciliation is stored for {date} yet")
    return reconciliation_public(rows[-1])


def reconciliation_public(entry: LedgerEntry) -> ReconciliationPublic:
    table = entry.payload
    return ReconciliationPublic(
        id=entry.id or 0,
        area_code=entry.area_code,
        date=entry.date,
        plan_id=table["plan_id"],
        plan_version=table["plan_version"],
        balanced=table["balanced"],
        crews=[_crew_public(row) for row in table["crews"]],
        total=_crew_public(table["total"]),
        corrections=[MoneyCorrectionPublic(**c) for c in table.get("corrections", [])],
        by=entry.by,
        recorded_at=entry.recorded_at,
        hash=entry.hash,
    )


def _crew_public(row: dict[str, Any]) -> CrewReconciliationPublic:
    amounts = {
        k.removesuffix("_fen") + "_cny": cny(v) for k, v in row.items() if k.endswith("_fen")
    }
    return CrewReconciliationPublic(
        **amounts,
        vehicle_code=row["vehicle_code"],
        partial_orders=row["partial_orders"],
        uncollected_fees=row.get("uncollected_fees", []),
        mismatches=[MismatchPublic(**m) for m in row["mismatches"]],
    )
