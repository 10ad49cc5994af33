"""技术员工作日报表 (服务作业程序, article 10): each technician's visits of the day, with the
kind of work, the time on site, the parts fitted and the fee charged and collected.

Read from the ledger as the reconciliation reads it (api.fees.ledger), so the fees here are
the fees finance reconciles. Time on site runs from the first arrival to the signed report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from api.cash.models import cny
from api.core.spreadsheet import csv_bytes
from api.fees.ledger import Charge, VisitFee, visit_fees
from api.fleet.service import crews_on
from api.reports.models import (
    AreaTechniciansPublic,
    JobPartPublic,
    TechnicianDayPublic,
    TechnicianJobPublic,
    TechnicianReportPublic,
    TechnicianTotals,
)

FREE = (Charge.WARRANTY, Charge.WAIVED)


def technician_report(
    *, session: Session, areas: Sequence[str], date: dt.date
) -> TechnicianReportPublic:
    """The technicians of the areas with a visit recorded that day, each area's total apart."""
    technicians: list[TechnicianDayPublic] = []
    by_area = []
    for area in areas:
        rows = _area_rows(session, area, date)
        if rows:
            technicians += rows
            by_area.append(AreaTechniciansPublic(area_code=area, total=_sum(rows)))
    return TechnicianReportPublic(
        date=date,
        area_code=areas[0] if len(areas) == 1 else None,
        technicians=technicians,
        total=_sum(technicians),
        by_area=by_area,
    )


def _area_rows(session: Session, area: str, date: dt.date) -> list[TechnicianDayPublic]:
    visits: dict[str, list[VisitFee]] = {}
    for visit in visit_fees(session, area=area, date=date):
        visits.setdefault(visit.vehicle_code, []).append(visit)
    crews = crews_on(session=session, date=date, areas=[area])
    rows = []
    for code in sorted(visits):
        jobs = [_job(visit) for visit in visits[code]]
        names = [member.name for member in crews.get(code, [])]
        row = TechnicianDayPublic(
            area_code=area, vehicle_code=code, technicians=names, job_list=jobs
        )
        _add_jobs(row, jobs)
        rows.append(row)
    return rows


def _job(visit: VisitFee) -> TechnicianJobPublic:
    arrived = _at(visit.arrived.payload if visit.arrived else {})
    reported = _at(visit.reported.payload if visit.reported else {})
    on_site = None
    if arrived and reported:
        on_site = max(round((reported - arrived).total_seconds() / 60), 0)
    paid = visit.collection.payload if visit.collection else {}
    approval = visit.approval
    return TechnicianJobPublic(
        ticket=visit.ticket.external_id,
        ticket_id=visit.ticket.id or 0,
        order=visit.order.external_id,
        service_type=visit.ticket.service_type,
        arrived_at=arrived,
        reported_at=reported,
        minutes_on_site=on_site,
        parts=_parts(visit),
        charge=visit.charge.value,
        fee_cny=cny(paid.get("quote_fen", 0) - paid.get("discount_fen", 0)),
        discount_cny=cny(paid.get("discount_fen", 0)),
        approved_by=approval.payload.get("approved_by") if approval else None,
        collected_cny=cny(paid.get("amount_fen", 0)),
        method=paid.get("method"),
    )


def _at(payload: dict[str, Any]) -> dt.datetime | None:
    """The device time of a record; None where it has none or an unreadable one."""
    at = payload.get("at")
    try:
        moment = dt.datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else None


def _parts(visit: VisitFee) -> list[JobPartPublic]:
    """The parts charged with the fee, else those the signed report names."""
    if visit.collection is not None:
        lines = visit.collection.payload.get("parts", [])
        return [
            JobPartPublic(code=p["code"], name=p["name"], quantity=p["quantity"]) for p in lines
        ]
    used = visit.reported.payload.get("parts_used", []) if visit.reported else []
    return [
        JobPartPublic(code=p.get("sku", ""), name=p["name"], quantity=p["quantity"]) for p in used
    ]


def _add_jobs(row: TechnicianTotals, jobs: Sequence[TechnicianJobPublic]) -> None:
    row.jobs = len(jobs)
    row.paid = sum(job.charge == Charge.PAID for job in jobs)
    row.free = sum(job.charge in FREE for job in jobs)
    row.minutes_on_site = sum(job.minutes_on_site or 0 for job in jobs)
    row.fee_cny = round(sum(job.fee_cny for job in jobs), 2)
    row.collected_cash_cny = round(sum(j.collected_cny for j in jobs if j.method == "cash"), 2)
    row.collected_transfer_cny = round(
        sum(j.collected_cny for j in jobs if j.method == "transfer"), 2
    )


TOTALS = tuple(TechnicianTotals.model_fields)


def _sum(rows: Sequence[TechnicianTotals]) -> TechnicianTotals:
    """Summed from the rounded rows, so the total adds up on paper too."""
    total = TechnicianTotals()
    for name in TOTALS:
        value = sum(getattr(row, name) for row in rows)
        setattr(total, name, round(value, 2) if isinstance(value, float) else value)
    return total


HEAD: tuple[str, ...] = ("area", "vehicle", "technicians", "ticket", "order", "service_type")
HEAD += ("arrived_at",)
HEAD += ("reported_at", "minutes_on_site", "parts", "charge", "fee_cny", "discount_cny")
HEAD += ("approved_by", "collected_cny", "method")


def technician_report_csv(report: TechnicianReportPublic) -> bytes:
    """One row per job, then each technician's total row (its ticket column says total),
    and the total of the report last."""
    rows: list[tuple[object, ...]] = []
    for day in report.technicians:
        who = (day.area_code, day.vehicle_code, "; ".join(day.technicians))
        rows += [(*who, *_job_cells(job)) for job in day.job_list]
        rows.append((*who, *_total_cells(day)))
    rows.append((report.area_code or "", "total", "", *_total_cells(report.total)))
    return csv_bytes((HEAD, rows))


def _job_cells(job: TechnicianJobPublic) -> tuple[object, ...]:
    parts = "; ".join(f"{p.code or p.name}×{p.quantity}" for p in job.parts)
    return (
        job.ticket,
        job.order,
        job.service_type or "",
        job.arrived_at.isoformat() if job.arrived_at else "",
        job.reported_at.isoformat() if job.reported_at else "",
        "" if job.minutes_on_site is None else job.minutes_on_site,
        parts,
        job.charge,
        f"{job.fee_cny:.2f}",
        f"{job.discount_cny:.2f}",
        job.approved_by or "",
        f"{job.collected_cny:.2f}",
        job.method or "",
    )


def _total_cells(total: TechnicianTotals) -> tuple[object, ...]:
    """The job columns of a total row: counts where the type goes, sums where the amounts."""
    jobs = f"{total.jobs} jobs: {total.paid} paid, {total.free} free"
    collected = total.collected_cash_cny + total.collected_transfer_cny
    methods = f"cash {total.collected_cash_cny:.2f}; transfer {total.collected_transfer_cny:.2f}"
    fee = f"{total.fee_cny:.2f}"
    return ("total", "", jobs, "", "", total.minutes_on_site, "", "", fee, "", "") + (
        f"{collected:.2f}",
        methods,
    )
