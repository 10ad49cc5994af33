"""Deposit stops on the dispatch sheet: where two of the crew bank the cash, and when."""

from __future__ import annotations

from dataclasses import dataclass

from api.plans.models import PlanDeposit
from optimizer.explain import hhmm


@dataclass(frozen=True)
class SheetDeposit:
    """A planned stop at a bank: two of the crew hand over all the cash on board."""

    after: int  # stops before it
    arrival: str
    start: str
    departure: str
    bank: str  # "工商银行成华支行 (ICBC-CH)"
    amount_cny: float  # about this much: the cash on board when planned

    def csv_cells(self) -> tuple[object, ...]:
        """A sheet row from `stop` on; no stop number, as the visits keep theirs."""
        what = f"存款 Bank deposit: {self.bank}"
        return (
            "",
            self.arrival,
            self.start,
            "",
            "",
            what,
            "",
            "",
            "",
            "",
            f"{self.amount_cny:.2f}",
        )

    def html_cells(self) -> tuple[object, ...]:
        what = f"存款 {self.bank}"
        note = f"{self.start}–{self.departure}: two of the crew bank about ¥{self.amount_cny:,.0f}"
        return ("存", self.arrival, self.start, "", "", what, "", "", note, "")


def sheet_deposit(row: PlanDeposit) -> SheetDeposit:
    return SheetDeposit(
        after=row.after,
        arrival=hhmm(row.arrival),
        start=hhmm(row.start),
        departure=hhmm(row.departure),
        bank=f"{row.bank_name} ({row.bank_code})" if row.bank_name else row.bank_code,
        amount_cny=round(row.amount_fen / 100, 2),
    )
