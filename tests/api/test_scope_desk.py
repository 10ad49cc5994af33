"""The desk's routes against the scope boundary: a key of Shanghai never reads or writes a
Chengdu crew's records, cash, route, paper, report or page, and Chengdu's own key does.

Writes walk Chengdu's day in order (count, reconcile, sign, depart, stops, cash, the
corrections, return, the reconciliation); each step is tried first by the same role scoped
to Shanghai (403 and nothing stored), then by Chengdu's key. Driver-only steps are tried by
an admin scoped to Shanghai: a driver's key is always its own vehicle's area.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from api_keys import KeyMaker
from desk_helpers import AT, CREW, PLACE, PNG, D, count_body, sign_off_body, two_area_day_database
from fastapi.testclient import TestClient
from ledger_helpers import on_the_day
from plan_helpers import engine_of
from sqlmodel import Session, col, func, select

from api.core.config import ServiceSettings
from api.records.models import LedgerEntry

# Every route of the desk: (method, path as FastAPI registers it).
WRITES: set[tuple[str, str]] = {
    ("POST", "/handover/{date}/loading/{vehicle}/count"),
    ("POST", "/handover/{date}/loading/{vehicle}/sign"),
    ("POST", "/handover/{date}/loading/{vehicle}/reconcile"),
    ("POST", "/handover/{date}/routes/{vehicle}/depart"),
    ("POST", "/handover/{date}/routes/{vehicle}/return"),
    ("POST", "/handover/{date}/stops/{order}/arrive"),
    ("POST", "/handover/{date}/stops/{order}/deliver"),
    ("POST", "/handover/{date}/stops/{order}/fail"),
    ("POST", "/handover/{date}/stops/{order}/signoff"),
    ("POST", "/handover/{date}/stops/{order}/service-report"),
    ("POST", "/handover/{date}/stops/{order}/photos"),
    ("POST", "/handover/{date}/records/{entry_id}/corrections"),
    ("POST", "/cash/{date}/collections"),
    ("POST", "/cash/{date}/deposits"),
    ("POST", "/cash/{date}/handovers"),
    ("POST", "/cash/{date}/reconciliation"),
    ("POST", "/cash/{date}/corrections/{entry_id}/accept"),
}
READS: set[tuple[str, str]] = {
    ("GET", "/handover/{date}/loading/{vehicle}"),
    ("GET", "/handover/{date}/records"),
    ("GET", "/handover/attachments/{sha256}"),
    ("GET", "/cash/{date}/on-board/{vehicle_code}"),
    ("GET", "/cash/{date}/reconciliation"),
    ("GET", "/driver/route"),
    ("GET", "/plans/{plan_id}/dispatch-sheet.csv"),
    ("GET", "/plans/{plan_id}/dispatch-sheet.html"),
    ("GET", "/dispatch-sheet"),
    ("GET", "/plans/{plan_id}/picking-lists.csv"),
    ("GET", "/plans/{plan_id}/picking-lists.html"),
    ("GET", "/reports/daily/{date}"),
    ("GET", "/reports/daily/{date}.csv"),
    ("GET", "/kpis"),
    ("GET", "/kpis.csv"),
}
# The pages are covered in test_scope_desk_pages.
COVERED: set[tuple[str, str]] = WRITES | READS
Context = dict[str, Any]


@dataclass(frozen=True)
class Step:
    route: tuple[str, str]
    path: Callable[[Context], str]
    body: Callable[[Context], dict[str, Any]]
    role: str  # Chengdu's key; "driver" is CD1's
    outsider: str  # the same role scoped to Shanghai, or an admin there for driver steps
    remember: str = ""  # keep the stored record's id under this name
    refused_in_scope: int | None = None  # in scope, a rule of the day (not the scope) refuses


def _fixed(path: str) -> Callable[[Context], str]:
    return lambda _: path


def _body(body: dict[str, Any]) -> Callable[[Context], dict[str, Any]]:
    return lambda _: body


H, C = f"/handover/{D}", f"/cash/{D}"
FLOW = [
    Step(
        ("POST", "/handover/{date}/loading/{vehicle}/count"),
        _fixed(f"{H}/loading/CD1/count"),
        _body(count_body("cd", short=True)),
        "warehouse",
        "warehouse",
    ),
    Step(
        ("POST", "/handover/{date}/loading/{vehicle}/reconcile"),
        _fixed(f"{H}/loading/CD1/reconcile"),
        _body({"agreed_by": [CREW["cd"][0], "王库管"], "note": "CD-3 stays", "at": AT}),
        "dispatcher",
        "dispatcher",
    ),
    Step(
        ("POST", "/handover/{date}/loading/{vehicle}/sign"),
        _fixed(f"{H}/loading/CD1/sign"),
        _body({"crew_leader_name": CREW["cd"][0], "at": AT}),
        "driver",
        "admin",
    ),
    Step(
        ("POST", "/handover/{date}/routes/{vehicle}/depart"),
        _fixed(f"{H}/routes/CD1/depart"),
        _body(PLACE),
        "driver",
        "admin",
    ),
    Step(
        ("POST", "/handover/{date}/stops/{order}/arrive"),
        _fixed(f"{H}/stops/CD-2/arrive"),
        _body(PLACE),
        "driver",
        "admin",
    ),
    Step(
        ("POST", "/cash/{date}/collections"),
        _fixed(f"{C}/collections"),
        _body({"order": "CD-2", "amount_cny": 500, "method": "cash", "at": AT}),
        "driver",
        "dispatcher",
        remember="collection",
    ),
    Step(
        ("POST", "/handover/{date}/stops/{order}/deliver"),
        _fixed(f"{H}/stops/CD-2/deliver"),
        _body({**PLACE, "counts": [{"sku": "SOFA", "quantity": 1}]}),
        "driver",
        "admin",
    ),
    Step(
        ("POST", "/handover/{date}/stops/{order}/signoff"),
        _fixed(f"{H}/stops/CD-2/signoff"),
        _body(sign_off_body(500)),
        "driver",
        "admin",
    ),
    Step(
        ("POST", "/handover/{date}/stops/{order}/photos"),
        _fixed(f"{H}/stops/CD-2/photos"),
        _body({**PLACE, "image": PNG, "caption": "门口"}),
        "driver",
        "admin",
        remember="photo",
    ),
    Step(
        ("POST", "/handover/{date}/stops/{order}/service-report"),
        _fixed(f"{H}/stops/CD-2/service-report"),
        _body(
            {
                **PLACE,
                "work_done": "装好",
                "satisfaction": 5,
                "signer_name": "客户",
                "signature_png": PNG,
            }
        ),
        "driver",
        "admin",
        refused_in_scope=422,  # CD-2 is a delivery, not a service visit
    ),
    Step(
        ("POST", "/handover/{date}/stops/{order}/fail"),
        _fixed(f"{H}/stops/CD-1/fail"),
        _body({**PLACE, "reason": "customer_absent", "outcome": "back_to_warehouse"}),
        "driver",
        "admin",
    ),
    Step(
        ("POST", "/cash/{date}/deposits"),
        _fixed(f"{C}/deposits"),
        _body(
            {
                "vehicle_code": "CD1",
                "amount_cny": 200,
                "members": CREW["cd"],
                "bank_reference": "B-1",
                "at": AT,
            }
        ),
        "driver",
        "admin",
    ),
    Step(
        ("POST", "/cash/{date}/handovers"),
        _fixed(f"{C}/handovers"),
        _body(
            {
                "vehicle_code": "CD1",
                "amount_cny": 100,
                "handed_by": CREW["cd"][0],
                "received_by": "财务",
                "at": AT,
            }
        ),
        "finance",
        "finance",
    ),
    Step(
        ("POST", "/handover/{date}/records/{entry_id}/corrections"),
        lambda ctx: f"{H}/records/{ctx['collection']}/corrections",
        _body({"reason": "miscounted", "changes": {"amount_fen": 50_000}}),
        "finance",
        "finance",
        remember="correction",
    ),
    Step(
        ("POST", "/cash/{date}/corrections/{entry_id}/accept"),
        lambda ctx: f"{C}/corrections/{ctx['correction']}/accept",
        _body({}),
        "finance",
        "finance",
    ),
    Step(
        ("POST", "/handover/{date}/routes/{vehicle}/return"),
        _fixed(f"{H}/routes/CD1/return"),
        _body(PLACE),
        "driver",
        "admin",
    ),
    Step(
        ("POST", "/cash/{date}/reconciliation"),
        _fixed(f"{C}/reconciliation?area=cd"),
        _body({}),
        "finance",
        "finance",
    ),
]


prepared_database = two_area_day_database


@pytest.fixture
def chain(settings: ServiceSettings) -> Iterator[TestClient]:
    yield from on_the_day(settings)


def cd_key(key_for: KeyMaker, role: str) -> dict[str, str]:
    return key_for("driver", "CD1") if role == "driver" else key_for(role, areas=["cd"])


def _records(client: TestClient) -> int:
    with Session(engine_of(client)) as session:
        return int(session.exec(select(func.count(col(LedgerEntry.id)))).one())


def walk(client: TestClient, key_for: KeyMaker, steps: list[Step], ctx: Context) -> None:
    """Chengdu's key takes the steps, each as the day allows, remembering ids."""
    for step in steps:
        key = f"{step.route[1]}-{uuid.uuid4().hex}"
        answer = client.post(
            step.path(ctx),
            json=step.body(ctx),
            headers={**cd_key(key_for, step.role), "Idempotency-Key": key},
        )
        expected = step.refused_in_scope or 201
        assert answer.status_code == expected, (step.route, answer.text)
        if step.remember:
            ctx[step.remember] = answer.json()["id"]


