"""Page plumbing: signing in with a cookie, the language switch, assets served by us."""

from __future__ import annotations

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient

from api.core.deps import SESSION_COOKIE


def _key(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def test_sign_in_sets_a_cookie_the_api_accepts(client: TestClient, key_for: KeyMaker) -> None:
    """After POST /session the browser's cookie alone authenticates API calls."""
    key = _key(key_for("driver", "C01"))
    answer = client.post("/session", json={"key": key})
    assert answer.status_code == 200
    assert answer.json() == {
        "name": "driver key",
        "role": "driver",
        "vehicle_code": "C01",
        "areas": [],
    }
    cookie = answer.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/session").json()["vehicle_code"] == "C01"
    assert client.delete("/session").status_code == 204
    client.cookies.clear()
    assert client.get("/session").status_code == 401


def test_a_wrong_key_does_not_sign_in(client: TestClient) -> None:
    """An unknown key is a 401 and sets no cookie."""
    answer = client.post("/session", json={"key": "dk_nobody"})
    assert answer.status_code == 401
    assert "set-cookie" not in answer.headers


@pytest.mark.parametrize(
    ("role", "vehicle", "home"),
    [
        ("driver", "C01", "/app/driver"),  # drivers land on their route
        ("dispatcher", None, "/app/board"),  # dispatchers on the board
    ],
)
def test_landing_sends_each_role_home(
    client: TestClient, key_for: KeyMaker, role: str, vehicle: str | None, home: str
) -> None:
    """/app redirects a signed-in person to their page, and anyone else to the sign-in."""
    assert client.get("/app", follow_redirects=False).headers["location"] == "/app/sign-in"
    client.post("/session", json={"key": _key(key_for(role, vehicle))})
    assert client.get("/app", follow_redirects=False).headers["location"] == home


@pytest.mark.parametrize(
    ("query", "lang", "word"),
    [
        ("", "zh-CN", "登录"),  # Chinese by default
        ("?lang=en", "en", "Sign in"),  # the switch
    ],
)
def test_sign_in_page_language(client: TestClient, query: str, lang: str, word: str) -> None:
    """The sign-in page speaks Chinese unless English is asked for, and remembers it."""
    page = client.get(f"/app/sign-in{query}")
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text and word in page.text
    if query:
        assert "Sign in" in client.get("/app/sign-in").text  # remembered by cookie


@pytest.mark.parametrize(
    "path",
    [
        "/static/leaflet/leaflet.js",  # Leaflet itself, from the installed package
        "/static/leaflet/leaflet.css",
        "/static/leaflet/images/layers.png",  # the layer control's icon
        "/static/jquery/jquery.min.js",  # folium's popups are built with it
        "/static/pages/common.js",  # our own scripts
        "/static/pages/app.css",
    ],
)
def test_assets_are_served_without_a_cdn(client: TestClient, path: str) -> None:
    """Everything a page loads comes from this service."""
    assert client.get(path).status_code == 200
