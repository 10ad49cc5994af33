"""Smoke test of the plan-store benchmark: a 10-visit area stored twice on PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.plan_store import measure


def test_store_is_timed_and_its_rows_counted() -> None:
    """Every repeat stores the same plan: a time each, and the same rows inserted each time."""
    if not sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        message = "PostgreSQL server binaries not installed (apt-get install postgresql)"
        if os.environ.get("DISPATCH_REQUIRE_POSTGRES"):
            pytest.fail(message)  # CI promises a real PostgreSQL run; never skip it silently
        pytest.skip(message)
    found = measure(visits=10, seconds=1.0, repeats=2, seed=7)
    assert found["routed"] > 0 and len(found["store_ms"]) == 2
    first, second = found["rows_inserted"]
    assert first == second > found["routed"]
