"""The board's KPI panel: the /kpis figures of the board's date, or of the days up to it.

Read from api.kpis.service.kpis, the function behind GET /kpis, so the panel and the API
never disagree; the panel shows the totals over every crew and technician.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Request
from sqlmodel import Session

from api.core.config import ServiceSettings
from api.kpis.models import AveragePublic, RatePublic
from api.kpis.service import kpis

RANGES = (1, 7)  # the panel's choices: the day itself, or the week up to it

KPI_WORDS: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "kpi_title": "服务指标",
        "kpi_days_1": "当天",
        "kpi_days_7": "近7天",
        "kpi_on_time_morning": "上午准时率",
        "kpi_on_time_afternoon": "下午准时率",
        "kpi_delivery_success": "配送成功率",
        "kpi_installs": "安装按期完成",
        "kpi_answered_in_time": "工单按时响应",
        "kpi_satisfaction": "平均满意度",
        "kpi_reports": "份评价",
        "kpi_hours": "小时内",
        "kpi_none": "暂无数据",
    },
    "en": {
        "kpi_title": "Service KPIs",
        "kpi_days_1": "This day",
        "kpi_days_7": "Last 7 days",
        "kpi_on_time_morning": "On time, morning",
        "kpi_on_time_afternoon": "On time, afternoon",
        "kpi_delivery_success": "Delivery success",
        "kpi_installs": "Installs within their window",
        "kpi_answered_in_time": "Tickets answered in time",
        "kpi_satisfaction": "Average satisfaction",
        "kpi_reports": "reports",
        "kpi_hours": "hours",
        "kpi_none": "no data yet",
    },
}


@dataclass(frozen=True)
class Figure:
    key: str  # names the word (kpi_<key>) and the element (kpi-<key>)
    value: str | None  # "83%", "4.50"; None when there is nothing to rate
    numerator: int
    denominator: int  # for satisfaction: the reports' points over their count


@dataclass(frozen=True)
class KpiPanel:
    start: dt.date
    end: dt.date
    days: int
    answer_hours: float
    figures: list[Figure]
    links: dict[int, str]  # days -> this page with that range


def kpi_panel(
    *,
    request: Request,
    session: Session,
    settings: ServiceSettings,
    area: str,
    date: dt.date,
    days: int,
    now: dt.datetime,
) -> KpiPanel:
    """The area's panel over the `days` days ending on `date`."""
    start = date - dt.timedelta(days=days - 1)
    report = kpis(session=session, settings=settings, areas=(area,), start=start, end=date, now=now)
    total = report.total
    figures = [
        _rate("on_time_morning", total.on_time_morning),
        _rate("on_time_afternoon", total.on_time_afternoon),
        _rate("delivery_success", total.delivery_success),
        _rate("installs", total.installs_within_window),
        _rate("answered_in_time", report.tickets.answered_in_time),
        _average("satisfaction", total.satisfaction),
    ]
    links = {}
    for choice in RANGES:
        url = request.url.include_query_params(kpi_days=choice)
        links[choice] = f"{url.path}?{url.query}"
    return KpiPanel(start, date, days, settings.ticket_answer_hours, figures, links)


def _rate(key: str, rate: RatePublic) -> Figure:
    value = None if rate.rate is None else f"{rate.rate:.0%}"
    return Figure(key, value, rate.numerator, rate.denominator)


def _average(key: str, average: AveragePublic) -> Figure:
    value = None if average.average is None else f"{average.average:.2f}"
    return Figure(key, value, average.total, average.count)
