"""Requests and answers of paid service: the quote, a manager's approval, the fee collected.

Amounts are integer fen inside (the ledger's unit) and CNY with two decimals outside.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, StringConstraints, model_validator
from sqlmodel import Field, SQLModel

from api.cash.models import MAX_DIGITS, CashEntryPublic, PaymentMethod, cny

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class PartUse(SQLModel):
    """Parts fitted at a visit: a code of the price list and how many."""

    code: Code
    quantity: int = Field(ge=1, le=1000)


@dataclass(frozen=True, slots=True)
class QuoteLine:
    code: str
    name: str
    unit_fen: int  # 0 under warranty
    quantity: int

    @property
    def line_fen(self) -> int:
        return self.unit_fen * self.quantity


@dataclass(frozen=True, slots=True)
class Quote:
    """What a visit costs the customer before any discount, in fen."""

    ticket_id: int
    service_type: str
    on: dt.date
    under_warranty: bool
    warranty_until: dt.date | None  # None: judged without a warranty card (a take-back's flag)
    labour_fen: int
    lines: tuple[QuoteLine, ...]
    reason: str  # why free, or why charged

    @property
    def parts_fen(self) -> int:
        return sum(line.line_fen for line in self.lines)

    @property
    def total_fen(self) -> int:
        return self.labour_fen + self.parts_fen

    def as_charge(self) -> dict[str, Any]:
        """The quote as a record states it (a take-back's return): what collection expects."""
        lines = [
            {"code": x.code, "name": x.name, "unit_fen": x.unit_fen, "quantity": x.quantity}
            for x in self.lines
        ]
        until = None if self.warranty_until is None else self.warranty_until.isoformat()
        return {
            "service_type": self.service_type,
            "under_warranty": self.under_warranty,
            "warranty_until": until,
            "labour_fen": self.labour_fen,
            "parts": lines,
            "parts_fen": self.parts_fen,
            "amount_fen": self.total_fen,
            "reason": self.reason,
        }

    @classmethod
    def of_charge(cls, *, ticket_id: int, on: dt.date, charge: dict[str, Any]) -> Quote:
        """The quote a record stated with `as_charge`, priced as it was on that day."""
        until = charge.get("warranty_until")
        return cls(
            ticket_id=ticket_id,
            service_type=charge.get("service_type", "repair"),
            on=on,
            under_warranty=bool(charge.get("under_warranty", charge["amount_fen"] == 0)),
            warranty_until=None if until is None else dt.date.fromisoformat(until),
            labour_fen=charge["labour_fen"],
            lines=tuple(QuoteLine(**line) for line in charge.get("parts", [])),
            reason=charge.get("reason", "the repair card's hours and parts"),
        )


class QuoteLinePublic(SQLModel):
    code: str
    name: str
    unit_cny: float
    quantity: int
    line_cny: float


class QuotePublic(SQLModel):
    ticket_id: int
    service_type: str
    on: dt.date  # the service day the warranty is judged on
    under_warranty: bool
    warranty_until: dt.date | None
    labour_cny: float
    parts: list[QuoteLinePublic]
    parts_cny: float
    total_cny: float
    reason: str

    @classmethod
    def of(cls, quote: Quote) -> QuotePublic:
        lines = [
            QuoteLinePublic(
                code=line.code,
                name=line.name,
                unit_cny=cny(line.unit_fen),
                quantity=line.quantity,
                line_cny=cny(line.line_fen),
            )
            for line in quote.lines
        ]
        return cls(
            ticket_id=quote.ticket_id,
            service_type=quote.service_type,
            on=quote.on,
            under_warranty=quote.under_warranty,
            warranty_until=quote.warranty_until,
            labour_cny=cny(quote.labour_fen),
            parts=lines,
            parts_cny=cny(quote.parts_fen),
            total_cny=cny(quote.total_fen),
            reason=quote.reason,
        )


class ApprovalKind(StrEnum):
    DISCOUNT = "discount"  # part of the fee off
    WAIVER = "waiver"  # the whole fee off


class FeeApprovalCreate(SQLModel):
    kind: ApprovalKind
    discount_cny: Decimal | None = Field(
        default=None, gt=0, max_digits=MAX_DIGITS, decimal_places=2, description="discounts only"
    )
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _amount_for_discounts(self) -> FeeApprovalCreate:
        if (self.kind is ApprovalKind.DISCOUNT) != (self.discount_cny is not None):
            raise ValueError("discount_cny is given for a discount, and only for a discount")
        return self


class FeeApprovalPublic(SQLModel):
    id: int
    date: dt.date
    ticket_id: int
    vehicle_code: str  # the technician's
    kind: ApprovalKind
    discount_cny: float | None  # None: the whole fee
    reason: str
    approved_by: str
    recorded_at: str
    hash: str


class FeeCollectionCreate(SQLModel):
    parts: list[PartUse] = Field(default_factory=list, max_length=100)
    amount_cny: Decimal = Field(gt=0, max_digits=MAX_DIGITS, decimal_places=2)
    method: PaymentMethod
    at: AwareDatetime | None = Field(default=None, description="device time, with its offset")


class FeeCollectionPublic(CashEntryPublic):
    ticket_id: int
    method: PaymentMethod
    labour_cny: float
    parts_cny: float
    quote_cny: float
    discount_cny: float
    approval_id: int | None