def test_the_writes_cover_every_step() -> None:
    """The walk takes every write route of the desk once."""
    assert {step.route for step in FLOW} == WRITES and len(FLOW) == len(WRITES)


@pytest.mark.parametrize("index", range(len(FLOW)), ids=[s.route[1] for s in FLOW])
def test_a_write_on_another_areas_crew_is_403(
    chain: TestClient, key_for: KeyMaker, index: int
) -> None:
    """Shanghai's key is refused with area_scope and stores nothing; Chengdu's succeeds."""
    ctx: Context = {}
    walk(chain, key_for, FLOW[:index], ctx)
    step = FLOW[index]
    before = _records(chain)
    outsider = key_for(step.outsider, areas=["sh"])
    answer = chain.post(
        step.path(ctx),
        json=step.body(ctx),
        headers={**outsider, "Idempotency-Key": f"out-{uuid.uuid4().hex}"},
    )
    assert answer.status_code == 403, answer.text
    assert _records(chain) == before
    walk(chain, key_for, [step], ctx)


@dataclass(frozen=True)
class Read:
    route: tuple[str, str]
    path: Callable[[Context], str]  # of Chengdu's
    role: str


def _plan(ctx: Context) -> int:
    return int(ctx["plan"])


WEEK = f"from={D}&to={D}"
READ_CASES = [
    Read(("GET", "/handover/{date}/loading/{vehicle}"), _fixed(f"{H}/loading/CD1"), "warehouse"),
    Read(("GET", "/handover/{date}/records"), _fixed(f"{H}/records?area=cd"), "dispatcher"),
    Read(
        ("GET", "/handover/attachments/{sha256}"),
        lambda ctx: f"/handover/attachments/{ctx['image']}",
        "dispatcher",
    ),
    Read(("GET", "/cash/{date}/on-board/{vehicle_code}"), _fixed(f"{C}/on-board/CD1"), "finance"),
    Read(("GET", "/cash/{date}/reconciliation"), _fixed(f"{C}/reconciliation?area=cd"), "finance"),
    Read(("GET", "/driver/route"), _fixed(f"/driver/route?date={D}&vehicle=CD1"), "dispatcher"),
    Read(
        ("GET", "/plans/{plan_id}/dispatch-sheet.csv"),
        lambda ctx: f"/plans/{_plan(ctx)}/dispatch-sheet.csv",
        "dispatcher",
    ),
    Read(
        ("GET", "/plans/{plan_id}/dispatch-sheet.html"),
        lambda ctx: f"/plans/{_plan(ctx)}/dispatch-sheet.html",
        "warehouse",
    ),
    Read(("GET", "/dispatch-sheet"), _fixed(f"/dispatch-sheet?date={D}&area=cd"), "warehouse"),
    Read(
        ("GET", "/plans/{plan_id}/picking-lists.csv"),
        lambda ctx: f"/plans/{_plan(ctx)}/picking-lists.csv",
        "warehouse",
    ),
    Read(
        ("GET", "/plans/{plan_id}/picking-lists.html"),
        lambda ctx: f"/plans/{_plan(ctx)}/picking-lists.html?vehicle=CD1",
        "warehouse",
    ),
    Read(("GET", "/reports/daily/{date}"), _fixed(f"/reports/daily/{D}?area=cd"), "finance"),
    Read(
        ("GET", "/reports/daily/{date}.csv"), _fixed(f"/reports/daily/{D}.csv?area=cd"), "finance"
    ),
    Read(("GET", "/kpis"), _fixed(f"/kpis?{WEEK}&area=cd"), "dispatcher"),
    Read(("GET", "/kpis.csv"), _fixed(f"/kpis.csv?{WEEK}&area=cd"), "finance"),
]


