"""Plans for a date: routes per crew, unassigned visits, the job that made them, every edit."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.auth.models import utcnow
from api.core.requests import FINITE
from api.orders.models import Slot
from optimizer.data import VisitKind


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


MAX_SEED = 2**31 - 1  # stored as a 32-bit integer on every database


class PlanStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"  # a newer plan for the same date replaced it


class PlanJobBase(SQLModel):
    date: dt.date
    time_limit_s: float | None = Field(default=None, gt=0, le=3600)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)


class PlanJobCreate(PlanJobBase):
    model_config = FINITE
    area: str | None = Field(
        default=None, max_length=32, description="planning area; may be left out with only one"
    )


class PlanJob(PlanJobBase, table=True):
    __tablename__ = "plan_job"
    id: int | None = Field(default=None, primary_key=True)
    area_code: str = Field(foreign_key="area.code", index=True, max_length=32)
    date: dt.date = Field(index=True)
    time_limit_s: float = 60.0
    status: JobStatus = Field(default=JobStatus.QUEUED, index=True)
    progress: float = 0.0  # 0..1
    message: str = ""
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    requested_by: str = ""
    cancel_requested: bool = False
    plan_id: int | None = None
    attempts: int = 0  # runs that claimed it; a clean shutdown gives its attempt back
    requeues: int = 0  # times it was put back in the queue mid-run
    requeue_reason: str = ""  # why, the last time
    # The best plan of the running search: None until it holds one.
    visits_routed: int | None = None
    distance_km: float | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    # Renewed by the claim and each progress report: a run silent past the lease is dead.
    heartbeat_at: dt.datetime | None = None


class PlanJobPublic(PlanJobBase):
    id: int
    area_code: str
    time_limit_s: float
    status: JobStatus
    progress: float
    message: str
    plan_id: int | None
    requested_by: str = ""
    cancel_requested: bool = False  # a running job stops at its next progress report
    attempts: int = 0
    requeues: int = 0
    requeue_reason: str = ""
    visits_routed: int | None = None
    distance_km: float | None = None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class Plan(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    area_code: str = Field(foreign_key="area.code", index=True, max_length=32)
    date: dt.date = Field(index=True)
    status: PlanStatus = Field(default=PlanStatus.DRAFT, index=True)
    version: int = 1  # bumped by every change; the ETag for optimistic concurrency
    seed: int = 0
    time_limit_s: float = 60.0
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    solver_status: str = ""
    objective: int = 0
    kpis: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    job_id: int | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    published_at: dt.datetime | None = None
    published_by: str = ""


class PlanRoute(SQLModel, table=True):
    __tablename__ = "plan_route"
    __table_args__ = (UniqueConstraint("plan_id", "vehicle_code"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    vehicle_code: str = Field(max_length=32)
    departure: int  # seconds after midnight
    return_time: int
    distance_m: int


class PlanStop(SQLModel, table=True):
    __tablename__ = "plan_stop"
    __table_args__ = (UniqueConstraint("plan_id", "order_id"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    vehicle_code: str = Field(max_length=32)
    position: int  # 1-based order on the route
    order_id: int = Field(foreign_key="order.id")
    arrival: int
    start: int
    departure: int
    weight_on_board_g: int
    volume_on_board_cm3: int
    cash_on_board_fen: int
    distance_from_previous_m: int
    pinned: bool = False  # a dispatcher fixed it to this crew; re-optimising keeps it there


class PlanDeposit(SQLModel, table=True):
    """A planned stop at a bank, where the crew hands over all the cash on board.

    The branch's name and place are copied in, so the plan shows where its crew went even
    after the branch is changed or closed.
    """

    __tablename__ = "plan_deposit"
    __table_args__ = (UniqueConstraint("plan_id", "vehicle_code", "after"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    vehicle_code: str = Field(max_length=32)
    after: int  # how many of the route's stops come before it
    bank_code: str = Field(max_length=32)
    bank_name: str = Field(default="", max_length=100)
    lat: float
    lon: float
    arrival: int  # seconds after midnight
    start: int
    departure: int
    amount_fen: int  # the cash on board on arrival, all handed over
    distance_from_previous_m: int


class PlanUnassigned(SQLModel, table=True):
    __tablename__ = "plan_unassigned"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    order_id: int = Field(foreign_key="order.id")
    code: str = Field(max_length=32)
    reason: str = Field(max_length=500)


class PlanChange(SQLModel, table=True):
    """Every edit of a plan, with who, why and the version it produced."""

    __tablename__ = "plan_change"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    version: int
    kind: str = Field(max_length=32)  # move, pin, unpin, unassign, reoptimize, publish, ...
    by: str = Field(default="", max_length=100)
    override_reason: str = Field(default="", max_length=500)  # required after publishing
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: dt.datetime = Field(default_factory=utcnow)


# Read models of a stored plan: times as "HH:MM" in the store's day, quantities in kg, m3, CNY.


class KpisPublic(SQLModel):
    visits_total: int = 0
    visits_routed: int = 0
    visits_unassigned: int = 0
    vehicles_used: int = 0
    distance_km: float = 0.0
    working_hours: float = 0.0
    utilisation: float = 0.0  # working time over the shift time of the vehicles used


class StopPublic(SQLModel):
    position: int  # 1-based order on the route
    order_id: int
    external_id: str
    customer: str
    address: str
    phone: str
    service_type: VisitKind
    slot: Slot
    arrival: str
    start: str  # service start, after any wait for the slot
    departure: str
    weight_kg: float  # on board on arrival
    volume_m3: float  # on board on arrival
    cash_cny: float  # on board after collecting here
    distance_from_previous_km: float
    pinned: bool


class DepositStopPublic(SQLModel):
    id: int
    after: int  # how many of the route's stops come before it
    bank_code: str
    bank_name: str
    arrival: str
    start: str  # at the counter, after any wait for the bank to open
    departure: str
    amount_cny: float  # the cash on board on arrival, all handed over
    distance_from_previous_km: float


class RoutePublic(SQLModel):
    vehicle_code: str
    departure: str
    return_time: str
    distance_km: float
    stops: list[StopPublic]
    deposits: list[DepositStopPublic] = []


class UnassignedPublic(SQLModel):
    order_id: int
    external_id: str
    customer: str
    code: str
    reason: str


class PlanSummary(SQLModel):
    id: int
    area_code: str
    date: dt.date
    status: PlanStatus
    version: int
    seed: int
    time_limit_s: float
    params: dict[str, Any]
    solver_status: str
    objective: int
    job_id: int | None
    created_at: dt.datetime
    published_at: dt.datetime | None
    kpis: KpisPublic


class PlanPublic(PlanSummary):
    routes: list[RoutePublic]
    unassigned: list[UnassignedPublic]
