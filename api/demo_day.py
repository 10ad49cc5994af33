"""The demo's second half: one crew's day after publishing, entirely through the HTTP API.

The warehouse counts the load against the picking list and the crew leader signs; the crew
leaves, delivers, collects cash, has each customer sign, fails one stop (customer absent),
deposits cash at a bank with two crew members, comes back and hands the rest to finance;
finance reconciles, and the daily delivery report is printed and saved.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from PIL import Image, ImageDraw


def drawn_signature() -> str:
    """A signature as the crew's phone sends it: a PNG of strokes on a canvas, base64."""
    canvas = Image.new("L", (240, 80), 255)
    ImageDraw.Draw(canvas).line([(10, 60), (60, 15), (110, 55), (170, 20), (230, 50)], width=3)
    png = io.BytesIO()
    canvas.save(png, format="PNG")
    return base64.b64encode(png.getvalue()).decode()


SIGNATURE = drawn_signature()


class CrewDay:
    """Writes one crew's records for `date`, each with its own Idempotency-Key."""

    def __init__(self, api: httpx.Client, date: dt.date, zone: str, keys: dict[str, str]):
        self.api, self.date, self.zone, self.keys = api, date, ZoneInfo(zone), keys

    def at(self, hhmm: str) -> str:
        hour, minute = map(int, hhmm.split(":"))
        return dt.datetime.combine(self.date, dt.time(hour, minute), tzinfo=self.zone).isoformat()

    def send(self, who: str, path: str, body: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {self.keys[who]}", "Idempotency-Key": uuid.uuid4().hex}
        answer = self.api.post(path, json=body, headers=headers)
        if answer.status_code >= 400:
            raise RuntimeError(f"POST {path}: {answer.status_code} {answer.text}")
        return answer.json()

    def read(self, who: str, path: str) -> httpx.Response:
        answer = self.api.get(path, headers={"Authorization": f"Bearer {self.keys[who]}"})
        if answer.status_code >= 400:
            raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text}")
        return answer


def issue_key(api: httpx.Client, role: str, name: str, vehicle: str | None = None) -> str:
    body = {"name": name, "role": role, "vehicle_code": vehicle}
    answer = api.post("/keys", json=body)
    answer.raise_for_status()
    return str(answer.json()["key"])


def issue_keys(api: httpx.Client, vehicle: str) -> dict[str, str]:
    return {
        "warehouse": issue_key(api, "warehouse", "成华仓库管"),
        "finance": issue_key(api, "finance", "财务"),
        "driver": issue_key(api, "driver", vehicle, vehicle),
    }


def publish(api: httpx.Client, plan: dict[str, Any]) -> None:
    answer = api.post(f"/plans/{plan['id']}/publish", headers={"If-Match": f'"{plan["version"]}"'})
    if answer.status_code >= 400:
        raise RuntimeError(f"publish: {answer.text}")


def pick_crew(plan: dict[str, Any]) -> dict[str, Any]:
    """A delivery truck with several stops and cash to collect: the most to show."""

    def cash(route: dict[str, Any]) -> float:
        return max((s["cash_cny"] for s in route["stops"]), default=0.0)

    trucks = [r for r in plan["routes"] if all(s["service_type"] == "delivery" for s in r["stops"])]
    # A truck that banks mid-route shows the planned deposit stop too.
    return max(trucks, key=lambda r: (len(r["stops"]) >= 4, bool(r.get("deposits")), cash(r)))


def walk_crew_day(api: httpx.Client, plan: dict[str, Any], zone: str, out: Path) -> list[str]:
    """Run the crew's day; returns the lines the demo prints."""
    publish(api, plan)
    route = pick_crew(plan)
    vehicle, date = route["vehicle_code"], dt.date.fromisoformat(plan["date"])
    day = CrewDay(api, date, zone, issue_keys(api, vehicle))
    said = [f"crew {vehicle}: {len(route['stops'])} stops on {date}"]
    said += _load_and_leave(day, vehicle, date)
    failed = route["stops"][1]["external_id"]
    planned = {bank["after"]: bank for bank in route.get("deposits", [])}
    deposited = False
    for number, stop in enumerate(route["stops"]):
        said.append(_visit(day, stop, fail=stop["external_id"] == failed, number=number))
        # The crew banks at its planned stops; without one, once mid-route when there is cash,
        # which shows the two-member rule all the same.
        bank = planned.get(number + 1)
        due = bank is not None or (not planned and number >= 2 and not deposited)
        if due and (deposit := _deposit(day, vehicle, stop["departure"], bank)):
            said.append(deposit)
            deposited = True
    said += _close_day(day, vehicle, out)
    return said


