"""The demo's third part: the technicians' next day, entirely through the HTTP API.

What the crew handed over that needs installing has become installation visits; customer
service opens a repair ticket for one of the same customers. Both are planned into the next
day's technician routes by the same planner, the plan is published (which assigns the
ticket), and the technicians arrive and have each customer sign a service report. The
ticket is closed with its checks and that report, and its follow-up call is recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx

from api.demo_day import SIGNATURE, CrewDay, issue_key, publish

SEAL = {"sku": "PART-SEAL", "name": "下水管密封圈", "quantity": 1}
Planner = Callable[[dt.date], dict[str, Any]]


def open_repair_ticket(day: CrewDay, customer_order: dict[str, Any], when: str) -> dict[str, Any]:
    """Customer service takes a call about a leaking sink and makes the ticket dispatchable."""
    ticket = day.send(
        "dispatcher",
        "/tickets",
        {
            "external_id": f"TK-{customer_order['external_id']}",
            "category": "repair",
            "description": "水槽下水管接口漏水 / the sink's drain joint leaks",
            "urgency": "high",
            "preferred_time": when,
            "customer_name": customer_order["customer"],
            "customer_phone": customer_order["phone"],
            "equipment": "不锈钢水槽 SINK-SS",
            "service_type": "repair",
            "on_site_at": when,
            "order_external_id": customer_order["external_id"],
        },
    )
    day.send("dispatcher", f"/tickets/{ticket['id']}/answer", {})
    return dict(day.send("dispatcher", f"/tickets/{ticket['id']}/schedule", {}))


def technicians_day(
    api: httpx.Client,
    date: dt.date,
    zone: str,
    delivered: list[dict[str, Any]],
    plan_day: Planner,
) -> list[str]:
    """Book the repair, plan and publish the day after `date`, and walk its service visits.

    `delivered` are the stops the crew handed goods over at on `date`.
    """
    next_day = date + dt.timedelta(days=1)
    ahead = CrewDay(api, next_day, zone, {"dispatcher": issue_key(api, "dispatcher", "客服")})
    ticket = open_repair_ticket(ahead, delivered[0], ahead.at("14:00"))
    said = [f"ticket {ticket['external_id']} opened, answered and scheduled for 14:00 {next_day}"]
    plan = plan_day(next_day)
    publish(api, plan)
    handed = {stop["order_id"] for stop in delivered}
    visits = [
        (route["vehicle_code"], stop)
        for route in plan["routes"]
        for stop in route["stops"]
        if stop["order_id"] == ticket["visit_order_id"] or _follows(api, stop) in handed
    ]
    said.append(
        f"plan {plan['id']} for {next_day} published: "
        + ", ".join(
            f"{stop['external_id']} on {vehicle} at {stop['arrival']}" for vehicle, stop in visits
        )
    )
    technicians = {}
    for vehicle in sorted({vehicle for vehicle, _ in visits}):
        keys = {**ahead.keys, "driver": issue_key(api, "driver", vehicle, vehicle)}
        technicians[vehicle] = CrewDay(api, next_day, zone, keys)
        # Nothing to load: a technician's round starts with leaving the warehouse.
        depart = {"at": ahead.at("08:00"), "lat": 30.66, "lon": 104.06}
        technicians[vehicle].send("driver", f"/handover/{next_day}/routes/{vehicle}/depart", depart)
    for vehicle, stop in visits:
        said += _service_visit(technicians[vehicle], vehicle, stop, ticket)
    return said


def _follows(api: httpx.Client, stop: dict[str, Any]) -> int | None:
    """The delivery an installation visit follows; None for any other visit."""
    if stop["service_type"] != "install":
        return None
    follows: int | None = api.get(f"/orders/{stop['external_id']}").json()["follows_order_id"]
    return follows


def _service_visit(
    tech: CrewDay, vehicle: str, stop: dict[str, Any], ticket: dict[str, Any]
) -> list[str]:
    order = stop["external_id"]
    base = f"/handover/{tech.date}/stops/{order}"
    place = {"at": tech.at(stop["arrival"]), "lat": 30.66, "lon": 104.06}
    is_ticket = stop["order_id"] == ticket["visit_order_id"]
    said = []
    if is_ticket:
        tech.send(
            "dispatcher", f"/tickets/{ticket['id']}/contact", {"estimated_arrival": place["at"]}
        )
        said.append(f"  {vehicle} called the customer: arriving {stop['arrival']}")
    tech.send("driver", f"{base}/arrive", place)
    report = tech.send(
        "driver",
        f"{base}/service-report",
        {
            **place,
            "work_done": "更换下水管密封圈并试水 / drain seal replaced, tested"
            if is_ticket
            else "安装完成并调试 / installed and adjusted",
            "parts_used": [SEAL] if is_ticket else [],
            "satisfaction": 5,
            "signer_name": stop["customer"],
            "signature_png": SIGNATURE,
        },
    )
    said.append(
        f"  {stop['arrival']} {vehicle} {order}: {stop['service_type']} done, service report "
        f"#{report['id']} signed by {stop['customer']}"
    )
    if is_ticket:
        closed = tech.send(
            "dispatcher",
            f"/tickets/{ticket['id']}/close",
            {
                "tested": True,
                "site_cleaned": True,
                "service_report_id": report["id"],
                "satisfaction": 5,
            },
        )
        tech.send("dispatcher", f"/tickets/{ticket['id']}/follow-up", {})
        said.append(
            f"  ticket {closed['external_id']} closed with report #{report['id']}; "
            "follow-up call done"
        )
    return said
