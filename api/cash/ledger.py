"""A crew's money of the day, summed from the ledger: the one definition of cash on board.

Cash on board = sum(COLLECTED and FEE_COLLECTED cash) − DEPOSITED − HANDED_TO_FINANCE, over
the entries as corrected (a correction has the kind of the entry it replaces, so filtering by
kind keeps it). A technician's service fees ride with the delivery cash until handed over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from api.cash.models import PaymentMethod
from api.orders.models import Order
from api.records.kinds import MONEY, Kind
from api.records.models import LedgerEntry
from api.records.service import effective, entries

CASH_KINDS = (Kind.COLLECTED, Kind.FEE_COLLECTED, Kind.DEPOSITED, Kind.HANDED_TO_FINANCE)
OUTCOME_KINDS = (Kind.DELIVERED, Kind.FAILED)


def fen(amount_cny: Decimal | float) -> int:
    return int(round(Decimal(str(amount_cny)) * 100))


def yuan(amount_fen: int) -> str:
    return f"¥{amount_fen / 100:,.2f}"


@dataclass(slots=True)
class CrewCash:
    """One crew's money of the day, in fen."""

    expected: int = 0  # cash_cny of the orders delivered
    collected_cash: int = 0
    collected_transfer: int = 0
    deposited: int = 0
    handed_over: int = 0
    partial_orders: list[str] = field(default_factory=list)
    fee_cash: int = 0  # service fees collected on site
    fee_transfer: int = 0
    uncollected_fees: list[str] = field(default_factory=list)  # tickets: paid, reported, unpaid

    @property
    def collected(self) -> int:
        return self.collected_cash + self.collected_transfer

    @property
    def cash_in(self) -> int:
        return self.collected_cash + self.fee_cash

    @property
    def on_board(self) -> int:
        return self.cash_in - self.deposited - self.handed_over

    def add(self, other: CrewCash) -> None:
        self.expected += other.expected
        self.collected_cash += other.collected_cash
        self.collected_transfer += other.collected_transfer
        self.deposited += other.deposited
        self.handed_over += other.handed_over
        self.partial_orders += other.partial_orders
        self.fee_cash += other.fee_cash
        self.fee_transfer += other.fee_transfer
        self.uncollected_fees += other.uncollected_fees

    def mismatches(self) -> list[dict[str, str]]:
        found = []
        if self.collected != self.expected:
            found.append(
                {
                    "code": "collected_not_expected",
                    "detail": f"collected {yuan(self.collected)} (cash "
                    f"{yuan(self.collected_cash)}, transfer {yuan(self.collected_transfer)}), "
                    f"expected {yuan(self.expected)} for the orders delivered",
                }
            )
        # Together these two are "collected cash ≠ deposited + handed over", told by sign.
        if self.on_board > 0:
            found.append(
                {
                    "code": "left_on_board",
                    "detail": f"{yuan(self.on_board)} collected in cash was neither "
                    "deposited nor handed to finance",
                }
            )
        elif self.on_board < 0:
            paid_in = self.deposited + self.handed_over
            found.append(
                {
                    "code": "paid_in_exceeds_collected",
                    "detail": f"deposited and handed over {yuan(paid_in)}, more than the "
                    f"{yuan(self.cash_in)} collected in cash",
                }
            )
        if self.uncollected_fees:
            found.append(
                {
                    "code": "fee_not_collected",
                    "detail": "paid service reported with no fee collected: tickets "
                    f"{', '.join(self.uncollected_fees)}",
                }
            )
        return found


def amount_fen(row: LedgerEntry) -> int:
    """The entry's amount; 0 for one an older release stored unreadable (say a list), which
    the reconciliation lists as a correction not accepted, so it never passes for balanced."""
    amount = row.payload.get("amount_fen", 0)
    return amount if isinstance(amount, int) and not isinstance(amount, bool) else 0


def _add_entry(cash: CrewCash, row: LedgerEntry) -> None:
    if row.kind == Kind.COLLECTED:
        if row.payload.get("method") == PaymentMethod.CASH:
            cash.collected_cash += amount_fen(row)
        else:
            cash.collected_transfer += amount_fen(row)
    elif row.kind == Kind.FEE_COLLECTED:
        if row.payload.get("method") == PaymentMethod.CASH:
            cash.fee_cash += amount_fen(row)
        else:
            cash.fee_transfer += amount_fen(row)
    elif row.kind == Kind.DEPOSITED:
        cash.deposited += amount_fen(row)
    elif row.kind == Kind.HANDED_TO_FINANCE:
        cash.handed_over += amount_fen(row)


def crew_cash(
    session: Session,
    *,
    area: str,
    date: dt.date,
    vehicle_code: str,
    leaving_out: int | None = None,
) -> CrewCash:
    """A crew's collections, deposits and handovers so far (no expected amount); without
    the entry `leaving_out`, which a correction is about to replace."""
    cash = CrewCash()
    rows = entries(session, area=area, date=date, vehicle_code=vehicle_code, kinds=CASH_KINDS)
    for row in effective(rows):
        if row.id != leaving_out:
            _add_entry(cash, row)
    return cash


def latest_outcomes(rows: Iterable[LedgerEntry]) -> dict[int, LedgerEntry]:
    """Order id -> its last DELIVERED or FAILED entry (rows in chain order, as corrected)."""
    return {
        row.order_id: row for row in rows if row.kind in OUTCOME_KINDS and row.order_id is not None
    }


def day_cash(
    session: Session, *, area: str, date: dt.date, vehicle_codes: Sequence[str]
) -> dict[str, CrewCash]:
    """Every crew's money of the day, expected amounts included, keyed by vehicle code.

    A crew is counted for what its own entries say it delivered and collected, so an order
    moved between crews after the fact still lands where the money went.
    """
    crews = {code: CrewCash() for code in vehicle_codes}
    kinds = (*CASH_KINDS, *OUTCOME_KINDS)
    rows = list(effective(entries(session, area=area, date=date, kinds=kinds)))
    for row in rows:
        _add_entry(crews.setdefault(row.vehicle_code, CrewCash()), row)
    delivered = [r for r in latest_outcomes(rows).values() if r.kind == Kind.DELIVERED]
    ids = [row.order_id for row in delivered]
    orders = {o.id: o for o in session.exec(select(Order).where(col(Order.id).in_(ids)))}
    for row in delivered:
        order = orders[row.order_id]
        cash = crews.setdefault(row.vehicle_code, CrewCash())
        # Orders carry one amount, not a price per item, so a partial delivery is expected
        # in full and named for finance to settle with the customer.
        cash.expected += fen(order.cash_cny)
        if not row.payload.get("complete", True):
            cash.partial_orders.append(order.external_id)
    return crews


def money_corrections(session: Session, *, area: str, date: dt.date) -> list[dict[str, Any]]:
    """Each money record of the day as corrected, and who of finance accepted it, if anyone.

    Corrected again, only the latest correction stands and needs accepting.
    """
    rows = entries(session, area=area, date=date, kinds=(*MONEY, Kind.CORRECTION_ACCEPTED))
    acceptances = [row for row in rows if row.kind == Kind.CORRECTION_ACCEPTED]
    accepted = {row.payload.get("correction"): row.by for row in acceptances}
    money = [row for row in rows if row.kind in MONEY]
    return [
        {
            "id": row.id,
            "corrects": row.corrects,
            "kind": row.kind,
            "vehicle_code": row.vehicle_code,
            "by": row.by,
            "reason": str(row.payload.get("correction_reason", "")),
            "accepted_by": accepted.get(row.id),
        }
        for row in effective(money)
        if row.corrects is not None
    ]
