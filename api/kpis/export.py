"""The KPI report as a CSV for Excel: the crews and their total, the technicians, the tickets.

Three tables one after the other, each with its own header row and a blank line between;
an empty rate cell means there was nothing to rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from api.core.spreadsheet import csv_bytes
from api.kpis.models import AveragePublic, CrewKpiPublic, KpiReportPublic, RatePublic

CREW_RATES = (
    "on_time_morning",
    "on_time_afternoon",
    "delivery_success",
    "installs_within_window",
)
TECHNICIAN_RATES = ("visits_on_time", "contacted_in_time", "first_visit_fix")
PARTS = ("numerator", "denominator", "rate")
AVERAGE = ("satisfaction_count", "satisfaction_total", "satisfaction_average")
CREW_HEAD = ("vehicle", *(f"{name}_{part}" for name in CREW_RATES for part in PARTS), *AVERAGE)
CREW_HEAD += ("area",)
TECHNICIAN_HEAD = (
    "technician",
    "name",
    *(f"{name}_{part}" for name in TECHNICIAN_RATES for part in PARTS),
    "tickets_closed",
    *AVERAGE,
)
TICKET_HEAD = ("ticket_kpi", "numerator", "denominator", "value")


def _cell(value: float | None, places: int = 4) -> str:
    return "" if value is None else f"{value:.{places}f}"


def _rates(rates: Iterable[RatePublic]) -> list[object]:
    return [x for r in rates for x in (r.numerator, r.denominator, _cell(r.rate))]


def _average(average: AveragePublic) -> list[object]:
    return [average.count, average.total, _cell(average.average, 2)]


def _crew_rows(report: KpiReportPublic) -> list[Sequence[object]]:
    """Each area's crews (and, over several areas, the area's total), then the total."""
    crews = {crew.vehicle_code: crew for crew in report.crews}
    several = len(report.by_area) > 1
    rows = [
        _crew_row(row, part.area_code)
        for part in report.by_area
        for row in [crews[code] for code in part.crews] + ([part.total] if several else [])
    ]
    return [*rows, _crew_row(report.total, report.area_code or "")]


def _crew_row(crew: CrewKpiPublic, area: str) -> Sequence[object]:
    return (
        crew.vehicle_code,
        *_rates(getattr(crew, name) for name in CREW_RATES),
        *_average(crew.satisfaction),
        area,
    )


def _technician_rows(report: KpiReportPublic) -> list[Sequence[object]]:
    return [
        (
            row.vehicle_code,
            row.name,
            *_rates(getattr(row, name) for name in TECHNICIAN_RATES),
            row.tickets_closed,
            *_average(row.satisfaction),
        )
        for row in report.technicians
    ]


def _ticket_rows(report: KpiReportPublic) -> list[Sequence[object]]:
    t = report.tickets
    return [
        ("opened", "", "", t.opened),
        ("answered", "", "", t.answered),
        ("hours_to_answer_median", "", "", _cell(t.hours_to_answer_median, 2)),
        ("hours_to_answer_p90", "", "", _cell(t.hours_to_answer_p90, 2)),
        ("answered_in_time", *_rates([t.answered_in_time])),
        ("contacted_in_time", *_rates([t.contacted_in_time])),
        ("closed", "", "", t.closed),
        ("first_visit_fix", *_rates([t.first_visit_fix])),
        (
            "satisfaction",
            t.satisfaction.total,
            t.satisfaction.count,
            _cell(t.satisfaction.average, 2),
        ),
    ]


def kpis_csv(report: KpiReportPublic) -> bytes:
    return csv_bytes(
        (CREW_HEAD, _crew_rows(report)),
        (TECHNICIAN_HEAD, _technician_rows(report)),
        (TICKET_HEAD, _ticket_rows(report)),
    )
