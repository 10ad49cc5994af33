"""Peak memory of one planning job against the visits and the crews of its day.

    python -m benchmarks.job_memory --runs 200,500,1000,2000,500x0.5,500x2,2000x0.5,2000x2 \\
        --seconds 20 --json job-memory.json

A run is VISITS or VISITSxFLEET: scale.fleet_for's trucks and technicians for that many
visits, times FLEET. Each run is a fresh `--_one` process (benchmarks.memory.PeakMemory says
why) that solves the generated Chengdu day as scale.py does. The fit of api/plans/sizing.py's
MemoryModel must stay above every peak recorded here (tests/api/test_sizing.py).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import date as Date
from pathlib import Path
from typing import Any

from benchmarks.memory import PeakMemory
from benchmarks.scale import DATE, ROOT, fleet_for, run_ours
from fixtures.generator import generate_day
from optimizer.dayfile import load_day
from optimizer.settings import DispatchSettings

Record = dict[str, Any]


def parse_run(text: str) -> tuple[int, float]:
    """'1000' or '1000x0.5': visits and the fleet's factor."""
    visits, _, factor = text.strip().partition("x")
    return int(visits), float(factor or 1)


def run_one(visits: int, factor: float, seconds: float, seed: int) -> Record:
    """One solve in this process; meant for a fresh `--_one` process."""
    fleet = fleet_for(visits)
    trucks = max(1, round(fleet["trucks"] * factor))
    technicians = max(1, round(fleet["technicians"] * factor))
    day = generate_day(
        seed=seed,
        visits=visits,
        date=DATE,
        trucks=trucks,
        technicians=technicians,
        depots=fleet["depots"],
    )
    data = load_day(day, Date.fromisoformat(DATE), DispatchSettings()).data
    with PeakMemory() as memory:
        outcome = run_ours(data, visits, seconds, seed)
    return {
        "visits": visits,
        "fleet_factor": factor,
        "trucks": trucks,
        "technicians": technicians,
        # What the service's sizing sees: every crew of the planned day, technicians of the
        # later days of an installation window included.
        "vehicles": len(data.vehicles),
        "seconds_limit": seconds,
        "seed": seed,
        "peak_mb": memory.megabytes(),
        "served": outcome["served"],
        "km": outcome["km"],
        "wall_s": outcome["wall_s"],
    }


def _spawn(visits: int, factor: float, seconds: float, seed: int) -> Record:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "record.json"
        command = [sys.executable, "-m", "benchmarks.job_memory", "--_out", str(out)]
        command += ["--_one", f"{visits}x{factor}", "--seconds", str(seconds), "--seed", str(seed)]
        subprocess.run(command, cwd=ROOT, check=True, timeout=10 * seconds + 900)
        record: Record = json.loads(out.read_text(encoding="utf-8"))
        return record


def format_table(records: Sequence[Record]) -> str:
    lines = ["visits  fleet  trucks  technicians  vehicles  limit s  peak MB  served  wall s"]
    for r in records:
        lines.append(
            f"{r['visits']:>6}  {r['fleet_factor']:>5g}  {r['trucks']:>6}  {r['technicians']:>11}"
            f"  {r['vehicles']:>8}  {r['seconds_limit']:>7g}  {r['peak_mb']:>7,.0f}"
            f"  {r['served']:>6}  {r['wall_s']:>6.1f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.job_memory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", default="200,500,1000,2000,500x0.5,500x2,2000x0.5,2000x2")
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit of each solve")
    parser.add_argument("--seed", type=int, default=7, help="day generator and solver seed")
    parser.add_argument("--json", help="write one record per run here")
    for hidden in ("--_one", "--_out"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options._one:
        record = run_one(*parse_run(options._one), options.seconds, options.seed)
        Path(options._out).write_text(json.dumps(record), encoding="utf-8")
        return 0
    try:
        runs = [parse_run(run) for run in options.runs.split(",")]
    except ValueError:
        parser.error(f"--runs: expected VISITS or VISITSxFACTOR, got {options.runs!r}")
    records = []
    for visits, factor in runs:
        records.append(_spawn(visits, factor, options.seconds, options.seed))
        print(format_table(records[-1:]), flush=True)
    print(format_table(records), flush=True)
    if options.json:
        Path(options.json).write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
