"""Tickets and their append-only history; the request and report shapes around them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import AwareDatetime, field_validator, model_validator
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from api.auth.models import utcnow
from api.core.requests import FINITE


class TicketCategory(StrEnum):
    REPAIR = "repair"
    MAINTENANCE = "maintenance"
    LEFTOVER = "leftover"  # items left over from a delivery
    COMPLAINT = "complaint"


class TicketUrgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class TicketServiceType(StrEnum):
    INSTALL = "install"
    START_UP = "start_up"
    REPAIR = "repair"
    MAINTENANCE = "maintenance"


class TicketStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    WAITING_PARTS = "waiting_parts"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class TicketEventKind(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    ANSWERED = "answered"
    ASSIGNED = "assigned"
    CONTACTED = "contacted"
    PARTS_WAITING = "parts_waiting"
    PARTS_ARRIVED = "parts_arrived"
    VISITED = "visited"
    CLOSED = "closed"
    FOLLOW_UP_DONE = "follow_up_done"
    ESCALATED = "escalated"
    SCHEDULED = "scheduled"  # a repair visit was booked for the planner, or moved
    UNASSIGNED = "unassigned"  # a newer published plan no longer sends its technician


class TicketDetails(SQLModel):
    """What may be filled in after opening; a ticket is dispatchable once all of it is known."""

    model_config = FINITE
    description: str | None = Field(default=None, max_length=2000)
    urgency: TicketUrgency | None = None
    preferred_time: dt.datetime | None = None
    customer_name: str | None = Field(default=None, max_length=100)
    customer_phone: str | None = Field(default=None, max_length=32)
    equipment: str | None = Field(default=None, max_length=200)
    service_type: TicketServiceType | None = None
    on_site_at: dt.datetime | None = None
    # complaints: what was agreed with the customer, by when, and what went wrong
    solution: str | None = Field(default=None, max_length=1000)
    solution_due: dt.datetime | None = None
    root_cause: str | None = Field(default=None, max_length=1000)
    corrective_action: str | None = Field(default=None, max_length=1000)
    # Where the technician goes: the customer's earlier order (its address and coordinates),
    # else the ticket's own address and coordinates.
    order_external_id: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    # The warranty card: what the product is (a key of warranty_months) and when it was bought.
    product_type: str | None = Field(default=None, min_length=1, max_length=32)
    purchase_date: dt.date | None = None

    @field_validator("preferred_time", "on_site_at", "solution_due")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        # Times are compared across the store's zone and UTC: a bare clock time is ambiguous.
        if value is not None and value.utcoffset() is None:
            raise ValueError("must include a UTC offset, e.g. 2026-11-26T10:00:00+08:00")
        return value

    @model_validator(mode="after")
    def _coordinates_together(self) -> TicketDetails:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        return self


class TicketBase(TicketDetails):
    external_id: str = Field(min_length=1, max_length=64)
    category: TicketCategory
    description: str | None = Field(default="", max_length=2000)
    urgency: TicketUrgency | None = TicketUrgency.NORMAL


class TicketCreate(TicketBase):
    area: str | None = Field(
        default=None,
        max_length=32,
        description="planning area; default: the one serving the address",
    )


class TicketUpdate(TicketDetails):
    pass


class Ticket(TicketBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(unique=True, index=True, max_length=64)
    payload_hash: str = Field(max_length=64)
    area_code: str = Field(foreign_key="area.code", index=True, max_length=32)
    status: TicketStatus = Field(default=TicketStatus.OPEN, index=True)
    opened_at: dt.datetime
    answered_at: dt.datetime | None = None
    vehicle_code: str | None = Field(default=None, max_length=32)
    assigned_at: dt.datetime | None = None
    contacted_at: dt.datetime | None = None
    estimated_arrival: dt.datetime | None = None
    visits: int = 0
    tested: bool = False
    site_cleaned: bool = False
    service_report_id: int | None = Field(default=None, foreign_key="ledger_entry.id")
    satisfaction: int | None = None
    closed_at: dt.datetime | None = None
    follow_up_done_at: dt.datetime | None = None
    escalated: bool = False
    escalated_at: dt.datetime | None = None
    # The repair visit the planner routes (see api.tickets.visits); None until scheduled.
    visit_order_id: int | None = Field(default=None, foreign_key="order.id", index=True)
    # Worked out from the warranty card whenever the ticket changes (api.tickets.warranty);
    # None while the card is not known.
    warranty_until: dt.date | None = None
    under_warranty: bool | None = None


class TicketPublic(TicketBase):
    id: int
    area_code: str
    status: TicketStatus
    opened_at: dt.datetime
    answered_at: dt.datetime | None
    vehicle_code: str | None
    assigned_at: dt.datetime | None
    contacted_at: dt.datetime | None
    estimated_arrival: dt.datetime | None
    visits: int
    tested: bool
    site_cleaned: bool
    service_report_id: int | None
    satisfaction: int | None
    closed_at: dt.datetime | None
    follow_up_done_at: dt.datetime | None
    escalated: bool
    escalated_at: dt.datetime | None
    visit_order_id: int | None = None
    warranty_until: dt.date | None = None  # the last day of the warranty
    under_warranty: bool | None = None  # on the agreed on-site day, else the day last changed
    missing: list[str] = []  # what still keeps the ticket from being dispatched


class TicketEvent(SQLModel, table=True):
    """History of a ticket, appended to and never changed."""

    __tablename__ = "ticket_event"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: TicketEventKind
    at: dt.datetime = Field(default_factory=utcnow)
    by: str = Field(default="", max_length=100)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AssignRequest(SQLModel):
    vehicle_code: str = Field(min_length=1, max_length=32)


class ContactRequest(SQLModel):
    estimated_arrival: AwareDatetime


class CloseRequest(SQLModel):
    tested: bool
    site_cleaned: bool
    # the handover ledger's signed service report for this visit
    service_report_id: int = Field(ge=1, le=2**31 - 1)
    satisfaction: int | None = Field(default=None, ge=1, le=5)


class EscalationResult(SQLModel):
    escalated: list[int] = []


class Breaches(SQLModel):
    answer: int = 0  # not answered within ticket_answer_hours
    contact: int = 0  # customer not contacted within ticket_contact_minutes of assignment
    follow_up: int = 0  # follow-up call not done within ticket_follow_up_days of closing


class TicketFigures(SQLModel):
    open_by_age: dict[str, int]  # "<12h", "12-24h", "1-3d", ">3d"
    breaches: Breaches
    closed: int
    first_visit_fix_rate: float | None  # share of closed tickets fixed in exactly one visit
    average_satisfaction: float | None


class TicketReport(TicketFigures):
    """The figures of every area the report covers, summed, and each area's own."""

    as_of: dt.datetime
    areas: list[str] = []
    by_area: dict[str, TicketFigures] = {}
