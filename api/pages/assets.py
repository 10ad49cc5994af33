"""Static files the pages load from us, never from a CDN: Leaflet, jQuery, our scripts."""

from __future__ import annotations

from pathlib import Path

import xstatic.pkg.jquery
import xstatic.pkg.leaflet
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.core.config import ServiceSettings
from maps.plan_map import Background

LEAFLET_URL = "/static/leaflet"
JQUERY_URL = "/static/jquery"
PAGES_URL = "/static/pages"
PAGES_DIR = Path(__file__).parent / "static"


def mount_assets(app: FastAPI) -> None:
    app.mount(LEAFLET_URL, StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR), name="leaflet")
    app.mount(JQUERY_URL, StaticFiles(directory=xstatic.pkg.jquery.BASE_DIR), name="jquery")
    app.mount(PAGES_URL, StaticFiles(directory=PAGES_DIR), name="pages")


def map_background(settings: ServiceSettings) -> Background:
    """The configured tiles, with Leaflet and jQuery from our own server."""
    ours = {"leaflet_url": LEAFLET_URL, "jquery_url": JQUERY_URL}
    tiles = settings.map_tiles.strip()
    if not tiles or tiles.lower() == "none":
        return Background(tiles=None, **ours)
    # folium insists on an attribution for a custom tile server; say whose tiles they are.
    attribution = settings.map_attribution or (None if "{" not in tiles else "map tiles")
    return Background(tiles=tiles, attribution=attribution, **ours)
