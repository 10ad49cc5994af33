"""Smoke test of the VRPTW benchmark on an instance small enough to solve by hand.

Eight customers sit on one vertical road through the depot at (50, 50): four north at 10, 20,
30 and 40 units, four south at the same distances. Each wants 10 of a vehicle's 40, so two
routes are needed, and any route reaching a far end costs at least 80 there and back: the two
out-and-back routes, 80 each, are optimal at 160.0. Windows open 10 units apart outwards, so
serving a road from its far end makes the third stop late. Each broken solution below breaks
exactly one rule, so the verifier must name that one and no other.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.verify import Verdict, verify
from benchmarks.vrptw import SOLVERS, load_instance, main

NORTH, SOUTH = [1, 2, 3, 4], [5, 6, 7, 8]  # VRPLIB solution numbering: the depot is 0
COORDS = [(50, 50), (50, 60), (50, 70), (50, 80), (50, 90), (50, 40), (50, 30), (50, 20), (50, 10)]
WINDOWS = [(0, 200)] + [(5, 35), (15, 50), (25, 70), (35, 90)] * 2
INSTANCE = "\n".join(
    [
        "NAME : tiny",
        "TYPE : VRPTW",
        f"DIMENSION : {len(COORDS)}",
        "VEHICLES : 3",
        "CAPACITY : 40",
        "EDGE_WEIGHT_TYPE : EUC_2D",
        "NODE_COORD_SECTION",
        *(f"{k} {x} {y}" for k, (x, y) in enumerate(COORDS, 1)),
        "DEMAND_SECTION",
        *(f"{k} {0 if k == 1 else 10}" for k in range(1, len(COORDS) + 1)),
        "TIME_WINDOW_SECTION",
        *(f"{k} {a} {b}" for k, (a, b) in enumerate(WINDOWS, 1)),
        "SERVICE_TIME_SECTION",
        *(f"{k} {0 if k == 1 else 1}" for k in range(1, len(COORDS) + 1)),
        "DEPOT_SECTION",
        "1",
        "-1",
        "EOF",
    ]
)
BKS = 160.0


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding tiny.vrp and its optimal tiny.sol."""
    (tmp_path / "tiny.vrp").write_text(INSTANCE + "\n")
    routes = "".join(
        f"Route #{k}: {' '.join(map(str, r))}\n" for k, r in enumerate([NORTH, SOUTH], 1)
    )
    (tmp_path / "tiny.sol").write_text(f"{routes}Cost {BKS}\n")
    return tmp_path


def test_every_solver_is_verified_feasible_and_gapped_against_the_sol(folder: Path) -> None:
    """Each solver yields a feasible record whose gap is measured against the .sol cost."""
    out = folder / "out.json"
    args = ["--instances", str(folder), "--seconds", "1", "--json", str(out)]
    assert main([*args, "--solvers", ",".join(SOLVERS)]) == 0
    records = json.loads(out.read_text())
    assert [r["solver"] for r in records] == list(SOLVERS)
    for record in records:
        assert record["feasible"], record
        assert record["instance"] == "tiny" and record["bks"] == BKS
        assert record["gap_pct"] == pytest.approx(100 * (record["cost"] - BKS) / BKS, abs=1e-3)
        # 160 is optimal, so a verified cost below it would mean the referee is wrong.
        assert record["cost"] >= BKS


def test_the_best_known_routes_pass_and_cost_what_the_sol_says(folder: Path) -> None:
    """The hand-made optimum is feasible under the verifier and costs the .sol's 160.0."""
    verdict = _verify(folder, [NORTH, SOUTH])
    assert verdict.feasible, verdict.reasons
    assert verdict.cost == BKS * 10 and verdict.vehicles == 2


@pytest.mark.parametrize(
    ("routes", "breach"),
    [
        # The spare third vehicle serves customer 1 a second time.
        ([NORTH, SOUTH, [1]], "more than once"),
        # South 10 then the whole north road is on time, but carries 50 on a truck of 40.
        ([[5, *NORTH], SOUTH[1:]], "over the capacity"),
        # The north road from its far end reaches customer 2 at 62, after its due time 50.
        ([NORTH[::-1], SOUTH], "late"),
    ],
    ids=["duplicate-customer", "capacity-breach", "late-arrival"],
)
def test_the_verifier_rejects_a_broken_solution(
    folder: Path, routes: list[list[int]], breach: str
) -> None:
    """A hand-broken solution is infeasible, and the reason names the breach."""
    verdict = _verify(folder, routes)
    assert not verdict.feasible
    assert len(verdict.reasons) == 1 and breach in verdict.reasons[0], verdict.reasons


def _verify(folder: Path, routes: list[list[int]]) -> Verdict:
    instance = load_instance(folder / "tiny.vrp")
    return verify(
        routes,
        distances=instance.distances,
        demand=instance.demand,
        capacity=instance.capacity,
        vehicles=instance.vehicles,
        windows=instance.windows,
        service=instance.service,
    )
