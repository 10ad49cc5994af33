"""Cash endpoints: drivers collect and bank, finance takes handovers and reconciles.

Every write names an Idempotency-Key: 201 when stored, 200 when a retry returns the record
already stored, 409 when the key was used for a different request.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from api.areas.scope import AreaQuery, local_settings, resolve_area
from api.auth.models import Role
from api.auth.service import Principal
from api.cash import corrections, reconciliation, service
from api.cash.models import (
    CollectionCreate,
    CollectionPublic,
    DepositCreate,
    DepositPublic,
    HandoverCreate,
    HandoverPublic,
    OnBoardPublic,
    ReconciliationPublic,
)
from api.core.deps import RowId, SessionDep, SettingsDep, require
from api.core.responses import created_or_retried
from api.records.access import IdempotencyKey, crew_area, require_own_crew
from api.records.models import LedgerEntryPublic

router = APIRouter(prefix="/cash", tags=["cash"])
Collector = Annotated[Principal, Depends(require(Role.DRIVER, Role.DISPATCHER))]
Driver = Annotated[Principal, Depends(require(Role.DRIVER))]
Finance = Annotated[Principal, Depends(require(Role.FINANCE))]
Watcher = Annotated[Principal, Depends(require(Role.DRIVER, Role.DISPATCHER, Role.FINANCE))]
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.FINANCE))]


@router.post("/{date}/collections", status_code=201, response_model=CollectionPublic)
def collect(
    date: dt.date,
    body: CollectionCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: Collector,
    key: IdempotencyKey,
    response: Response,
) -> CollectionPublic:
    """Money taken at a stop the crew has arrived at; cash counts against the truck's cap."""
    record, created = service.collect(
        session=session,
        settings=settings,
        principal=principal,
        idempotency_key=key,
        date=date,
        body=body,
    )
    created_or_retried(response, created)
    return record


@router.post("/{date}/deposits", status_code=201, response_model=DepositPublic)
def deposit(
    date: dt.date,
    body: DepositCreate,
    session: SessionDep,
    principal: Driver,
    key: IdempotencyKey,
    response: Response,
) -> DepositPublic:
    """Cash paid in at a bank by two members of the crew."""
    record, created = service.deposit(
        session=session, principal=principal, idempotency_key=key, date=date, body=body
    )
    created_or_retried(response, created)
    return record


@router.post("/{date}/handovers", status_code=201, response_model=HandoverPublic)
def hand_over(
    date: dt.date,
    body: HandoverCreate,
    session: SessionDep,
    principal: Finance,
    key: IdempotencyKey,
    response: Response,
) -> HandoverPublic:
    """Cash a crew hands to finance at the warehouse, recorded by finance."""
    record, created = service.hand_over(
        session=session, principal=principal, idempotency_key=key, date=date, body=body
    )
    created_or_retried(response, created)
    return record


@router.get("/{date}/on-board/{vehicle_code}", response_model=OnBoardPublic)
def on_board(
    date: dt.date,
    vehicle_code: Annotated[str, Path(max_length=32)],
    session: SessionDep,
    settings: SettingsDep,
    principal: Watcher,
) -> OnBoardPublic:
    require_own_crew(principal, vehicle_code, reading=True)
    area = crew_area(session, principal, vehicle_code)
    local = local_settings(session=session, settings=settings, area=area)
    return service.on_board(
        session=session, settings=local, area=area, date=date, vehicle_code=vehicle_code
    )


@router.post("/{date}/reconciliation", status_code=201, response_model=ReconciliationPublic)
def reconcile(
    date: dt.date,
    session: SessionDep,
    principal: Finance,
    key: IdempotencyKey,
    response: Response,
    area: AreaQuery = None,
) -> ReconciliationPublic:
    """日清日结 of one area: every crew's expected, collected and paid-in cash, mismatches
    flagged. `area` may be left out by a key or chain with only one."""
    record, created = reconciliation.reconcile(
        session=session,
        principal=principal,
        idempotency_key=key,
        area=resolve_area(session=session, principal=principal, area=area),
        date=date,
    )
    created_or_retried(response, created)
    return record


@router.get("/{date}/reconciliation", response_model=ReconciliationPublic)
def latest_reconciliation(
    date: dt.date, session: SessionDep, principal: Reader, area: AreaQuery = None
) -> ReconciliationPublic:
    chosen = resolve_area(session=session, principal=principal, area=area)
    return reconciliation.latest_reconciliation(session=session, area=chosen, date=date)


@router.post(
    "/{date}/corrections/{entry_id}/accept", status_code=201, response_model=LedgerEntryPublic
)
def accept_correction(
    date: dt.date,
    entry_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    principal: Finance,
    key: IdempotencyKey,
    response: Response,
) -> LedgerEntryPublic:
    """Finance accepts a corrected money record; the day balances once each one is."""
    entry, created = corrections.accept(
        session=session,
        settings=settings,
        principal=principal,
        idempotency_key=key,
        date=date,
        entry_id=entry_id,
    )
    created_or_retried(response, created)
    return LedgerEntryPublic.model_validate(entry)
