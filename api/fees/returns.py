"""The fee of a visit whose goods were taken back for repair (服务作业程序, article 8): nothing
is collected while the store holds them, and at the return the charge the signed return
(GOODS_OUT) stated is the fee, priced from the repair card (api.repairs.charge).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, col, select

from api.core.errors import RuleBroken
from api.fees.models import PartUse, Quote
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.repairs.models import GoodsStatus, TakeBack
from api.tickets.models import Ticket


def require_goods_back(session: Session, ticket: Ticket) -> None:
    """No fee while the ticket's goods are held: the repair is charged on the return day."""
    query = select(TakeBack).where(
        TakeBack.ticket_id == ticket.id, col(TakeBack.status) != GoodsStatus.OUT
    )
    held = session.exec(query).first()
    if held is not None:
        raise RuleBroken(
            f"the goods of ticket {ticket.id} are held for repair (receipt {held.receipt_no}); "
            f"the repair is charged at their signed return (POST /repairs/{held.id}/return)",
            field="ticket_id",
            rule="charged_on_return",
        )


def return_quote(
    rows: Sequence[LedgerEntry], *, ticket: Ticket, date: dt.date, parts: Sequence[PartUse]
) -> Quote | None:
    """The charge the visit's signed return stated; None for a visit that returned nothing."""
    returned = next((row for row in rows if row.kind == Kind.GOODS_OUT), None)
    if returned is None:
        return None
    if parts:
        raise RuleBroken(
            f"ticket {ticket.id}'s repair is charged with the parts of its repair card; "
            "send no parts with its collection",
            field="parts",
            rule="parts_on_repair_card",
        )
    return Quote.of_charge(ticket_id=ticket.id or 0, on=date, charge=returned.payload["charge"])
