"""Settings of a chain whose extract folder holds Monaco's real extract."""

from __future__ import annotations

from pathlib import Path

from prepared import ADMIN_KEY

from api.core.config import ServiceSettings
from fixtures.monaco import MONACO_PBF


def extract_folder_settings(database_url: str, tmp_path: Path) -> ServiceSettings:
    """A chain on straight lines; an area may name monaco.osm.pbf as its own extract."""
    return ServiceSettings(
        database_url=database_url,
        bootstrap_admin_key=ADMIN_KEY,
        run_scheduler=False,
        session_cookie_secure=False,
        osm_dir=str(MONACO_PBF.parent),
        osm_cache_dir=str(tmp_path / "osm-cache"),
    )
