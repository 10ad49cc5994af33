"""Handover records over HTTP: the warehouse's count, the crew's phone, corrections.

Every write needs an Idempotency-Key header: a retry returns the stored record (200), a
first write 201. There is no route that edits or deletes a record.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import Response as RawResponse
from sqlmodel import SQLModel

from api.areas.scope import AreaQuery, local_settings, resolve_area
from api.auth.models import Role
from api.auth.service import Principal
from api.core.clock import ClockDep
from api.core.deps import RowId, SessionDep, SettingsDep, require
from api.core.limits import check_text
from api.core.responses import created_or_retried
from api.handover import loading, service, stops
from api.handover.models import (
    CorrectionCreate,
    DeliveryCreate,
    FailureCreate,
    LoadingCountCreate,
    LoadingReconcileCreate,
    LoadingSignCreate,
    LoadingStatus,
    PhotoCreate,
    Place,
    ServiceReportCreate,
    SignOffCreate,
)
from api.handover.replan import order_next_date
from api.orders.service import check_horizon
from api.records import images
from api.records.access import (
    IdempotencyKey,
    crew_area,
    crew_attachment,
    order_by_external_id,
    require_own_crew,
)
from api.records.models import LedgerEntry, LedgerEntryPublic
from api.records.service import entries

router = APIRouter(prefix="/handover", tags=["handover"])
Warehouse = Annotated[Principal, Depends(require(Role.WAREHOUSE))]
Crew = Annotated[Principal, Depends(require(Role.DRIVER))]
Reconciler = Annotated[Principal, Depends(require(Role.WAREHOUSE, Role.DISPATCHER))]
Reader = Annotated[
    Principal, Depends(require(Role.DRIVER, Role.DISPATCHER, Role.WAREHOUSE, Role.FINANCE))
]
Anyone = Annotated[Principal, Depends(require(Role.DRIVER, Role.DISPATCHER, Role.FINANCE))]


def _answer(stored: tuple[LedgerEntry, bool], response: Response) -> LedgerEntryPublic:
    entry, created = stored
    created_or_retried(response, created)
    return LedgerEntryPublic.model_validate(entry)


@router.get("/{date}/loading/{vehicle}", response_model=LoadingStatus)
def loading_status(session: SessionDep, who: Reader, date: dt.date, vehicle: str) -> LoadingStatus:
    require_own_crew(who, vehicle, reading=True)
    area = crew_area(session, who, vehicle)
    return loading.loading_status(session, area=area, date=date, vehicle_code=vehicle)


class _CrewCall:
    """What every loading and route write shares: the crew, the day, the key."""

    def __init__(
        self,
        session: SessionDep,
        key: IdempotencyKey,
        date: dt.date,
        vehicle: str,
        response: Response,
    ) -> None:
        self.session, self.key, self.date, self.vehicle, self.response = (
            session,
            key,
            date,
            vehicle,
            response,
        )

    def write(
        self, who: Principal, action: str, body: SQLModel, build: service.CrewBuild
    ) -> LedgerEntryPublic:
        stored = service.record_for_crew(
            session=self.session,
            principal=who,
            key=self.key,
            action=action,
            date=self.date,
            vehicle_code=self.vehicle,
            body=body,
            build=build,
        )
        return _answer(stored, self.response)


CrewCall = Annotated[_CrewCall, Depends()]
LOADING, ROUTE = "/{date}/loading/{vehicle}", "/{date}/routes/{vehicle}"


@router.post(f"{LOADING}/count", response_model=LedgerEntryPublic, status_code=201)
def count_load(call: CrewCall, who: Warehouse, body: LoadingCountCreate) -> LedgerEntryPublic:
    return call.write(
        who,
        "count",
        body,
        lambda s, a: loading.count_entry(
            s, area=a, date=call.date, vehicle_code=call.vehicle, count=body
        ),
    )


@router.post(f"{LOADING}/sign", response_model=LedgerEntryPublic, status_code=201)
def sign_load(call: CrewCall, who: Crew, body: LoadingSignCreate) -> LedgerEntryPublic:
    return call.write(
        who,
        "sign",
        body,
        lambda s, a: loading.sign_entry(
            s, area=a, date=call.date, vehicle_code=call.vehicle, sign=body
        ),
    )


@router.post(f"{LOADING}/reconcile", response_model=LedgerEntryPublic, status_code=201)
def reconcile_load(
    call: CrewCall, who: Reconciler, body: LoadingReconcileCreate
) -> LedgerEntryPublic:
    return call.write(
        who,
        "reconcile",
        body,
        lambda s, a: loading.reconcile_entry(
            s, area=a, date=call.date, vehicle_code=call.vehicle, reconcile=body
        ),
    )


@router.post(f"{ROUTE}/depart", response_model=LedgerEntryPublic, status_code=201)
def depart(call: CrewCall, who: Crew, body: Place) -> LedgerEntryPublic:
    return call.write(
        who,
        "depart",
        body,
        lambda s, a: loading.departure_entry(
            s, area=a, date=call.date, vehicle_code=call.vehicle, place=body
        ),
    )


@router.post(f"{ROUTE}/return", response_model=LedgerEntryPublic, status_code=201)
def come_back(call: CrewCall, who: Crew, body: Place) -> LedgerEntryPublic:
    return call.write(
        who,
        "return",
        body,
        lambda s, a: loading.return_entry(
            s, area=a, date=call.date, vehicle_code=call.vehicle, place=body
        ),
    )


class _StopCall:
    """What every stop write shares: who, which stop, the key, and the settings and wall
    clock of the order's area (its planning time decides the next plan a failure joins)."""

    def __init__(
        self,
        session: SessionDep,
        settings: SettingsDep,
        clock: ClockDep,
        who: Crew,
        key: IdempotencyKey,
        date: dt.date,
        order: str,
        response: Response,
    ) -> None:
        self.who, self.key, self.date, self.order, self.response = (
            who,
            key,
            date,
            order,
            response,
        )
        self.session = session
        area = order_by_external_id(session, order, who).area_code
        self.settings = local_settings(session=session, settings=settings, area=area)
        self.now = clock.now_in(self.settings.timezone)

    def write(self, action: str, body: SQLModel, build: service.StopBuild) -> LedgerEntryPublic:
        stored = service.record_for_stop(
            session=self.session,
            settings=self.settings,
            now=self.now,
            principal=self.who,
            key=self.key,
            action=action,
            date=self.date,
            external_id=self.order,
            body=body,
            build=build,
        )
        return _answer(stored, self.response)


