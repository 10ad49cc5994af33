"""Requests and answers of cash on board: collections, deposits, handovers, reconciliation.

Amounts come in and go out as CNY with at most two decimals; the ledger keeps integer fen,
so no sum of many small payments ever drifts by a rounding error.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, StringConstraints
from sqlmodel import Field, SQLModel

from api.records.models import LedgerEntry

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
# Decimal, not float: 0.1 + 0.2 must be exactly 30 fen, and a third decimal is refused.
MAX_DIGITS = 11  # up to ¥999,999,999.99


class PaymentMethod(StrEnum):
    CASH = "cash"  # goes into the truck's cash on board
    TRANSFER = "transfer"  # WeChat, Alipay or bank: never on board


class CollectionCreate(SQLModel):
    order: str = Field(min_length=1, max_length=64, description="the order's external id")
    amount_cny: Decimal = Field(gt=0, max_digits=MAX_DIGITS, decimal_places=2)
    method: PaymentMethod
    at: AwareDatetime | None = Field(default=None, description="device time, with its offset")


class DepositCreate(SQLModel):
    vehicle_code: Code
    amount_cny: Decimal = Field(gt=0, max_digits=MAX_DIGITS, decimal_places=2)
    members: list[Name] = Field(max_length=6, description="the two crew members at the bank")
    bank_reference: str = Field(min_length=1, max_length=100, description="the bank's slip no.")
    at: AwareDatetime
    bank_code: Code | None = Field(default=None, description="the branch banked at")
    plan_deposit_id: int | None = Field(
        default=None, ge=1, description="the planned deposit stop (GET /driver/route deposits)"
    )


class HandoverCreate(SQLModel):
    vehicle_code: Code
    amount_cny: Decimal = Field(ge=0, max_digits=MAX_DIGITS, decimal_places=2)
    handed_by: Name = Field(description="the crew member handing the cash over")
    received_by: Name = Field(description="the finance clerk counting it")
    at: AwareDatetime


def cny(fen: int) -> float:
    return round(fen / 100, 2)


class CashEntryPublic(SQLModel):
    """What every cash record shows: the ledger entry and its amount."""

    id: int
    seq: int
    date: dt.date
    kind: str
    vehicle_code: str
    amount_cny: float
    at: dt.datetime | None  # device time
    by: str
    recorded_at: str  # server time, UTC
    hash: str

    @classmethod
    def entry_fields(cls, entry: LedgerEntry) -> dict[str, Any]:
        at = entry.payload.get("at")
        return {
            "id": entry.id,
            "seq": entry.seq,
            "date": entry.date,
            "kind": entry.kind,
            "vehicle_code": entry.vehicle_code,
            "amount_cny": cny(int(entry.payload["amount_fen"])),
            "at": dt.datetime.fromisoformat(at) if at else None,
            "by": entry.by,
            "recorded_at": entry.recorded_at,
            "hash": entry.hash,
        }


class CollectionPublic(CashEntryPublic):
    order: str
    method: PaymentMethod


class DepositPublic(CashEntryPublic):
    members: list[str]
    bank_reference: str
    bank_code: str | None = None
    plan_deposit_id: int | None = None  # the planned stop it was made at
    planned: bool = False  # False: a bank the published route did not name


class HandoverPublic(CashEntryPublic):
    handed_by: str
    received_by: str


class OnBoardPublic(SQLModel):
    date: dt.date
    vehicle_code: str
    cash_on_board_cny: float
    cap_cny: float
    room_cny: float  # how much more cash may be collected before a deposit
    collected_cash_cny: float
    collected_transfer_cny: float
    deposited_cny: float
    handed_over_cny: float
    fee_cash_cny: float = 0.0  # service fees in cash, part of the cash on board
    fee_transfer_cny: float = 0.0


class MismatchPublic(SQLModel):
    # collected_not_expected, left_on_board, paid_in_exceeds_collected, fee_not_collected,
    # correction_not_accepted
    code: str
    detail: str


class MoneyCorrectionPublic(SQLModel):
    """A corrected money record: the day balances once finance has accepted each."""

    id: int  # the correction, as it now stands
    corrects: int  # the record it replaces
    kind: str
    vehicle_code: str
    by: str
    reason: str
    accepted_by: str | None


class CrewReconciliationPublic(SQLModel):
    vehicle_code: str  # "total" on the total row
    expected_cny: float  # cash_cny of the orders delivered, partial ones in full
    collected_cash_cny: float
    collected_transfer_cny: float
    deposited_cny: float
    handed_over_cny: float
    on_board_cny: float
    # Service fees collected on site; their cash is in on_board until handed over.
    fee_cash_cny: float = 0.0
    fee_transfer_cny: float = 0.0
    partial_orders: list[str]  # delivered in part: finance checks what the customer owes
    uncollected_fees: list[str] = []  # tickets whose paid visit was reported unpaid
    mismatches: list[MismatchPublic]


class ReconciliationPublic(SQLModel):
    id: int
    area_code: str  # each area reconciles its own crews, in its own chain
    date: dt.date
    plan_id: int
    plan_version: int
    balanced: bool  # no crew has a mismatch, every corrected money record accepted
    crews: list[CrewReconciliationPublic]
    total: CrewReconciliationPublic
    corrections: list[MoneyCorrectionPublic] = []
    by: str
    recorded_at: str
    hash: str
