"""Take-back repairs over HTTP: the receipt, the register's steps, the register itself.

Every write needs an Idempotency-Key header: a retry returns the goods as the first call left
them (200), a first write 201. A step out of the register's order is a 409 naming the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from api.areas.scope import AreaQuery, resolve_areas
from api.areas.service import get_area
from api.auth.models import Role
from api.auth.service import Principal
from api.core.clock import Clock, ClockDep
from api.core.config import ServiceSettings
from api.core.deps import RowId, SessionDep, SettingsDep, require
from api.core.responses import created_or_retried, csv_download
from api.records.access import IdempotencyKey
from api.repairs import service, steps
from api.repairs.models import (
    InspectionCreate,
    RegisterRow,
    RepairCardCreate,
    ReturnCreate,
    ReturnVisitCreate,
    TakeBackCreate,
    TakeBackPublic,
)
from api.repairs.paper import receipt_html, register_csv, register_rows
from api.repairs.service import StepCall
from api.repairs.steps import Done

router = APIRouter(prefix="/repairs", tags=["repairs"])
# The technician takes the goods, repairs them and brings them back (a technician's key is
# a driver's, of their vehicle); a supervisor at the desk inspects and books the return.
Technician = Annotated[Principal, Depends(require(Role.DRIVER))]
Supervisor = Annotated[Principal, Depends(require(Role.DISPATCHER))]
Clerk = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.WAREHOUSE, Role.FINANCE))]
Reader = Annotated[
    Principal, Depends(require(Role.DRIVER, Role.DISPATCHER, Role.WAREHOUSE, Role.FINANCE))
]


class Held(StrEnum):
    HELD = "held"  # goods the store still holds
    ALL = "all"  # with those already back with the customer


StatusQuery = Annotated[Held, Query(alias="status")]
Body = TypeVar("Body")


def _answer(stored: Done, response: Response) -> TakeBackPublic:
    row, created = stored
    created_or_retried(response, created)
    return row


@router.post("", response_model=TakeBackPublic, status_code=201)
def take_back(
    body: TakeBackCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    who: Technician,
    key: IdempotencyKey,
) -> TakeBackPublic:
    """Goods the technician takes back from a ticket's visit; the receipt's number is issued
    here, and the customer's signature is the visit's signed service report."""
    stored = service.take_back(
        session=session, settings=settings, principal=who, key=key, body=body, now=clock.now()
    )
    return _answer(stored, response)


def _register(
    session: Session,
    settings: ServiceSettings,
    clock: Clock,
    who: Principal,
    area: str | None,
    status: Held,
) -> list[RegisterRow]:
    areas = resolve_areas(session=session, principal=who, area=area)
    rows = service.held(session=session, areas=areas, everything=status is Held.ALL)
    today = {code: service.area_today(session, settings, code, clock.now()) for code in areas}
    return register_rows(rows, today=today, overdue_days=settings.goods_overdue_days)


@router.get("/register", response_model=list[RegisterRow])
def register(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    who: Clerk,
    area: AreaQuery = None,
    status: StatusQuery = Held.HELD,
) -> Sequence[RegisterRow]:
    """客户商品进出登记簿: the goods held (or all), each with its age in days since taken in."""
    return _register(session, settings, clock, who, area, status)


@router.get("/register.csv", response_class=Response)
def register_csv_file(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    who: Clerk,
    area: AreaQuery = None,
    status: StatusQuery = Held.HELD,
) -> Response:
    rows = _register(session, settings, clock, who, area, status)
    return csv_download(register_csv(rows), f"goods-register-{clock.today().isoformat()}.csv")


@router.get("/{take_back_id}", response_model=TakeBackPublic)
def get_take_back(take_back_id: RowId, session: SessionDep, who: Reader) -> TakeBackPublic:
    return service.public(service.scoped(session, take_back_id, who))


@router.get("/{take_back_id}/receipt.html", response_class=HTMLResponse)
def receipt(take_back_id: RowId, session: SessionDep, who: Reader) -> HTMLResponse:
    """The customer's receipt, to print or show on the technician's phone."""
    row = service.scoped(session, take_back_id, who)
    store = get_area(session=session, code=row.area_code).name
    return HTMLResponse(receipt_html(row, store=store))


class _Step:
    """What every step after the first shares: the goods, the key, the clock."""

    def __init__(
        self,
        take_back_id: RowId,
        response: Response,
        session: SessionDep,
        settings: SettingsDep,
        clock: ClockDep,
        key: IdempotencyKey,
    ) -> None:
        self.take_back_id, self.response, self.key = take_back_id, response, key
        self.session, self.settings, self.now = session, settings, clock.now()

    def run(
        self, who: Principal, step: Callable[[StepCall, Body], Done], body: Body
    ) -> TakeBackPublic:
        call = StepCall(self.session, self.settings, who, self.key, self.take_back_id, self.now)
        return _answer(step(call, body), self.response)


Step = Annotated[_Step, Depends()]


@router.post("/{take_back_id}/repair-card", response_model=TakeBackPublic, status_code=201)
def repair_card(call: Step, who: Technician, body: RepairCardCreate) -> TakeBackPublic:
    """Repaired: the repair card's hours and parts, by the technician who did it."""
    return call.run(who, steps.repaired, body)


@router.post("/{take_back_id}/inspection", response_model=TakeBackPublic, status_code=201)
def inspection(call: Step, who: Supervisor, body: InspectionCreate) -> TakeBackPublic:
    """Inspected by a supervisor, never the repairer; failed, it goes back to repair."""
    return call.run(who, steps.inspected, body)


@router.post("/{take_back_id}/return-visit", response_model=TakeBackPublic, status_code=201)
def return_visit(call: Step, who: Supervisor, body: ReturnVisitCreate) -> TakeBackPublic:
    """The return visit at the customer's time, booked as the ticket's next visit."""
    return call.run(who, steps.book_return, body)


@router.post("/{take_back_id}/return", response_model=TakeBackPublic, status_code=201)
def give_back(call: Step, who: Technician, body: ReturnCreate) -> TakeBackPublic:
    """Back with the customer, who signed the return visit's report; the receipt closes."""
    return call.run(who, steps.returned, body)
