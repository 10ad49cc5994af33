"""Smoke test of the road-network matrix benchmark on the small Helsinki extract."""

from __future__ import annotations

from benchmarks.matrix import run


def test_matrix_benchmark_reports_every_figure() -> None:
    """One small run reports preparation, matrix times, the plan's road km and peak memory."""
    figures = run("helsinki", [20, 50], plan_seconds=1.0)
    assert figures["graph_nodes"] > 1000
    assert [row["points"] for row in figures["matrices"]] == [20, 50]
    assert figures["plan"]["road_km"] > 0 and figures["plan"]["straight_x1_3_km"] > 0
    assert figures["peak_rss_mb"] > 0
