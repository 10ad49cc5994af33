"""Paid service over HTTP: a ticket's quote, a manager's approval, the fee collected on site.

Writes name an Idempotency-Key, as cash writes do: 201 stored, 200 a retry, 409 a key reused.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.auth.models import Role
from api.auth.service import Principal
from api.core.deps import RowId, SessionDep, SettingsDep, require
from api.core.errors import RuleBroken
from api.core.responses import created_or_retried
from api.fees import service
from api.fees.models import (
    FeeApprovalCreate,
    FeeApprovalPublic,
    FeeCollectionCreate,
    FeeCollectionPublic,
    PartUse,
    QuotePublic,
)
from api.records.access import IdempotencyKey

router = APIRouter(tags=["fees"])
Quoter = Annotated[
    Principal, Depends(require(Role.DISPATCHER, Role.DRIVER, Role.MANAGER, Role.FINANCE))
]
Manager = Annotated[Principal, Depends(require(Role.MANAGER))]
Collector = Annotated[Principal, Depends(require(Role.DRIVER, Role.DISPATCHER))]
# ?parts=HINGE:2&parts=SEAL:1 (a code alone is one piece)
PartsQuery = Annotated[list[str], Query(max_length=100)]


def _parts(raw: list[str]) -> list[PartUse]:
    parts = []
    for n, item in enumerate(raw):
        code, _, count = item.partition(":")
        try:
            parts.append(PartUse(code=code, quantity=int(count or 1)))
        except ValueError:
            raise RuleBroken(
                f"parts[{n}] is not CODE or CODE:QUANTITY (a code of at most 32 characters, "
                "a quantity of 1 to 1000)",
                field="parts",
                rule="part_format",
            ) from None
    return parts


@router.get("/tickets/{ticket_id}/quote", response_model=QuotePublic)
def quote(
    ticket_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    who: Quoter,
    parts: PartsQuery = [],  # noqa: B006 - FastAPI copies a query's default
    on: dt.date | None = None,
) -> QuotePublic:
    """The visit's fee from the price list, free under warranty on the service day `on`
    (default: the agreed on-site day)."""
    found = service.quote(
        session=session,
        settings=settings,
        principal=who,
        ticket_id=ticket_id,
        parts=_parts(parts),
        on=on,
    )
    return QuotePublic.of(found)


@router.post(
    "/fees/{date}/tickets/{ticket_id}/approval", status_code=201, response_model=FeeApprovalPublic
)
def approve(
    date: dt.date,
    ticket_id: RowId,
    body: FeeApprovalCreate,
    session: SessionDep,
    who: Manager,
    key: IdempotencyKey,
    response: Response,
) -> FeeApprovalPublic:
    """A manager's discount or waiver of the fee of the ticket's visit that day (主管经理审批)."""
    record, created = service.approve(
        session=session,
        principal=who,
        idempotency_key=key,
        date=date,
        ticket_id=ticket_id,
        body=body,
    )
    created_or_retried(response, created)
    return record


@router.post(
    "/fees/{date}/tickets/{ticket_id}/collection",
    status_code=201,
    response_model=FeeCollectionPublic,
)
def collect(
    date: dt.date,
    ticket_id: RowId,
    body: FeeCollectionCreate,
    session: SessionDep,
    settings: SettingsDep,
    who: Collector,
    key: IdempotencyKey,
    response: Response,
) -> FeeCollectionPublic:
    """The fee taken on site, cash or transfer: the quote for the parts fitted, less any
    approved discount; cash counts toward the technician's cash on hand."""
    record, created = service.collect(
        session=session,
        settings=settings,
        principal=who,
        idempotency_key=key,
        date=date,
        ticket_id=ticket_id,
        body=body,
    )
    created_or_retried(response, created)
    return record