def _load_and_leave(day: CrewDay, vehicle: str, date: dt.date) -> list[str]:
    base = f"/handover/{date}"
    lines = day.read("warehouse", f"{base}/loading/{vehicle}").json()["lines"]
    counts = [{"order": x["order"], "sku": x["sku"], "quantity": x["expected"]} for x in lines]
    day.send(
        "warehouse",
        f"{base}/loading/{vehicle}/count",
        {"keeper_name": "王库管", "at": day.at("07:30"), "counts": counts},
    )
    crew = day.read("driver", f"/driver/route?date={date}").json()["crew"]
    leader = crew[0]["name"] if crew else "组长"
    day.send(
        "driver",
        f"{base}/loading/{vehicle}/sign",
        {"crew_leader_name": leader, "at": day.at("07:40")},
    )
    day.send(
        "driver",
        f"{base}/routes/{vehicle}/depart",
        {"at": day.at("07:45"), "lat": 30.66, "lon": 104.06},
    )
    items = sum(c["quantity"] for c in counts)
    return [f"  loaded {items} items, count matches, signed by 王库管 and {leader}; left 07:45"]


def _visit(day: CrewDay, stop: dict[str, Any], *, fail: bool, number: int) -> str:
    base, order = f"/handover/{day.date}/stops/{stop['external_id']}", stop["external_id"]
    place = {"at": day.at(stop["arrival"]), "lat": 30.6 + number / 1000, "lon": 104.0}
    if fail:
        body = {
            **place,
            "reason": "customer_absent",
            "outcome": "back_to_warehouse",
            "note": "电话未接",
        }
        again = day.send("driver", f"{base}/fail", body)["payload"]["replanned_for"]
        return (
            f"  {stop['arrival']} {order}: customer absent; goods back, planned again for {again}"
        )
    day.send("driver", f"{base}/arrive", place)
    items = day.read("driver", f"/driver/route?date={day.date}").json()["stops"]
    goods = next(s["items"] for s in items if s["external_id"] == order)
    counts = [{"sku": i["sku"], "quantity": i["quantity"]} for i in goods]
    day.send("driver", f"{base}/deliver", {**place, "counts": counts})
    cash = stop["cash_to_collect_cny"] if "cash_to_collect_cny" in stop else _due(day, order)
    if cash:
        day.send(
            "driver",
            f"/cash/{day.date}/collections",
            {"order": order, "amount_cny": cash, "method": "cash", "at": place["at"]},
        )
    sign = {
        **place,
        "signer_name": stop["customer"],
        "signature_png": SIGNATURE,
        "counts": counts,
        "amount_cny": cash,
    }
    day.send("driver", f"{base}/signoff", sign)
    handed = sum(c["quantity"] for c in counts)
    return (
        f"  {stop['arrival']} {order}: {handed} item(s) delivered, {cash:,.0f} CNY collected, "
        f"signed by {stop['customer']}"
    )


def _due(day: CrewDay, order: str) -> float:
    stops = day.read("driver", f"/driver/route?date={day.date}").json()["stops"]
    return float(next(s["cash_to_collect_cny"] for s in stops if s["external_id"] == order))


def _deposit(
    day: CrewDay, vehicle: str, hhmm: str, bank: dict[str, Any] | None = None
) -> str | None:
    on_board = day.read("driver", f"/cash/{day.date}/on-board/{vehicle}").json()
    amount = on_board["cash_on_board_cny"]
    if not amount:
        return None
    crew = day.read("driver", f"/driver/route?date={day.date}").json()["crew"]
    members = [m["name"] for m in crew[:2]] if len(crew) >= 2 else ["张伟", "刘洋"]
    body = {
        "vehicle_code": vehicle,
        "amount_cny": amount,
        "members": members,
        "bank_reference": "ICBC-0001",
        "at": day.at(bank["start"] if bank else hhmm),
    }
    if bank is not None:
        body["bank_code"] = bank["bank_code"]
    record = day.send("driver", f"/cash/{day.date}/deposits", body)
    where = f" at {bank['bank_name']} (its planned stop)" if record.get("planned") and bank else ""
    when = bank["start"] if bank else hhmm
    return f"  {when} bank deposit of {amount:,.0f} CNY{where} by {' and '.join(members)}"


def _close_day(day: CrewDay, vehicle: str, out: Path) -> list[str]:
    day.send(
        "driver",
        f"/handover/{day.date}/routes/{vehicle}/return",
        {"at": day.at("17:30"), "lat": 30.66, "lon": 104.06},
    )
    on_board = day.read("finance", f"/cash/{day.date}/on-board/{vehicle}").json()[
        "cash_on_board_cny"
    ]
    crew = day.read("driver", f"/driver/route?date={day.date}").json()["crew"]
    leader = crew[0]["name"] if crew else "组长"
    body = {
        "vehicle_code": vehicle,
        "amount_cny": on_board,
        "handed_by": leader,
        "received_by": "财务",
        "at": day.at("17:45"),
    }
    day.send("finance", f"/cash/{day.date}/handovers", body)
    day.send("finance", f"/cash/{day.date}/reconciliation", {})
    csv = day.read("finance", f"/reports/daily/{day.date}.csv")
    (out / "daily-report.csv").write_bytes(csv.content)
    report = day.read("finance", f"/reports/daily/{day.date}").json()
    (out / "daily-report.json").write_text(httpx.Response(200, json=report).text, encoding="utf-8")
    return [
        f"  17:30 back at the warehouse; {on_board:,.0f} CNY handed to finance; reconciled",
        "daily delivery report (送货日报表):",
        *("  " + line for line in csv.content.decode("utf-8-sig").splitlines()),
        f"written {out / 'daily-report.csv'} and daily-report.json",
    ]
