"""How the optimizer scales with the size of a day, and how it compares with VROOM on that day.

    python -m benchmarks.scale --sizes 100,500 --seconds-per-size 100:10,500:20 \\
        --json scale.json --plot scale.png
    python -m benchmarks.scale --cash-heavy --sizes 500 --seconds-per-size 60 --json cash.json

Each size is a generated Chengdu day (fixtures.generator) with a fleet scaled to be slightly
over-full, on the great-circle matrix. Every (size, solver) run happens in its own fresh
`python -m benchmarks.scale --_one ...` process, and the solver inside it in spawned
processes; PeakMemory says why. VROOM's plan is judged by the independent optimizer.check.
With --cash-heavy every delivery pays cash and the city has bank branches
(benchmarks.cash_day); the day is solved with them and without, at the same seed and time.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import queue
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import date as Date
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from benchmarks import cash_day
from benchmarks.memory import PeakMemory
from benchmarks.vroom_day import vroom_input

# Only light imports up here: spawned solver processes re-import this module as __mp_main__,
# and pandas (via vroom) or matplotlib there would inflate the very memory being measured.
from fixtures import catalogue
from fixtures.generator import generate_day
from optimizer.check import check, check_routes
from optimizer.data import ProblemData
from optimizer.dayfile import load_day
from optimizer.engine import Progress, drop_penalties
from optimizer.explain import eligibility
from optimizer.isolated import solve_isolated
from optimizer.params import SolveParams
from optimizer.settings import DispatchSettings

Record = dict[str, Any]
DATE = "2026-11-24"
SOLVERS = ("ours", "vroom", cash_day.NO_BANKS)
VROOM_THREADS = 2
ROOT = Path(__file__).resolve().parents[1]


def fleet_for(size: int) -> dict[str, int]:
    """Trucks, technicians and depots for a realistic day that is slightly over-full."""
    services = round(size * catalogue.SERVICE_SHARE)
    trucks, technicians = max(1, round(size / 14)), max(1, round(services / 10))
    return {"trucks": trucks, "technicians": technicians, "depots": 2 if size <= 1000 else 4}


def build_day(
    size: int, seed: int, *, cash_heavy: bool = False, banks: bool = False
) -> ProblemData:
    """The generated day; `cash_heavy`: every delivery pays cash; `banks`: with branches."""
    fleet = fleet_for(size)
    day = generate_day(
        seed=seed,
        visits=size,
        date=DATE,
        trucks=fleet["trucks"],
        technicians=fleet["technicians"],
        depots=fleet["depots"],
        cash_share=cash_day.CASH_HEAVY_SHARE if cash_heavy else catalogue.CASH_SHARE,
    )
    day = cash_day.with_banks(day) if banks else day
    return load_day(day, Date.fromisoformat(DATE), DispatchSettings()).data


def score(
    data: ProblemData, routes: Mapping[str, Sequence[str]], metres: int | None = None
) -> Record:
    """km and visits served, and the plan scored as our engines score it.

    km alone flatters whoever serves fewer visits. The objective (metres plus the drop
    penalties of visits some crew could have served) ranks two plans the way we mean it.
    `metres`: the plan's own, where it drives by way of banks the visit order does not show.
    """
    if metres is None:
        metres = 0
        for vehicle_id, visit_ids in routes.items():
            if visit_ids:
                visits = [data.visit_index(v) for v in visit_ids]
                nodes = data.route_nodes(data.vehicle_index(vehicle_id), visits)
                metres += sum(int(data.distances[a, b]) for a, b in pairwise(nodes))
    served = {data.visit_index(v) for visit_ids in routes.values() for v in visit_ids}
    eligible = sorted(eligibility(data).allowed)
    penalties = zip(eligible, drop_penalties(data, eligible), strict=True)
    objective = metres + sum(penalty for v, penalty in penalties if v not in served)
    served_count = sum(len(visit_ids) for visit_ids in routes.values())
    return {"km": round(metres / 1000, 3), "served": served_count, "objective": objective}


class _Tracker:
    """The progress callback of our solve: keeps each better plan, echoes progress to stderr."""

    def __init__(self, size: int, limit: float) -> None:
        self.size, self.limit = size, limit
        self.trace: list[list[float]] = []  # [seconds since the solve call, objective, routed]
        self.first_engine_s: float | None = None
        self.started = time.monotonic()
        self._next_print = 0.0

    def __call__(self, progress: Progress) -> bool:
        wall = time.monotonic() - self.started
        # Until the first plan solve_isolated polls with a placeholder (objective 0, nothing
        # routed), and then repeats the latest plan; guided local search also reports plans
        # worse than its best. The best-so-far curve is the cost a dispatcher would get.
        real = progress.objective > 0 or progress.visits_routed > 0
        if real and (not self.trace or progress.objective < self.trace[-1][1]):
            if self.first_engine_s is None:
                self.first_engine_s = round(progress.elapsed_s, 3)
            self.trace.append([round(wall, 3), progress.objective, progress.visits_routed])
        if wall >= self._next_print:
            self._next_print = wall + max(1.0, self.limit / 20)
            # A genetic search reports no routed count, only its cost.
            _, best, routed = self.trace[-1] if self.trace else (0, 0, 0)
            state = f"{routed or '?'} routed, objective {best:,}" if self.trace else "no plan yet"
            _say(f"[{self.size} visits] ours {wall:.1f}/{self.limit:g} s {state}")
        return False


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_ours(data: ProblemData, size: int, seconds: float, seed: int) -> Record:
    tracker, params = _Tracker(size, seconds), SolveParams(time_limit_s=seconds)
    result = solve_isolated(data, params, seed=seed, progress=tracker)
    wall = time.monotonic() - tracker.started
    violations = check(data, result)
    routes = {route.vehicle_id: route.visit_ids for route in result.routes}
    _say(f"[{size} visits] ours done in {wall:.1f} s, {result.kpis.visits_routed} routed")
    return {
        # The caller's clock: process start, data transfer and model building included.
        # Engines time themselves differently (a genetic search reports its first plan at 0 s).
        "first_feasible_s": tracker.trace[0][0] if tracker.trace else None,
        "first_feasible_engine_s": tracker.first_engine_s,
        **score(data, routes, result.kpis.distance_m),
        **cash_day.deposit_figures(data, result),
        "unassigned": len(result.unassigned),
        "wall_s": round(wall, 3),
        "valid": result.ok and not violations,
        "status": str(result.status),
        "problems": [v.message for v in violations[:5]] + list(result.reasons[:5]),
        "params": params.as_dict(),
        "trace": tracker.trace,  # objective: metres plus the drop penalties of left-out visits
    }


def _vroom_child(data: ProblemData, seconds: float, answer: Any) -> None:
    try:
        started = time.monotonic()
        solution = vroom_input(data).solve(
            exploration_level=5, nb_threads=VROOM_THREADS, timeout=timedelta(seconds=seconds)
        )
        solve_s = time.monotonic() - started
        frame = solution.routes
        jobs = frame[frame["type"] == "job"]  # in route order
        routes: dict[str, list[str]] = {}
        for vehicle, job in zip(jobs["vehicle_id"], jobs["id"], strict=True):
            routes.setdefault(data.vehicles[int(vehicle)].id, []).append(data.visits[int(job)].id)
        summary = solution.summary
        answer.put(("ok", routes, int(summary.unassigned), int(summary.cost), solve_s))
    except BaseException as error:  # the parent must always hear how the child ended
        answer.put(("error", f"{type(error).__name__}: {error}"))


def run_vroom(data: ProblemData, size: int, seconds: float) -> Record:
    _say(f"[{size} visits] vroom solving, limit {seconds:g} s, {VROOM_THREADS} threads")
    context = mp.get_context("spawn")  # VROOM in a child too, so both are measured alike
    answer = context.Queue()
    started = time.monotonic()
    child = context.Process(target=_vroom_child, args=(data, seconds, answer))
    child.start()
    while True:
        try:
            reply = answer.get(timeout=1.0)
            break
        except queue.Empty:
            if not child.is_alive() and answer.empty():
                raise RuntimeError(f"the vroom process died (exit {child.exitcode})") from None
    child.join()  # only after reading: a child blocked on a full queue pipe never exits
    wall = time.monotonic() - started
    if reply[0] == "error":
        raise RuntimeError(f"vroom failed: {reply[1]}")
    _, routes, unassigned, cost, solve_s = reply
    violations = check_routes(data, routes)
    scored = score(data, routes)
    served = scored["served"]
    _say(f"[{size} visits] vroom done in {wall:.1f} s, {served} routed")
    return {
        "first_feasible_s": None,  # VROOM reports nothing before its final plan
        "first_feasible_engine_s": None,
        **scored,
        "unassigned": unassigned,
        "wall_s": round(wall, 3),
        "valid": not violations and served + unassigned == len(data.visits),
        "status": "solved",
        "problems": [v.message for v in violations[:5]],
        "trace": [[round(solve_s, 3), cost, served]],  # its one plan; cost is in metres
    }


def run_one(
    size: int, solver: str, seconds: float, seed: int, *, cash_heavy: bool = False
) -> Record:
    """One solver on one size, in this process; meant for a fresh `--_one` process."""
    data = build_day(size, seed, cash_heavy=cash_heavy, banks=cash_heavy and solver == "ours")
    with PeakMemory() as memory:
        if solver == "vroom":
            outcome = run_vroom(data, size, seconds)
        else:
            outcome = run_ours(data, size, seconds, seed)
    head = {"size": size, "solver": solver, "seconds_limit": seconds, "seed": seed}
    head |= {"day": "cash-heavy" if cash_heavy else "normal"}
    head |= {"visits": len(data.visits), **fleet_for(size), "peak_mb": memory.megabytes()}
    return head | outcome


def _spawn_one(size: int, solver: str, seconds: float, seed: int, cash_heavy: bool) -> Record:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "record.json"
        command = [sys.executable, "-m", "benchmarks.scale", "--_one", solver, "--_out", str(out)]
        command += ["--_size", str(size), "--_seconds", str(seconds), "--seed", str(seed)]
        command += ["--cash-heavy"] if cash_heavy else []
        # stderr passes through, so the progress lines reach the terminal as they come.
        subprocess.run(command, cwd=ROOT, check=True, timeout=10 * seconds + 900)
        record: Record = json.loads(out.read_text(encoding="utf-8"))
        return record


COLUMNS = (  # heading, record key, decimals
    ("solver", "solver", 0),
    ("limit s", "seconds_limit", 0),
    ("1st feasible s", "first_feasible_s", 2),
    ("km", "km", 1),
    ("served", "served", 0),
    ("unassigned", "unassigned", 0),
    ("peak MB", "peak_mb", 0),
    ("valid", "valid", 0),
    ("wall s", "wall_s", 1),
)


DEPOSIT_COLUMNS = (("deposits", "deposits", 0), ("dep/truck", "deposits_per_truck", 2))


def _cell(value: Any, digits: int) -> str:
    if value is None or isinstance(value, bool):
        return {None: "-", True: "yes", False: "NO"}[value]
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def format_table(records: Sequence[Record]) -> str:
    """One size: a row per solver, then ours against VROOM when both ran."""
    columns = COLUMNS + (DEPOSIT_COLUMNS if records[0].get("day") == "cash-heavy" else ())
    rows = [[head for head, _, _ in columns]]
    rows += [[_cell(r.get(key), digits) for _, key, digits in columns] for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = [f"== {records[0]['size']} visits =="]
    for row in rows:
        cells = enumerate(zip(row, widths, strict=True))
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in cells))
    if line := cash_day.comparison(records):
        lines.append(line)
    by = {r["solver"]: r for r in records}
    if {"ours", "vroom"} <= set(by):
        ours, theirs = by["ours"], by["vroom"]
        ratio = ours["km"] / theirs["km"] if theirs["km"] else math.nan
        served = ours["served"] - theirs["served"]
        better = ours["objective"] / theirs["objective"] if theirs["objective"] else math.nan
        lines.append(
            f"ours vs vroom: km ratio {ratio:.3f}, served {served:+d}, objective ratio {better:.3f}"
        )
    return "\n".join(lines)


def plot(records: Sequence[Record], path: str | Path) -> None:
    """Left: our objective over time per size; right: km per served visit, per solver."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    for record in records:
        if record["solver"] == "ours" and record["trace"]:
            times, objectives, _ = zip(*record["trace"], strict=True)
            # Metres plus drop penalties is no km figure until every visit is routed; relative
            # to the final plan, days of every size share one axis.
            relative = [objective / (objectives[-1] or 1) for objective in objectives]
            left.step(times, relative, where="post", label=f"{record['size']} visits")
    left.set(xlabel="seconds since the solve call", ylabel="objective / final objective")
    left.set(yscale="log", title="ours: best plan's cost over time")
    left.legend()
    _plot_km_per_served(right, records)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _plot_km_per_served(axes: Any, records: Sequence[Record]) -> None:
    sizes = sorted({record["size"] for record in records})
    solvers = [s for s in SOLVERS if any(r["solver"] == s for r in records)]
    width = 0.8 / max(1, len(solvers))
    by_run = {(r["size"], r["solver"]): r for r in records}
    for n, solver in enumerate(solvers):
        runs = [(k, by_run.get((size, solver))) for k, size in enumerate(sizes)]
        shown = [(k, run) for k, run in runs if run is not None and run["served"]]
        bars = axes.bar(
            [k + n * width for k, _ in shown],
            [run["km"] / run["served"] for _, run in shown],
            width,
            color=f"C{n}",
            label=solver,
        )
        axes.bar_label(bars, labels=[f"{run['served']} served" for _, run in shown], fontsize=7)
    middle = width * (len(solvers) - 1) / 2
    axes.set_xticks([k + middle for k in range(len(sizes))], [str(size) for size in sizes])
    axes.set(xlabel="visits in the day", ylabel="km per served visit", title="km / served")
    axes.legend()


