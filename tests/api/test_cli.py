"""The `dispatch plan` command on the bundled fixture day."""

from __future__ import annotations

import contextlib
import io
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from api.cli import main
from api.core.config import get_service_settings
from optimizer.dayfile import load_day, read_day
from optimizer.settings import DispatchSettings

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "chengdu_day.json"


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    out = tmp_path_factory.mktemp("plan")
    plan, page = out / "plan.json", out / "plan.html"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
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
    return plan, page, buffer.getvalue()


def test_fixture_day_every_visit_routed_or_explained(planned: tuple[Path, Path, str]) -> None:
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


def test_cash_cap_holds_on_every_truck(planned: tuple[Path, Path, str]) -> None:
    """No stop of the fixture plan carries more than 50,000 CNY."""
    plan = json.loads(planned[0].read_text())
    cash = [s["cash_on_board"] for r in plan["routes"] for s in r["stops"]]
    assert max(cash) <= 5_000_000


def test_table_and_map_written(planned: tuple[Path, Path, str]) -> None:
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


def test_map_loads_nothing_from_the_internet(planned: tuple[Path, Path, str]) -> None:
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
