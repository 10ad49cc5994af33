"""Security headers: every answer carries a content policy, framing and sniffing rules."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from plan_helpers import app_at, seed_day, store_plan

from api.core.config import ServiceSettings
from api.core.headers import tile_sources

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", re.DOTALL)


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """The service as of the seeded morning."""
    with app_at(settings) as test_client:
        yield test_client


def policy(answer: object) -> dict[str, str]:
    """The Content-Security-Policy as directive -> sources."""
    header = answer.headers["content-security-policy"]  # type: ignore[attr-defined]
    return {d.split()[0]: " ".join(d.split()[1:]) for d in header.split(";") if d.strip()}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/app/sign-in", 200),  # a page
        ("/vehicles", 200),  # the API
        ("/orders/NOPE", 404),  # an error
        ("/nowhere", 404),  # no route at all
        ("/static/pages/common.js", 200),  # a static file
    ],
)
def test_every_answer_carries_the_headers(
    client: TestClient, admin: dict[str, str], path: str, status: int
) -> None:
    """CSP with scripts from the service only, no framing by anyone, no sniffing."""
    answer = client.get(path, headers=admin)
    assert answer.status_code == status
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "same-origin"
    rules = policy(answer)
    assert rules["script-src"] == "'self'" and rules["frame-ancestors"] == "'none'"
    assert rules["object-src"] == "'none'"


def test_pages_have_no_inline_script(client: TestClient) -> None:
    """The sign-in page's only inline blocks are data, which the policy lets through unrun."""
    page = client.get("/app/sign-in").text
    assert '<script src="/static/pages/sign_in.js"></script>' in page
    assert all('type="application/json"' in attrs for attrs, _ in INLINE_SCRIPT.findall(page))
    assert client.get("/static/pages/sign_in.js").status_code == 200


def test_a_map_may_be_framed_by_our_pages_and_runs_only_its_own_scripts(
    client: TestClient, admin: dict[str, str]
) -> None:
    """The map page: framed from the same origin only, each of its inline scripts by hash."""
    seed_day(client, admin)
    answer = client.get(f"/plans/{store_plan(client)}/map.html", headers=admin)
    assert answer.status_code == 200
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    rules = policy(answer)
    assert rules["frame-ancestors"] == "'self'" and "unsafe-inline" not in rules["script-src"]
    scripts = [body for _, body in INLINE_SCRIPT.findall(answer.text)]
    assert scripts
    for body in scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in rules["script-src"]
    assert "https:" in rules["img-src"]  # folium's named tile providers


@pytest.mark.parametrize(
    ("tiles", "sources"),
    [
        ("OpenStreetMap", "https:"),  # a provider folium names
        ("none", ""),  # a blank background loads nothing
        ("http://tiles.store.lan:8080/{z}/{x}/{y}.png", "http://tiles.store.lan:8080"),
        ("https://{s}.tiles.example.com/{z}/{x}/{y}.png", "https://*.tiles.example.com"),
    ],
)
def test_map_tiles_come_only_from_the_configured_server(tiles: str, sources: str) -> None:
    """A store's own tile server is the only place a map loads tiles from."""
    assert tile_sources(tiles) == sources
