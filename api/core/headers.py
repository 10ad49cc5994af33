"""Security headers on every answer: a content policy, no framing by others, no sniffing.

The pages load their scripts and styles from the service itself (never a CDN), so the
default policy admits scripts from 'self' only. Inline style attributes stay allowed: the
board's timeline places its bars with them. A route whose page needs more (a map with
folium's inline scripts, framed by our own pages) sets its own policy; this middleware
only fills in the headers an answer does not carry yet.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
# The OpenAPI pages are FastAPI's: Swagger UI and ReDoc from their CDN, one inline script.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; "
    "worker-src 'self' blob:; frame-ancestors 'none'; object-src 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
DEFAULTS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.I)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in DOCS_PATHS else PAGE_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in DEFAULTS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


def framed_map(html: str, *, tiles: str) -> HTMLResponse:
    """A folium map page for our own pages' frames: its inline scripts admitted by their
    hashes (nothing else inline runs), its tiles from the configured tile server."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in _INLINE_SCRIPT.findall(html)
    )
    policy = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob: {tile_sources(tiles)}; connect-src 'self'; "
        "frame-ancestors 'self'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )
    headers = {"Content-Security-Policy": policy, "X-Frame-Options": "SAMEORIGIN"}
    return HTMLResponse(html, headers=headers)


def tile_sources(tiles: str) -> str:
    """Where map tiles come from: a tile URL template's host, any HTTPS host for a named
    provider (folium knows several), nothing for a blank background."""
    tiles = tiles.strip()
    if not tiles or tiles.lower() == "none":
        return ""
    if "{" not in tiles:
        return "https:"
    parts = urlsplit(tiles.replace("{s}", "subdomain"))
    host = parts.netloc.replace("subdomain", "*")
    return f"{parts.scheme}://{host}" if parts.scheme and host else "https:"
