"""VRPTW benchmark: our optimizer against PyVRP, VROOM and plain OR-Tools on VRPLIB instances.

    python -m benchmarks.vrptw --instances DIR --seconds 60 [--solvers ours,pyvrp,vroom,ortools]
        [--only R1_10_1,C1_10_1] [--json OUT] [--plot OUT.png] [--seed N]

DIR holds NAME.vrp files, each with its best-known NAME.sol (DISPATCH_VRPTW_DIR by default).
DIMACS convention: Euclidean distance truncated to one decimal, travel time equal to distance;
all of it in integer tenths, so a cost over ten compares directly with the best-known one.
Solvers run one after another with the same limit, so none competes for the machine. Whatever
a solver says, its routes are re-checked by benchmarks.verify and only that verdict and cost
are reported. Seconds are wall time including model building, part of any solver's cost.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from statistics import mean
from typing import Any

import numpy as np
import vrplib
from numpy.typing import NDArray

from benchmarks.plain_ortools import solve_plain
from benchmarks.verify import dimacs_matrix, verify
from optimizer.data import ProblemData
from optimizer.matrix import TravelMatrix
from optimizer.model import Model
from optimizer.params import SolveParams
from optimizer.result import Status
from optimizer.solve import solve

SCALE = 10  # DIMACS keeps one decimal; integers of tenths keep every solver exact
SOLVERS = ("ours", "pyvrp", "vroom", "ortools")
TWO_DAYS = 2 * 24 * 3600  # the latest time our Model accepts in a window


@dataclass(frozen=True)
class Instance:
    name: str
    coords: NDArray[np.int64]
    distances: NDArray[np.int64]  # tenths; also the travel time in tenths
    demand: NDArray[np.int64]
    capacity: int
    windows: NDArray[np.int64]  # tenths, node x (earliest, latest service start)
    service: NDArray[np.int64]  # tenths; the depot serves nobody, so its entry is 0
    vehicles: int
    bks: float | None  # best-known cost from the .sol, in instance units

    @property
    def customers(self) -> range:
        return range(1, len(self.distances))

    def window(self, node: int) -> tuple[int, int]:
        return int(self.windows[node][0]), int(self.windows[node][1])


@dataclass(frozen=True)
class Run:
    routes: list[list[int]]  # customer nodes (1..n) per vehicle, depot omitted
    claimed: int | None = None  # the solver's own cost in tenths, cross-checked by verify
    complaints: tuple[str, ...] = ()  # what the solver itself says is wrong with its answer


def load_instance(path: Path) -> Instance:
    raw = vrplib.read_instance(str(path))
    coords = np.asarray(raw["node_coord"])
    size = len(coords)
    if list(np.atleast_1d(raw.get("depot", [0]))) != [0]:
        raise ValueError(f"{path.name}: only a single depot at node 1 is supported")
    service = _tenths(np.broadcast_to(raw.get("service_time", 0), (size,)), path, "service")
    service[0] = 0  # a scalar SERVICE_TIME header reaches the depot too; DIMACS gives it none
    solution = path.with_suffix(".sol")
    return Instance(
        name=path.stem,
        coords=coords,
        distances=dimacs_matrix(coords, SCALE),
        demand=np.asarray(raw["demand"], dtype=np.int64),
        capacity=int(raw["capacity"]),
        windows=_tenths(raw["time_window"], path, "time_window"),
        service=service,
        vehicles=int(raw.get("vehicles", size - 1)),
        bks=float(vrplib.read_solution(str(solution))["cost"]) if solution.exists() else None,
    )


def _tenths(values: Any, path: Path, field: str) -> NDArray[np.int64]:
    scaled = np.asarray(values, dtype=np.float64) * SCALE
    exact = np.rint(scaled)
    if not np.allclose(scaled, exact, rtol=0, atol=1e-6):
        raise ValueError(f"{path.name}: {field}: finer than 1/{SCALE} of a time unit")
    return exact.astype(np.int64)


def our_data(instance: Instance) -> ProblemData:
    """The instance as our Model sees it: kg, seconds, and the DIMACS matrix as the map."""
    windows = instance.windows
    # Our Model holds times as seconds within two days. One tenth of an instance unit becomes
    # one second, which fits every Solomon and Gehring-Homberger horizon (the longest, R2 at
    # 1000 customers, is 76,970); no common factor could shrink arbitrary travel times exactly,
    # so an instance that does not fit is refused rather than rounded.
    if windows[:, 1].max() > TWO_DAYS or windows[:, 0].max() > TWO_DAYS // 2:
        raise ValueError(f"{instance.name}: horizon {windows.max()} exceeds our two-day window")
    opens, closes = instance.window(0)
    capacity = instance.capacity
    model = Model()
    # Coordinates are only decoration here: the DIMACS matrix below replaces the map.
    model.add_depot("depot", lat=0.0, lon=0.0, opens=opens, closes=closes)
    for k in range(instance.vehicles):
        # kg in, grams inside: capacity / 1000 kg comes back as exactly `capacity` grams.
        model.add_vehicle(
            f"v{k}", depot=0, shift=(opens, closes), weight_kg=capacity / 1000, volume_m3=0
        )
    for node in instance.customers:
        model.add_visit(
            f"c{node}",
            lat=0.0,
            lon=0.0,
            window=instance.window(node),
            service_s=int(instance.service[node]),
            weight_kg=int(instance.demand[node]) / 1000,
            priority=10,  # the highest: dropping any visit costs more than any detour
        )
    data = model.data(
        matrix=TravelMatrix(distances=instance.distances, durations=instance.distances)
    )
    grams = [visit.weight for visit in data.visits]
    if grams != instance.demand[1:].tolist() or data.vehicles[0].weight_capacity != capacity:
        raise AssertionError(f"{instance.name}: demands did not survive the kg round trip")
    return data


def run_ours(instance: Instance, seconds: float, seed: int) -> Run:
    result = solve(our_data(instance), SolveParams(time_limit_s=seconds), seed=seed)
    complaints = list(result.reasons)
    if result.status is not Status.FEASIBLE:
        complaints.insert(0, f"status {result.status.value}")
    if result.unassigned:
        first = result.unassigned[0]
        complaints.append(
            f"{len(result.unassigned)} visits unassigned, e.g. {first.visit_id}: {first.code.value}"
        )
    return Run(
        routes=[[int(v[1:]) for v in route.visit_ids] for route in result.routes],
        claimed=sum(route.distance for route in result.routes),
        complaints=tuple(complaints),
    )


def run_pyvrp(instance: Instance, seconds: float, seed: int) -> Run:
    import pyvrp  # the bench extra: only the runs that use it need it installed
    from pyvrp.stop import MaxRuntime

    opens, closes = instance.window(0)
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(x=float(x), y=float(y)) for x, y in instance.coords],
        clients=[
            pyvrp.Client(
                location=node,
                delivery=[int(instance.demand[node])],
                service_duration=int(instance.service[node]),
                tw_early=instance.window(node)[0],
                tw_late=instance.window(node)[1],
            )
            for node in instance.customers
        ],
        depots=[pyvrp.Depot(location=0, tw_early=opens, tw_late=closes)],
        vehicle_types=[
            pyvrp.VehicleType(
                num_available=instance.vehicles,
                capacity=[instance.capacity],
                tw_early=opens,
                tw_late=closes,
            )
        ],
        # pyvrp's stubs spell the matrix type in a way no real array satisfies.
        distance_matrices=[instance.distances],  # type: ignore[list-item]
        duration_matrices=[instance.distances],  # type: ignore[list-item]
    )
    best = pyvrp.solve(
        data, stop=MaxRuntime(seconds), seed=seed, collect_stats=False, display=False
    ).best
    # Client activity idx counts clients only; with one depot first, node = idx + 1.
    routes = [[act.idx + 1 for act in route if act.is_client()] for route in best.routes()]
    complaints = () if best.is_feasible() else ("pyvrp reports its best solution infeasible",)
    return Run(routes=routes, claimed=best.distance(), complaints=complaints)


def run_vroom(instance: Instance, seconds: float, seed: int) -> Run:
    import vroom  # the bench extra, as for pyvrp

    # vroom minimises duration and has no seed; the integer matrix serves as both.
    matrix = instance.distances.astype(np.uint32)
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=matrix)
    problem.set_distances_matrix(profile="car", matrix_input=matrix)
    hours, capacity = vroom.TimeWindow(*instance.window(0)), [instance.capacity]
    for k in range(instance.vehicles):
        problem.add_vehicle(vroom.Vehicle(k, start=0, end=0, capacity=capacity, time_window=hours))
    for node in instance.customers:
        window = vroom.TimeWindow(*instance.window(node))
        problem.add_job(
            vroom.Job(
                node,
                location=node,
                default_service=int(instance.service[node]),
                delivery=[int(instance.demand[node])],
                time_windows=[window],
            )
        )
    solution = problem.solve(exploration_level=5, nb_threads=2, timeout=timedelta(seconds=seconds))
    frame = solution.routes
    jobs = frame[frame["type"] == "job"]
    routes = [list(map(int, group["id"])) for _, group in jobs.groupby("vehicle_id", sort=False)]
    left = solution.summary.unassigned
    # With vroom's default costs (3600 per hour of travel) its cost is the travel time.
    return Run(
        routes=routes,
        claimed=solution.summary.cost,
        complaints=(f"vroom left {left} jobs unassigned",) if left else (),
    )


def run_ortools(instance: Instance, seconds: float, seed: int) -> Run:
    run = solve_plain(instance, seconds)
    complaints = () if run.routes else (f"no solution ({run.status})",)
    return Run(routes=run.routes, claimed=run.objective, complaints=complaints)


RUNNERS: dict[str, Callable[[Instance, float, int], Run]] = {
    "ours": run_ours,
    "pyvrp": run_pyvrp,
    "vroom": run_vroom,
    "ortools": run_ortools,
}


def benchmark(instance: Instance, solver: str, seconds: float, seed: int) -> dict[str, Any]:
    """One solver on one instance: a JSON-ready record of the verified outcome."""
    started = time.perf_counter()
    try:
        run = RUNNERS[solver](instance, seconds, seed)
    except Exception as error:  # one broken run must not cost the hours spent on the others
        run = Run(routes=[], complaints=(f"{solver} failed: {error!r}",))
    wall = time.perf_counter() - started
    verdict = verify(
        run.routes,
        distances=instance.distances,
        demand=instance.demand,
        capacity=instance.capacity,
        vehicles=instance.vehicles,
        windows=instance.windows,
        service=instance.service,
        claimed_cost=run.claimed,
    )
    reasons = [*run.complaints, *verdict.reasons]
    for reason in reasons:
        print(f"    ! {reason}", file=sys.stderr)
    cost = verdict.cost / SCALE if run.routes else None
    bks = instance.bks
    gap = round(100 * (cost - bks) / bks, 3) if cost is not None and bks else None
    return {
        "instance": instance.name,
        "solver": solver,
        "cost": cost,
        "bks": bks,
        "gap_pct": gap,
        "vehicles": verdict.vehicles,
        "seconds": round(wall, 2),
        "feasible": not reasons,
    }


def format_table(records: Sequence[dict[str, Any]], solvers: Sequence[str]) -> str:
    """One row per instance, then the mean gap of feasible runs per solver."""
    by_key = {(r["instance"], r["solver"]): r for r in records}
    names = list(dict.fromkeys(r["instance"] for r in records))
    with_ratio = "ours" in solvers and "pyvrp" in solvers
    head = ["instance", "BKS"]
    for solver in solvers:
        head += [f"{solver} cost", "gap %", "veh", "s"]
    rows = [head + ["ours/pyvrp"] * with_ratio]
    ratios = []
    for name in names:
        bks = by_key[name, solvers[0]]["bks"]
        row = [name, "-" if bks is None else f"{bks:.1f}"]
        for solver in solvers:
            row += _cells(by_key[name, solver])
        if with_ratio:
            ratio = _ratio(by_key[name, "ours"], by_key[name, "pyvrp"])
            ratios += [ratio] if ratio is not None else []
            row.append("-" if ratio is None else f"{ratio:.3f}")
        rows.append(row)
    summary = ["mean", ""]
    for solver in solvers:
        gaps = [r["gap_pct"] for r in records if r["solver"] == solver and _counts(r)]
        summary += ["", f"{mean(gaps):.2f}" if gaps else "-", "", ""]
    rows.append(summary + [f"{mean(ratios):.3f}" if ratios else "-"] * with_ratio)
    widths = [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    rule = "-" * len(lines[0])
    note = "* infeasible: shown, but left out of the means"
    return "\n".join([lines[0], rule, *lines[1:-1], rule, lines[-1], note])


def _counts(record: dict[str, Any]) -> bool:
    return bool(record["feasible"]) and record["gap_pct"] is not None


def _ratio(ours: dict[str, Any], pyvrp: dict[str, Any]) -> float | None:
    if ours["feasible"] and pyvrp["feasible"] and ours["cost"] and pyvrp["cost"]:
        return float(ours["cost"] / pyvrp["cost"])
    return None


def _cells(record: dict[str, Any]) -> list[str]:
    seconds = f"{record['seconds']:.1f}"
    if record["cost"] is None:
        return ["none*", "-", "-", seconds]
    gap = "-" if record["gap_pct"] is None else f"{record['gap_pct']:.2f}"
    flag = "" if record["feasible"] else "*"
    return [f"{record['cost']:.1f}{flag}", gap, str(record["vehicles"]), seconds]


def plot(records: Sequence[dict[str, Any]], solvers: Sequence[str], path: Path) -> None:
    """Grouped bars of gap % per instance and solver; infeasible runs leave a hole."""
    from matplotlib.figure import Figure  # optional: only the plot needs it

    names = list(dict.fromkeys(r["instance"] for r in records))
    by_key = {(r["instance"], r["solver"]): r for r in records}
    figure = Figure(figsize=(max(6.0, 0.6 * len(names) * len(solvers) / 2), 4.5))
    axes = figure.subplots()
    width = 0.8 / len(solvers)
    for k, solver in enumerate(solvers):
        gaps = [
            by_key[n, solver]["gap_pct"] if _counts(by_key[n, solver]) else math.nan for n in names
        ]
        axes.bar(np.arange(len(names)) + k * width, gaps, width, label=solver)
    axes.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names, rotation=60, ha="right")
    axes.set_ylabel("gap to best known, %")
    axes.axhline(0, color="black", linewidth=0.5)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.vrptw",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    default_dir = os.environ.get("DISPATCH_VRPTW_DIR")
    parser.add_argument(
        "--instances",
        type=Path,
        default=default_dir,
        required=not default_dir,
        help="folder of .vrp/.sol files (default: $DISPATCH_VRPTW_DIR)",
    )
    parser.add_argument("--seconds", type=float, required=True, help="time limit per solver")
    parser.add_argument("--solvers", default=",".join(SOLVERS), help="comma-separated subset")
    parser.add_argument("--only", default="", help="comma-separated instance names")
    parser.add_argument("--json", type=Path, help="write one record per instance and solver")
    parser.add_argument("--plot", type=Path, help="write a gap chart (needs matplotlib)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.solvers = [s for s in args.solvers.split(",") if s]
    unknown = sorted(set(args.solvers) - set(SOLVERS))
    if unknown or not args.solvers:
        parser.error(f"--solvers: choose from {', '.join(SOLVERS)}; got {unknown or 'none'}")
    if not args.seconds > 0:
        parser.error("--seconds: must be positive")
    paths = sorted(Path(args.instances).glob("*.vrp"))
    wanted = [s for s in args.only.split(",") if s]
    missing = sorted(set(wanted) - {p.stem for p in paths})
    if missing:
        parser.error(f"--only: no {', '.join(missing)}.vrp in {args.instances}")
    args.paths = [p for p in paths if not wanted or p.stem in wanted]
    if not args.paths:
        parser.error(f"--instances: no .vrp files in {args.instances}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    records = []
    for number, path in enumerate(args.paths, 1):
        instance = load_instance(path)
        for solver in args.solvers:
            where = f"[{number}/{len(args.paths)}] {instance.name}"
            print(f"{where} {solver} {args.seconds:g} s …", file=sys.stderr, flush=True)
            records.append(benchmark(instance, solver, args.seconds, args.seed))
    print(format_table(records, args.solvers))
    if args.json:
        args.json.write_text(json.dumps(records, indent=2) + "\n")
    if args.plot:
        plot(records, args.solvers, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