Stop = Annotated[_StopCall, Depends()]
STOP = "/{date}/stops/{order}"


@router.post(f"{STOP}/arrive", response_model=LedgerEntryPublic, status_code=201)
def arrive(call: Stop, body: Place) -> LedgerEntryPublic:
    return call.write(
        "arrive",
        body,
        lambda s, d, o, v: stops.arrival_entry(s, date=d, order=o, vehicle_code=v, place=body),
    )


@router.post(f"{STOP}/deliver", response_model=LedgerEntryPublic, status_code=201)
def deliver(call: Stop, body: DeliveryCreate) -> LedgerEntryPublic:
    return call.write(
        "deliver",
        body,
        lambda s, d, o, v: stops.delivery_entry(s, date=d, order=o, vehicle_code=v, delivery=body),
    )


@router.post(f"{STOP}/fail", response_model=LedgerEntryPublic, status_code=201)
def fail(call: Stop, body: FailureCreate) -> LedgerEntryPublic:
    if body.reschedule_date is not None:
        today, when = call.now.date(), body.reschedule_date
        check_horizon(settings=call.settings, today=today, date=when, field="reschedule_date")
    return call.write(
        "fail",
        body,
        lambda s, d, o, v: stops.failure_entry(
            s,
            date=d,
            order=o,
            vehicle_code=v,
            failure=body,
            # The order goes back to its own area's planning.
            next_planning_date=order_next_date(s, call.settings, o, call.now),
        ),
    )


# Images are decoded here, before the day's records are locked for the write.


@router.post(f"{STOP}/signoff", response_model=LedgerEntryPublic, status_code=201)
def sign_off(call: Stop, body: SignOffCreate) -> LedgerEntryPublic:
    signed = images.signed_images(call.settings, signature=body.signature_png, photos=body.photos)
    return call.write(
        "signoff",
        body,
        lambda s, d, o, v: stops.sign_off_entry(
            s, date=d, order=o, vehicle_code=v, sign=body, images=signed
        ),
    )


@router.post(f"{STOP}/service-report", response_model=LedgerEntryPublic, status_code=201)
def service_report(call: Stop, body: ServiceReportCreate) -> LedgerEntryPublic:
    signed = images.signed_images(call.settings, signature=body.signature_png, photos=body.photos)
    return call.write(
        "service-report",
        body,
        lambda s, d, o, v: stops.service_report_entry(
            s, date=d, order=o, vehicle_code=v, report=body, images=signed
        ),
    )


@router.post(f"{STOP}/photos", response_model=LedgerEntryPublic, status_code=201)
def add_photo(call: Stop, body: PhotoCreate) -> LedgerEntryPublic:
    image = images.photo(call.settings, body.image)
    return call.write(
        "photo",
        body,
        lambda s, d, o, v: stops.photo_entry(
            s, date=d, order=o, vehicle_code=v, photo=body, image=image
        ),
    )


@router.get("/{date}/records", response_model=list[LedgerEntryPublic])
def day_records(
    session: SessionDep,
    who: Anyone,
    date: dt.date,
    vehicle: str | None = None,
    area: AreaQuery = None,
) -> list[LedgerEntryPublic]:
    """One area's chain of the day (`area`: the key's only one, else named)."""
    if who.role is Role.DRIVER:
        # Asking for another crew is refused like every other cross-crew request.
        require_own_crew(who, vehicle or who.vehicle_code or "", reading=True)
        vehicle = who.vehicle_code
    if vehicle and area is None:
        area = crew_area(session, who, vehicle)  # a crew's records are in its area's chain
    chain = resolve_area(session=session, principal=who, area=area)
    rows = entries(session, area=chain, date=date, vehicle_code=vehicle)
    return [LedgerEntryPublic.model_validate(row) for row in rows]


@router.post(
    "/{date}/records/{entry_id}/corrections", response_model=LedgerEntryPublic, status_code=201
)
def correct_record(
    session: SessionDep,
    settings: SettingsDep,
    who: Reader,
    key: IdempotencyKey,
    date: dt.date,
    entry_id: RowId,
    body: CorrectionCreate,
    response: Response,
) -> LedgerEntryPublic:
    check_text(body.changes, field="changes", max_chars=settings.max_text_chars)
    stored = service.correct(
        session=session,
        settings=settings,
        principal=who,
        key=key,
        date=date,
        entry_id=entry_id,
        reason=body.reason,
        changes=body.changes,
    )
    return _answer(stored, response)


@router.get("/attachments/{sha256}", response_class=RawResponse)
def attachment(
    session: SessionDep, who: Reader, sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")]
) -> RawResponse:
    stored = crew_attachment(session, who, sha256)
    return RawResponse(content=stored.content, media_type=stored.content_type)
