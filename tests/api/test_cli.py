"""The `dispatch plan` command on the bundled fixture day."""

from __future__ import annotations

import contextlib
import io
import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from api.cli import main
from api.core.config import get_service_settings
from api.plan_text import PLAIN_EVERY_S, TEXT_WIDTH, SearchDisplay, plan_words, text_console
from optimizer.dayfile import load_day, read_day
from optimizer.settings import DispatchSettings

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "chengdu_day.json"


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    """The fixture day planned for 5 s, its output and its log going to files, not a terminal."""
    out = tmp_path_factory.mktemp("plan")
    plan, page = out / "plan.json", out / "plan.html"
    buffer, log = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(log):
        code = main(
            [
                "plan",
                str(FIXTURE),
                "--date",
                "2026-11-24",
                "--seconds",
                "5",
                "--out",
                str(plan),
                "--map",
                str(page),
            ]
        )
    assert code == 0
    return plan, page, buffer.getvalue(), log.getvalue()


def test_fixture_day_every_visit_routed_or_explained(planned: tuple[Path, Path, str, str]) -> None:
    """Each of the fixture's 120 visits is on a route or comes back with a reason."""
    plan = json.loads(planned[0].read_text())
    routed = [s["visit_id"] for r in plan["routes"] for s in r["stops"]]
    explained = {u["visit_id"]: u["reason"] for u in plan["unassigned"]}
    day = load_day(read_day(FIXTURE), date(2026, 11, 24), DispatchSettings())
    assert sorted(routed + list(explained)) == sorted(v.id for v in day.data.visits)
    assert len(routed) == len(set(routed))
    assert all(reason for reason in explained.values())
    assert plan["status"] == "feasible"
    assert plan["params"]["time_limit_s"] == 5
    assert plan["seed"] == 0


def test_cash_cap_holds_on_every_truck(planned: tuple[Path, Path, str, str]) -> None:
    """No stop of the fixture plan carries more than 50,000 CNY."""
    plan = json.loads(planned[0].read_text())
    cash = [s["cash_on_board"] for r in plan["routes"] for s in r["stops"]]
    assert max(cash) <= 5_000_000


def test_table_and_map_written(planned: tuple[Path, Path, str, str]) -> None:
    """The terminal table lists crews and the summary; the map file is a Leaflet page."""
    text = planned[2]
    assert "C01" in text and "visits routed" in text and "km" in text
    assert "L.polyline" in planned[1].read_text()


def test_bad_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A day file with an invalid visit fails naming the visit and field, before solving."""
    day = json.loads(FIXTURE.read_text())
    day["visits"][0]["lat"] = 95
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(day))
    code = main(["plan", str(broken), "--date", "2026-11-24", "--seconds", "1"])
    assert code == 2
    assert f"visit '{day['visits'][0]['id']}': lat: must be between -90 and 90" in (
        capsys.readouterr().err
    )


def test_map_loads_nothing_from_the_internet(planned: tuple[Path, Path, str, str]) -> None:
    """The CLI's map carries Leaflet and jQuery itself: no script or stylesheet from a URL."""
    page = planned[1].read_text()
    sources = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*"([^"]*)"', page)
    assert sources, "the map names its scripts and stylesheets"
    assert [s for s in sources if not s.startswith("data:")] == []
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", page)


@pytest.fixture
def database_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Sets DATABASE_URL for one test; the settings are cached, so they are read again."""

    def use(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)
        get_service_settings.cache_clear()

    yield use
    get_service_settings.cache_clear()


def test_audit_without_a_database_says_where_it_looked(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`audit verify` where no database exists names the file and what to do, and creates none."""
    monkeypatch.chdir(tmp_path)
    database_url("sqlite:///dispatch.db")
    code = main(["audit", "verify"])
    error = capsys.readouterr().err
    assert code == 2
    assert str(tmp_path / "dispatch.db") in error and "dispatch serve" in error
    assert "Traceback" not in error
    assert list(tmp_path.iterdir()) == []


def test_audit_on_an_unmigrated_database_is_a_clear_error(
    tmp_path: Path, database_url: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty SQLite file is not taken for a ledger: the error says the schema is missing."""
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    database_url(f"sqlite:///{empty}")
    code = main(["audit", "verify"])
    error = capsys.readouterr().err
    assert code == 2
    assert f"sqlite:///{empty}" in error and "no ledger_head table" in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_log_gets_a_few_plain_lines_of_progress(planned: tuple[Path, Path, str, str]) -> None:
    """Not on a terminal, progress is a plain line every few seconds, never going back."""
    log = planned[3]
    assert "\r" not in log and "\x1b" not in log
    lines = re.findall(r"^planning +(\d+\.\d)%  (.*)$", log, flags=re.MULTILINE)
    assert 2 <= len(lines) <= 5 / PLAIN_EVERY_S + 2
    shares = [float(share) for share, _ in lines]
    assert shares == sorted(shares) and shares[-1] == 100.0
    plan = json.loads(planned[0].read_text())
    routed = sum(len(route["stops"]) for route in plan["routes"])
    assert lines[-1][1] == f"{routed} visits routed, {plan['kpis']['distance_m'] / 1000:,.1f} km"


def test_terminal_gets_a_bar_redrawn_in_place() -> None:
    """On a terminal the bar is drawn by rich and redrawn, with no plain progress lines."""
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with SearchDisplay(console, plain_every_s=0) as display:
        for share in (0.1, 0.5, 0.9):
            display.update(share, plan_words(110, 642.3))
    drawn = screen.getvalue()
    assert "━" in drawn and "110 visits routed, 642.3 km" in drawn
    assert not re.search(r"^planning +\d+\.\d%", drawn, flags=re.MULTILINE)


def test_crew_tables_are_tables_within_the_file_width(
    planned: tuple[Path, Path, str, str],
) -> None:
    """Written to a file, each crew is a rich table no wider than the text width."""
    text = planned[2]
    assert text.count("┃ visit") == json.loads(planned[0].read_text())["kpis"]["vehicles_used"]
    tables = [line for line in text.splitlines() if "│" in line or "┃" in line]
    assert tables and all(len(line) <= TEXT_WIDTH for line in tables)


def test_caller_text_in_a_table_is_printed_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    """A name in brackets from a store system is shown as typed, not read as rich markup."""
    table = Table(title="[b]C01[/b]")
    table.add_column("visit")
    table.add_row("[red]SO-1[/red]")
    text_console().print(table)
    shown = capsys.readouterr().out
    assert "[b]C01[/b]" in shown and "[red]SO-1[/red]" in shown


def test_bar_moves_with_the_clock_between_reports() -> None:
    """A search silent for a while still moves the bar, short of 100% until the plan is in."""
    log = io.StringIO()
    with SearchDisplay(Console(file=log), time_limit_s=1.0, plain_every_s=0.2) as display:
        time.sleep(1.3)
        display.update(0.1, "110 visits routed, 642.3 km")  # a late report's own share is lower
    shares = [float(s) for s in re.findall(r"^planning +(\d+\.\d)%", log.getvalue(), re.M)]
    assert len(shares) >= 4 and shares == sorted(shares)
    assert shares[1] > 0 and shares[-1] == 99.0
