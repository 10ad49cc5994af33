"""Static files the pages load from us, never from a CDN: Leaflet, jQuery, our scripts."""

from __future__ import annotations

import base64
from pathlib import Path

import folium
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


def standalone_map_html(fmap: folium.Map) -> str:
    """The map as one page that needs no server: Leaflet and jQuery travel inside it.

    A map written by the CLI is opened from disk, often in a store without internet, so it
    cannot fetch scripts from us or a CDN. Data URIs keep the page a single file and need no
    escaping of the scripts' own text, unlike inline <script> blocks.
    """
    leaflet, jquery = Path(xstatic.pkg.leaflet.BASE_DIR), Path(xstatic.pkg.jquery.BASE_DIR)
    fmap.default_js = [
        ("jquery", _data_uri(jquery / "jquery.min.js", "text/javascript")),
        ("leaflet", _data_uri(leaflet / "leaflet.js", "text/javascript")),
    ]
    fmap.default_css = [("leaflet_css", _data_uri(leaflet / "leaflet.css", "text/css"))]
    page: str = fmap.get_root().render()
    return page


def _data_uri(path: Path, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
