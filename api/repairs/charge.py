"""What a repair taken back costs the customer, charged on the day the goods are returned
(服务作业程序, article 8): the price list of paid service (api.fees) applied to its repair card.

The parts are the store's one parts list (`parts`). The labour is the card's hours at
`repair_labour_cny_per_hour`, not the flat `labour_cny` of a repair visit: a workshop repair
takes from half an hour to a day, and the card records how long, so a flat call-out fee
would over- or under-charge most of them; the return visit itself is part of the repair.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlmodel import Session

from api.areas.scope import local_settings
from api.cash.ledger import fen
from api.core.config import ServiceSettings
from api.core.errors import RuleBroken
from api.fees.models import PartUse, Quote
from api.fees.service import merged_parts, quote_for, quote_line
from api.repairs.models import TakeBack
from api.tickets.models import Ticket, TicketServiceType
from api.tickets.warranty import warranty_until
from optimizer.settings import DispatchSettings


def check_parts(settings: DispatchSettings, codes: Iterable[str]) -> None:
    """A repair card names only parts of the store's list, so its return can be charged."""
    unknown = [code for code in codes if code not in settings.parts]
    if unknown:
        raise RuleBroken(
            f"parts not on the store's parts list (parts): {', '.join(unknown)}; one of: "
            f"{', '.join(sorted(settings.parts))}",
            field="parts",
            rule="known_part",
        )


def repair_quote(
    session: Session, *, settings: ServiceSettings, ticket: Ticket, row: TakeBack, on: dt.date
) -> Quote:
    """The charge of the repair on return day `on`: nothing under warranty, else the card's
    hours and parts. The warranty is the ticket's (product type and purchase date); the
    technician's flag on the receipt counts only for a ticket without a warranty card."""
    local = local_settings(session=session, settings=settings, area=ticket.area_code)
    parts = [PartUse(code=str(p["code"]), quantity=int(str(p["quantity"]))) for p in row.parts]
    check_parts(local, (part.code for part in parts))  # the list may have changed since
    if warranty_until(ticket, local) is not None:
        listed = quote_for(
            session,
            settings=settings,
            ticket=ticket,
            parts=parts,
            labour_service_type=TicketServiceType.REPAIR,
            on=on,
        )
        free, until, reason = listed.under_warranty, listed.warranty_until, listed.reason
    else:
        free, until = row.under_warranty, None
        reason = "no warranty card: the technician's reading on the receipt"
    hours = row.labour_hours or 0.0
    labour = 0 if free else fen(hours * local.repair_labour_cny_per_hour)
    if not free:
        reason = f"{reason}; {hours:g} h at {local.repair_labour_cny_per_hour} CNY/h and parts"
    return Quote(
        ticket_id=ticket.id or 0,
        service_type=TicketServiceType.REPAIR.value,
        on=on,
        under_warranty=free,
        warranty_until=until,
        labour_fen=labour,
        lines=tuple(quote_line(local, part, free) for part in merged_parts(parts)),
        reason=reason,
    )
