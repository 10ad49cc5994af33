"""Smoke test of the scale benchmark on a tiny day, both solvers; nothing about timing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.scale import main

VISITS = 30


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out: Path = tmp_path_factory.mktemp("scale") / "scale.json"
    argv = ["--sizes", str(VISITS), "--seconds-per-size", f"{VISITS}:2", "--json", str(out)]
    assert main([*argv, "--solvers", "ours,vroom"]) == 0
    return {record["solver"]: record for record in json.loads(out.read_text(encoding="utf-8"))}


def test_one_record_per_solver(records: dict[str, dict[str, Any]]) -> None:
    """The JSON holds a record for ours and one for VROOM, both for the requested size."""
    assert set(records) == {"ours", "vroom"}
    assert {record["size"] for record in records.values()} == {VISITS}


def test_our_plan_passes_the_checker(records: dict[str, dict[str, Any]]) -> None:
    """Our plan is valid by the independent checker."""
    assert records["ours"]["valid"] is True, records["ours"]["problems"]


def test_every_visit_is_served_or_unassigned(records: dict[str, dict[str, Any]]) -> None:
    """For both solvers, served plus unassigned is the day's number of visits."""
    for record in records.values():
        assert record["served"] + record["unassigned"] == VISITS


def test_traces_are_not_empty(records: dict[str, dict[str, Any]]) -> None:
    """Both solvers leave at least one point of cost over time."""
    for record in records.values():
        assert record["trace"]


@pytest.fixture(scope="module")
def cash_records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out: Path = tmp_path_factory.mktemp("cash") / "cash.json"
    argv = ["--cash-heavy", "--sizes", str(VISITS), "--seconds-per-size", "2", "--json", str(out)]
    assert main(argv) == 0
    return {record["solver"]: record for record in json.loads(out.read_text(encoding="utf-8"))}


def test_cash_heavy_day_runs_with_banks_and_without(
    cash_records: dict[str, dict[str, Any]],
) -> None:
    """--cash-heavy solves one day with banks and without; only the first may deposit."""
    assert set(cash_records) == {"ours", "ours-no-banks"}
    ours, none = cash_records["ours"], cash_records["ours-no-banks"]
    assert ours["valid"] and none["valid"], ours["problems"] + none["problems"]
    assert ours["day"] == none["day"] == "cash-heavy"
    assert none["deposits"] == 0 and set(none["trucks_by_deposits"]) == {"0"}
    assert sum(ours["trucks_by_deposits"].values()) > 0 and ours["cash_collected_cny"] > 0