def played(client: TestClient, key_for: KeyMaker) -> Context:
    """Chengdu's whole day walked, and the ids the reads name."""
    ctx: Context = {}
    walk(client, key_for, FLOW, ctx)
    with Session(engine_of(client)) as session:
        photo = session.get(LedgerEntry, ctx["photo"])
        assert photo is not None
        ctx["image"] = photo.payload["image_sha256"]
    answer = client.get(
        f"/dispatch-sheet?date={D}&area=cd&format=csv", headers=cd_key(key_for, "dispatcher")
    )
    assert answer.status_code == 200, answer.text
    ctx["plan"] = answer.headers["content-disposition"].split("-plan-")[1].split(".")[0]
    return ctx


def test_the_reads_cover_every_read_route() -> None:
    """Each read route of the desk has its case."""
    assert {case.route for case in READ_CASES} == READS


@pytest.mark.parametrize("case", READ_CASES, ids=[c.route[1] for c in READ_CASES])
def test_a_read_of_another_areas_day_is_403(
    chain: TestClient, key_for: KeyMaker, case: Read
) -> None:
    """Shanghai's key of the same role gets 403 on Chengdu's; Chengdu's own gets it."""
    ctx = played(chain, key_for)
    path = case.path(ctx)
    outside = chain.get(path, headers=key_for(case.role, areas=["sh"]))
    assert outside.status_code == 403, outside.text
    inside = chain.get(path, headers=cd_key(key_for, case.role))
    assert inside.status_code == 200, inside.text
