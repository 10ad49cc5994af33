"""The `dispatch` command: plan a day file from the terminal."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from api.auth.models import Role
from api.core.config import get_service_settings
from api.core.errors import DomainError
from api.core.roads import matrix_provider, road_paths
from api.pages.assets import map_background, standalone_map_html
from api.plan_text import SearchDisplay, best_so_far, plan_words, print_plan, text_console
from maps.plan_map import Background, VisitInfo, plan_map
from optimizer.dayfile import Day, load_day, read_day
from optimizer.engine import Progress
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
    serve = commands.add_parser("serve", help="run the dispatch service (HTTP API)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    keys = commands.add_parser("keys", help="issue an API key (printed once)")
    keys.add_argument("--role", required=True, choices=[role.value for role in Role])
    keys.add_argument("--name", required=True)
    keys.add_argument("--vehicle", help="a driver key's vehicle code")
    audit = commands.add_parser("audit", help="check the stored handover and cash records")
    audit.add_argument("action", choices=["verify"])
    audit.add_argument("--date", type=date.fromisoformat, help="one day only (YYYY-MM-DD)")
    return parser


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.main import create_app

    # Keys travel in the Authorization header, which uvicorn's access log never prints.
    uvicorn.run(create_app(), host=args.host, port=args.port)
    return 0


def run_keys(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from api.auth.models import ApiKeyCreate
    from api.auth.service import issue_key
    from api.core.config import get_service_settings
    from api.core.db import make_engine
    from api.core.migrate import upgrade

    engine = make_engine(get_service_settings().database_url)
    upgrade(engine)
    with Session(engine) as session:
        request = ApiKeyCreate(name=args.name, role=Role(args.role), vehicle_code=args.vehicle)
        issued = issue_key(session=session, request=request)
    print(issued.key)
    return 0


def run_audit(args: argparse.Namespace) -> int:
    """Exit 0 when every day's chain is intact, 1 naming each broken entry otherwise."""
    from sqlmodel import Session

    from api.core.db import open_existing
    from api.records.audit import verify

    engine = open_existing(get_service_settings().database_url, table="ledger_head")
    with Session(engine) as session:
        problems = verify(session, date=args.date)
    engine.dispose()
    for problem in problems:
        print(f"TAMPERED {problem}")
    if problems:
        print(f"{len(problems)} problem(s) in the stored records", file=sys.stderr)
        return 1
    print("records intact")
    return 0


def _map_background() -> Background:
    """The service's tiles, so DISPATCH_MAP_TILES=none gives the CLI a blank background too."""
    return map_background(get_service_settings())


def plan_json(day: Day, result: Result, params: SolveParams) -> dict[str, object]:
    return {
        "city": day.city,
        "date": day.date.isoformat(),
        "params": params.as_dict(),
        **result_to_dict(result),
    }


def run_plan(args: argparse.Namespace, settings: DispatchSettings) -> int:
    day = load_day(read_day(args.file), args.date, settings, matrix_provider(settings))
    if not day.data.visits:
        print(f"no visits on {args.date} in {args.file}", file=sys.stderr)
        return 1
    params = SolveParams(time_limit_s=args.seconds)
    print(
        f"planning {len(day.data.visits)} visits for {len(day.data.vehicles)} crews "
        f"on {day.date} ({day.city}), {args.seconds:.0f} s",
        file=sys.stderr,
    )
    with SearchDisplay(text_console(stderr=True), time_limit_s=args.seconds) as display:

        def show(update: Progress) -> None:
            display.update(update.elapsed_s / update.time_limit_s, best_so_far(update))

        result = solve(day.data, params, seed=args.seed, progress=show)
        kpis = result.kpis
        display.update(1.0, plan_words(kpis.visits_routed, kpis.distance_m / 1000))
    crews = {
        vehicle: " ".join(member.get("name", "") for member in members)
        for vehicle, members in day.crews.items()
    }
    print_plan(text_console(), day.data, result, day.details, crews)
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
        fmap = plan_map(
            day.data,
            result,
            info=info,
            background=_map_background(),
            roads=road_paths(settings),
        )
        args.map.write_text(standalone_map_html(fmap), encoding="utf-8")
        print(f"map written to {args.map}")
    return 0 if result.ok else 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "plan":
            return run_plan(args, get_settings())
        if args.command == "serve":
            return run_serve(args)
        if args.command == "keys":
            return run_keys(args)
        if args.command == "audit":
            return run_audit(args)
    except (ValueError, OSError, DomainError) as error:
        print(f"dispatch: {error}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
