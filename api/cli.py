"""The `dispatch` command: plan a day file from the terminal."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from api.plan_text import plan_text, progress_bar
from maps.plan_map import VisitInfo, plan_map
from optimizer.dayfile import Day, load_day, read_day
from optimizer.engine import Progress
from optimizer.matrix import provider_from_settings
from optimizer.params import SolveParams
from optimizer.result import Result, result_to_dict
from optimizer.settings import DispatchSettings, get_settings
from optimizer.solve import solve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dispatch", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="plan one day of a day file")
    plan.add_argument("file", type=Path)
    plan.add_argument("--date", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    plan.add_argument("--seconds", type=float, default=30.0, help="solver time limit")
    plan.add_argument("--seed", type=int, default=0)
    plan.add_argument("--out", type=Path, help="write the plan as JSON here")
    plan.add_argument("--map", type=Path, help="write the route map as HTML here")
    return parser


def _show_progress(update: Progress) -> None:
    fraction = update.elapsed_s / update.time_limit_s
    sys.stderr.write(
        f"\r{progress_bar(fraction)}  {update.visits_routed} routed, "
        f"{update.objective / 1000:,.1f} cost"
    )
    sys.stderr.flush()


def plan_json(day: Day, result: Result, params: SolveParams) -> dict[str, object]:
    return {
        "city": day.city,
        "date": day.date.isoformat(),
        "params": params.as_dict(),
        **result_to_dict(result),
    }


def run_plan(args: argparse.Namespace, settings: DispatchSettings) -> int:
    provider = provider_from_settings(
        settings.matrix_provider,
        detour_factor=settings.road_detour_factor,
        speed_kmh=settings.average_speed_kmh,
        osrm_url=settings.osrm_url,
    )
    day = load_day(read_day(args.file), args.date, settings, provider)
    if not day.data.visits:
        print(f"no visits on {args.date} in {args.file}", file=sys.stderr)
        return 1
    params = SolveParams(time_limit_s=args.seconds)
    print(
        f"planning {len(day.data.visits)} visits for {len(day.data.vehicles)} crews "
        f"on {day.date} ({day.city}), {args.seconds:.0f} s",
        file=sys.stderr,
    )
    result = solve(day.data, params, seed=args.seed, progress=_show_progress)
    sys.stderr.write("\n")
    crews = {
        vehicle: " ".join(member.get("name", "") for member in members)
        for vehicle, members in day.crews.items()
    }
    print(plan_text(day.data, result, day.details, crews))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps(plan_json(day, result, params), ensure_ascii=False, indent=1)
        )
        print(f"plan written to {args.out}")
    if args.map:
        info = {
            visit: VisitInfo(d.customer, d.address, d.phone, d.slot, d.items)
            for visit, d in day.details.items()
        }
        args.map.parent.mkdir(parents=True, exist_ok=True)
        plan_map(day.data, result, info=info).save(str(args.map))
        print(f"map written to {args.map}")
    return 0 if result.ok else 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "plan":
            return run_plan(args, get_settings())
    except (ValueError, OSError) as error:
        print(f"dispatch: {error}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
