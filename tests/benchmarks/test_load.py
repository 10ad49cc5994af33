"""Smoke test of the load benchmark: a few clients for a few seconds on SQLite; no timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.load import MIX

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out: Path = tmp_path_factory.mktemp("load") / "load.json"
    argv = ["--clients", "3", "--seconds", "8", "--requests", "120", "--databases", "sqlite"]
    argv += ["--planning", "off", "--plan-seconds", "3", "--json", str(out)]
    # Run as a person runs it, in its own process: the page tests' browser keeps an event loop
    # running in this worker, where the benchmark's asyncio.run would refuse to start.
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.load", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    [only] = json.loads(out.read_text(encoding="utf-8"))
    return dict(only)


def test_no_request_failed(record: dict[str, Any]) -> None:
    """Every request of every kind was answered below 400."""
    assert [row["errors"] for row in record["rows"]] == [0] * len(record["rows"])
    assert record["error_examples"] == []


def test_every_kind_was_sent(record: dict[str, Any]) -> None:
    """Order intake, slot offers, driver route reads and handover writes all ran."""
    sent = {row["kind"]: row["requests"] for row in record["rows"]}
    assert all(sent[kind] > 0 for kind in MIX)
    assert sent["all"] == sum(sent[kind] for kind in MIX) <= 120
