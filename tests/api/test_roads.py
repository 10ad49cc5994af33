"""The process's shared road provider: made once per extract and settings, straight legs else."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from api.core.roads import matrix_provider, road_paths, road_provider
from fixtures.monaco import CASINO, FONTVIEILLE, MONACO_PBF
from optimizer.matrix import GreatCircleProvider
from optimizer.osm import OsmProvider
from optimizer.settings import DispatchSettings

SEA = (43.700, 7.460)  # kilometres off Monaco's harbour


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    """A copy of the Monaco extract this test may rewrite."""
    return Path(shutil.copy(MONACO_PBF, tmp_path / "city.osm.pbf"))


def on_roads(extract: Path, **overrides: object) -> DispatchSettings:
    cache = str(extract.parent / "cache")
    return DispatchSettings(
        matrix_provider="osm", osm_file=str(extract), osm_cache_dir=cache, **overrides
    )


def test_one_provider_per_extract_and_settings(extract: Path) -> None:
    """Asking again gives the same provider; other limits or a replaced extract give another."""
    first = road_provider(on_roads(extract))
    assert isinstance(first, OsmProvider)
    assert road_provider(on_roads(extract)) is first
    assert matrix_provider(on_roads(extract)) is first
    assert road_provider(on_roads(extract, truck_height_m=2.5)) is not first
    stat = extract.stat()
    os.utime(extract, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert road_provider(on_roads(extract)) is not first


def test_other_providers_have_no_roads() -> None:
    """Great-circle settings give their own provider and no road geometry: straight legs."""
    settings = DispatchSettings(road_detour_factor=1.4, average_speed_kmh=30.0)
    assert road_provider(settings) is None and road_paths(settings) is None
    assert matrix_provider(settings) == GreatCircleProvider(detour_factor=1.4, speed_kmh=30.0)


def test_a_leg_follows_the_roads_and_one_off_them_is_straight(extract: Path) -> None:
    """A leg runs from its start to its end along road points; a leg into the sea is straight."""
    roads = road_paths(on_roads(extract))
    assert roads is not None
    leg = roads(FONTVIEILLE, CASINO)
    assert leg[0] == FONTVIEILLE and leg[-1] == CASINO and len(leg) > 20
    assert roads(FONTVIEILLE, SEA) == [FONTVIEILLE, SEA]
