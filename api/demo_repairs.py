"""The demo's take-back repair, entirely through the HTTP API.

A customer's range hood stops; the technician cannot fix it on site, takes it back with a
numbered receipt the customer signs for on the service report, the workshop repairs it (the
repair card), a supervisor inspects it, the return visit is booked at the customer's time
and planned like any technician's visit, and the customer signs for it on its return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx

from api.demo_day import SIGNATURE, CrewDay, issue_key, publish

Planner = Callable[[dt.date], dict[str, Any]]
HOOD = "抽油烟机 CXW-200"


def _visit(api: httpx.Client, plan: dict[str, Any], order_id: int) -> tuple[str, dict[str, Any]]:
    """The technician and stop of the visit order on the published plan."""
    publish(api, plan)
    return next(
        (route["vehicle_code"], stop)
        for route in plan["routes"]
        for stop in route["stops"]
        if stop["order_id"] == order_id
    )


def _signed_visit(
    api: httpx.Client, day: CrewDay, vehicle: str, stop: dict[str, Any], work: str
) -> dict[str, Any]:
    """The technician leaves, arrives and has the customer sign the service report."""
    day.keys["driver"] = issue_key(api, "driver", vehicle, vehicle)
    place = {"at": day.at(stop["arrival"]), "lat": 30.66, "lon": 104.06}
    day.send("driver", f"/handover/{day.date}/routes/{vehicle}/depart", place)
    base = f"/handover/{day.date}/stops/{stop['external_id']}"
    day.send("driver", f"{base}/arrive", place)
    report = {**place, "work_done": work, "satisfaction": 5, "signer_name": stop["customer"]}
    return dict(
        day.send("driver", f"{base}/service-report", {**report, "signature_png": SIGNATURE})
    )


def take_back_tour(
    api: httpx.Client, date: dt.date, zone: str, customer: dict[str, Any], plan_day: Planner
) -> list[str]:
    """A take-back at a visit on `date`, and the return two days later; what happened."""
    keys = {"dispatcher": issue_key(api, "dispatcher", "售后主管")}
    day = CrewDay(api, date, zone, keys)
    ticket = day.send(
        "dispatcher",
        "/tickets",
        {
            "external_id": f"TK-HOOD-{customer['external_id']}",
            "category": "repair",
            "description": "抽油烟机不转 / the range hood's fan does not turn",
            "customer_name": customer["customer"],
            "customer_phone": customer["phone"],
            "equipment": HOOD,
            "service_type": "repair",
            # The warranty card: a range hood's 12 months ran out long ago, so a paid repair.
            "product_type": "appliance",
            "purchase_date": (date - dt.timedelta(days=800)).isoformat(),
            "on_site_at": day.at("10:00"),
            "order_external_id": customer["external_id"],
        },
    )
    for step in ("answer", "schedule"):
        ticket = day.send("dispatcher", f"/tickets/{ticket['id']}/{step}", {})
    vehicle, stop = _visit(api, plan_day(date), ticket["visit_order_id"])
    report = _signed_visit(api, day, vehicle, stop, "电机不转, 现场无法修复, 带回维修")
    goods = day.send(
        "driver",
        "/repairs",
        {
            "ticket_id": ticket["id"],
            "service_report_id": report["id"],
            "product": HOOD,
            "serial": "SN-77821",
            "condition": "外壳轻微划痕",
            "accessories": "遥控器",
            "fault": "风机电机不转",
            "at": day.at(stop["arrival"]),
        },
    )
    said = [f"  {date} {vehicle} took the range hood back: receipt {goods['receipt_no']}"]
    path = f"/repairs/{goods['id']}"
    card = {"labour_hours": 1.5, "work_done": "更换风机电机, 试机正常", "at": day.at("16:00")}
    card["parts"] = [{"code": "MOTOR-HOOD", "name": "风机电机", "quantity": 1}]
    day.send("driver", f"{path}/repair-card", card)
    day.send("dispatcher", f"{path}/inspection", {"passed": True, "at": day.at("17:00")})
    back = CrewDay(api, date + dt.timedelta(days=2), zone, dict(keys))
    booked = day.send("dispatcher", f"{path}/return-visit", {"on_site_at": back.at("10:00")})
    said.append(
        f"  register: in -> repaired -> inspected -> return visit booked ({booked['status']})"
    )
    order = api.get(f"/tickets/{ticket['id']}").json()["visit_order_id"]
    vehicle, stop = _visit(api, plan_day(back.date), order)
    said.append(f"  return visit {stop['external_id']} routed on {vehicle} at {stop['arrival']}")
    signed = _signed_visit(api, back, vehicle, stop, "送还修好的抽油烟机并试机")
    body = {"service_report_id": signed["id"], "receipt_returned": True, "at": back.at("10:30")}
    out = back.send("driver", f"{path}/return", {**body, "lat": 30.66, "lon": 104.06})
    charge = out["charge_fen"] / 100
    said.append(
        f"  {back.date} signed out by {stop['customer']}: receipt {out['receipt_no']} closed, "
        f"repair charged {charge:.2f} CNY"
    )
    said.append(_collect(api, back, vehicle, ticket["id"], charge))
    return said


def _collect(api: httpx.Client, day: CrewDay, vehicle: str, ticket_id: int, charge: float) -> str:
    """The technician takes the charge in cash and hands it to finance; the day reconciled."""
    staff = api.post("/staff", json={"name": "刘师傅", "role": "technician"}).json()
    crew = {"date": day.date.isoformat(), "vehicle_code": vehicle, "staff_id": staff["id"]}
    api.post("/crews", json={**crew, "role": "technician"}).raise_for_status()
    paid = {"amount_cny": charge, "method": "cash", "at": day.at("10:40")}
    day.send("driver", f"/fees/{day.date}/tickets/{ticket_id}/collection", paid)
    day.keys["finance"] = issue_key(api, "finance", "财务")
    handed = {"vehicle_code": vehicle, "amount_cny": charge, "handed_by": staff["name"]}
    handed |= {"received_by": "财务", "at": day.at("17:30")}
    day.send("finance", f"/cash/{day.date}/handovers", handed)
    checked = day.send("finance", f"/cash/{day.date}/reconciliation", {})
    crew_day = next(c for c in checked["crews"] if c["vehicle_code"] == vehicle)
    state = "reconciled" if not crew_day["mismatches"] else f"{crew_day['mismatches']}"
    return f"  fee ¥{charge:.2f} collected in cash and handed to finance; {vehicle}'s day {state}"