def _parse_seconds(text: str, sizes: Sequence[int]) -> dict[int, float]:
    """'100:20,500:60' per size, or one number for every size."""
    if ":" not in text:
        return {size: float(text) for size in sizes}
    limits = {int(k): float(v) for k, v in (pair.split(":") for pair in text.split(","))}
    if missing := [size for size in sizes if size not in limits]:
        raise ValueError(f"--seconds-per-size: no time limit for size {missing[0]}")
    return limits


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="100,500,1000,2000,5000", help="visits per day")
    seconds = "100:20,500:60,1000:60,2000:60,5000:300"
    parser.add_argument("--seconds-per-size", default=seconds, help="SIZE:SECONDS,... or SECONDS")
    parser.add_argument(
        "--solvers",
        help=f"comma-separated, of {', '.join(SOLVERS)} (default: ours,vroom; with --cash-heavy "
        f"ours,{cash_day.NO_BANKS})",
    )
    parser.add_argument(
        "--cash-heavy",
        action="store_true",
        help="every delivery pays cash; 'ours' plans with bank deposits, "
        f"'{cash_day.NO_BANKS}' the same day without banks",
    )
    parser.add_argument("--json", help="write one record per size and solver here")
    parser.add_argument("--plot", help="write a PNG: cost over time, km per served visit")
    parser.add_argument("--seed", type=int, default=7, help="day generator and solver seed")
    for hidden, kind in (("--_one", str), ("--_size", int), ("--_seconds", float), ("--_out", str)):
        parser.add_argument(hidden, type=kind, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    if options._one:
        record = run_one(
            options._size,
            options._one,
            options._seconds,
            options.seed,
            cash_heavy=options.cash_heavy,
        )
        Path(options._out).write_text(json.dumps(record), encoding="utf-8")
        return 0
    try:
        sizes = [int(size) for size in options.sizes.split(",")]
        limits = _parse_seconds(options.seconds_per_size, sizes)
    except ValueError as error:
        parser.error(str(error))
    default = f"ours,{cash_day.NO_BANKS}" if options.cash_heavy else "ours,vroom"
    solvers = [solver.strip() for solver in (options.solvers or default).split(",")]
    if unknown := [s for s in solvers if s not in SOLVERS]:
        parser.error(f"--solvers: unknown solver {unknown[0]!r}; use {', '.join(SOLVERS)}")
    records = []
    for size in sizes:
        done = [
            _spawn_one(size, solver, limits[size], options.seed, options.cash_heavy)
            for solver in solvers
        ]
        print(format_table(done) + "\n", flush=True)
        records += done
    if options.json:
        Path(options.json).write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    if options.plot:
        plot(records, options.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
