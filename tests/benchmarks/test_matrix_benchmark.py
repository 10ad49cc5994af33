"""Smoke test of the road-network matrix benchmark on the small Helsinki extract."""

from __future__ import annotations

from pathlib import Path

from benchmarks.matrix import plot, run


def test_matrix_benchmark_reports_every_figure(tmp_path: Path) -> None:
    """One small run reports preparation, matrix times against the peer, both plans' road km."""
    figures = run("helsinki", [20, 50], plan_seconds=1.0)
    assert figures["graph_nodes"] > 1000
    assert [row["points"] for row in figures["matrices"]] == [20, 50]
    plan = figures["plan"]
    assert plan["road_km"] > 0 and plan["straight_x1_3_km"] > 0
    assert plan["checker_violations"] == 0
    assert plan["straight_plan"]["driven_road_km"] > plan["straight_plan"]["planned_km"]
    assert all(row["plain_dijkstra_search_seconds"] > 0 for row in figures["matrices"])
    assert figures["peak_rss_mb"] > 0
    plot(figures, tmp_path / "matrix.png")
    assert (tmp_path / "matrix.png").read_bytes().startswith(b"\x89PNG")
