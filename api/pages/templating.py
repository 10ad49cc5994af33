"""Rendering a page: its template, its words in the chosen language, the language cookie."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.pages.assets import LEAFLET_URL, PAGES_URL
from api.pages.i18n import LANG_COOKIE, LANGUAGES, language, texts

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
YEAR_SECONDS = 365 * 24 * 3600


def render(
    request: Request,
    name: str,
    words: Mapping[str, Mapping[str, str]] | None = None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = language(request)
    other = next(choice for choice in LANGUAGES if choice != lang)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "other_lang": other,
            "switch_href": _switch_href(request, other),
            "t": texts(lang, *([words] if words else [])),
            "leaflet_url": LEAFLET_URL,
            "pages_url": PAGES_URL,
            **context,
        },
        status_code=status_code,
    )
    response.set_cookie(LANG_COOKIE, lang, max_age=YEAR_SECONDS, samesite="lax", path="/")
    return response


def _switch_href(request: Request, lang: str) -> str:
    url = request.url.include_query_params(lang=lang)
    return f"{url.path}?{url.query}"


def message_page(
    request: Request,
    *,
    principal: Any,
    status_code: int,
    message: str,
    heading: str = "",
    words: Mapping[str, Mapping[str, str]] | None = None,
) -> HTMLResponse:
    """A page that only says something went wrong (403, 404), in the page's language."""
    return render(
        request,
        "message.html",
        words,
        principal=principal,
        heading=heading or str(status_code),
        message=message,
        status_code=status_code,
    )
