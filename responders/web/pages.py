"""Routes that serve the web screens and their static files.

The pages are plain HTML with their own JavaScript: they call the JSON API from the browser
with the caller's bearer token, so this module only hands out files (and, in `maps` and
`demo`, two small JSON helpers). Every page is sent with a Content-Security-Policy that keeps
the browser on this origin: no script, style, font or request may leave the machine (the one
exception is a configured tile server, for map images only).
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from responders.settings import Settings
from responders.web import demo, maps, pwa

__all__ = ["TEMPLATES_DIR", "router"]

_HERE = Path(__file__).resolve().parent
_STATIC_DIR = _HERE / "static"
TEMPLATES_DIR = _HERE / "templates"


class _StaticFiles(StaticFiles):
    """Our own files revalidate on every load (ETag → 304); vendored ones are versioned."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if "/vendor/" in str(full_path):
            response.headers["Cache-Control"] = "public, max-age=86400"
        else:
            response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


router = APIRouter(include_in_schema=False)
router.mount("/static", _StaticFiles(directory=_STATIC_DIR), name="static")
router.include_router(maps.router)
router.include_router(demo.router)
router.include_router(pwa.router)


@cache
def _template(name: str) -> str:
    return (TEMPLATES_DIR / name).read_text(encoding="utf-8")


def _tile_source(tile_url: str | None) -> str:
    """The CSP source that lets map tiles load from the configured tile server."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        return ""
    if "{s}" in host:
        host = "*" + host.split("{s}", 1)[1]
    if "{" in host:
        return f" {parts.scheme}:"
    port = f":{parts.port}" if parts.port else ""
    return f" {parts.scheme}://{host}{port}"


def _csp(settings: Settings) -> str:
    tiles = _tile_source(settings.map.tile_url)
    # Vector tiles and styles are fetched, not loaded as images.
    fetched = tiles + _tile_source(settings.map.style_url)
    return (
        "default-src 'self'; "
        "script-src 'self'; "
        "style-src 'self' 'unsafe-inline'; "  # Leaflet positions its panes with style=""
        f"img-src 'self' data:{tiles}; "
        f"connect-src 'self'{fetched}; "
        "frame-src 'self'; frame-ancestors 'self'; "
        "worker-src 'self'; manifest-src 'self'; "  # the volunteer app's service worker
        "base-uri 'none'; form-action 'self'; object-src 'none'"
    )


def _page_response(request: Request, name: str, html: str | None = None) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    return HTMLResponse(
        _template(name) if html is None else html,
        headers={
            "Content-Security-Policy": _csp(settings),
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )


_DEMO_LINK = re.compile(r"<!--demo-->.*?<!--/demo-->", re.DOTALL)


@router.get("/")
async def index(request: Request) -> HTMLResponse:
    """Links to the screens (the demo phone only in the demo)."""
    html = _template("index.html")
    if request.app.state.settings.api.demo_credentials is None:
        html = _DEMO_LINK.sub("", html)
    return _page_response(request, "index.html", html)


@router.get("/console")
async def console(request: Request) -> HTMLResponse:
    """The dispatch operator's console."""
    return _page_response(request, "console.html")


@router.get("/app")
async def volunteer_app(request: Request) -> HTMLResponse:
    """The volunteer's screen: alerts, registration, availability."""
    return _page_response(request, "app.html")


@router.get("/report")
async def citizen_report(request: Request) -> HTMLResponse:
    """The citizen's emergency report."""
    return _page_response(request, "report.html")


@router.get("/report/status")
async def citizen_report_status(request: Request) -> HTMLResponse:
    """The same page, showing a report's status: its token is in the URL's fragment."""
    return _page_response(request, "report.html")


@router.get("/demo/phone")
async def demo_phone(request: Request) -> HTMLResponse:
    """The demo's stand-in for volunteers' phones (404 outside the demo)."""
    demo.demo_credentials(request)
    return _page_response(request, "demo_phone.html")
