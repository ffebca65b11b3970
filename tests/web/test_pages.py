"""The server side of the web screens, without a browser: pages and their headers, static
files, `/map/...` and `/demo/...` (404 outside the demo)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.settings import Settings
from responders.web.pages import TEMPLATES_DIR, _tile_source

PAGES = ("/", "/console", "/app", "/report", "/report/status")


async def test_pages_are_html_kept_on_this_origin(client: httpx.AsyncClient) -> None:
    for path in PAGES:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "connect-src 'self'" in csp
        assert "http" not in csp  # no tile server configured: nothing off this origin
        assert response.headers["referrer-policy"] == "no-referrer"


def test_templates_load_nothing_from_elsewhere() -> None:
    for template in TEMPLATES_DIR.glob("*.html"):
        html = template.read_text()
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert url.startswith(("/", "#", "tel:", "data:,")), f"{template.name}: {url}"


async def test_static_files(client: httpx.AsyncClient) -> None:
    leaflet = await client.get("/static/vendor/leaflet-1.9.4/leaflet.js")
    assert leaflet.status_code == 200
    assert "javascript" in leaflet.headers["content-type"]
    assert b"Leaflet 1.9.4" in leaflet.content[:200]
    assert "max-age" in leaflet.headers["cache-control"]
    assert (await client.get("/static/vendor/leaflet-1.9.4/LICENSE")).status_code == 200
    own = await client.get("/static/js/console.js")
    assert own.status_code == 200 and own.headers["cache-control"] == "no-cache"
    again = await client.get(
        "/static/js/console.js", headers={"If-None-Match": own.headers["etag"]}
    )
    assert again.status_code == 304
    assert (await client.get("/static/../pages.py")).status_code == 404
    assert (await client.get("/static/%2e%2e/pages.py")).status_code == 404


async def test_demo_routes_are_404_outside_the_demo(client: httpx.AsyncClient) -> None:
    assert (await client.get("/demo/phone")).json()["code"] == "not_found"
    assert (await client.get("/demo/phone")).status_code == 404
    assert (await client.get("/demo/volunteers")).status_code == 404
    assert (await client.post("/demo/volunteers/1/session")).status_code == 404
    assert (await client.post("/demo/operator/session")).status_code == 404
    assert (await client.get("/demo/webpush/messages")).status_code == 404
    assert "/demo/phone" not in (await client.get("/")).text


async def test_map_config(client: httpx.AsyncClient, app: FastAPI) -> None:
    config = (await client.get("/map/config")).json()
    assert config["bounds"] == list(app.state.router.bounds)
    west, south, east, north = config["bounds"]
    assert 24.9 < west < east < 25.0 and 60.1 < south < north < 60.2
    assert config["tile_url"] is None
    assert config["streets_url"] == "/map/streets.geojson"
    assert "OpenStreetMap" in config["attribution"]


async def test_streets_geojson(client: httpx.AsyncClient) -> None:
    response = await client.get("/map/streets.geojson", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    streets: dict[str, Any] = orjson.loads(response.content)
    assert streets["type"] == "FeatureCollection"
    assert len(streets["features"]) > 1000
    kinds = {f["geometry"]["type"] for f in streets["features"]}
    assert kinds == {"LineString"}
    names = {f["properties"]["name"] for f in streets["features"]}
    assert "Mannerheimintie" in names
    zipped = await client.get("/map/streets.geojson", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(response.content) / 3
    assert zipped.content == response.content  # httpx decodes it
    etag = response.headers["etag"]
    cached = await client.get("/map/streets.geojson", headers={"If-None-Match": etag})
    assert cached.status_code == 304


@pytest_asyncio.fixture(loop_scope="session")
async def tiled_client(
    settings: Settings, helsinki_router: Any, clean_db: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    tiles = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    configured = settings.model_copy(
        update={"map": settings.map.model_copy(update={"tile_url": tiles})}
    )
    application = create_app(configured, router=helsinki_router)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_a_tile_server_replaces_the_streets(tiled_client: httpx.AsyncClient) -> None:
    config = (await tiled_client.get("/map/config")).json()
    assert config["tile_url"] == "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    assert config["streets_url"] is None
    csp = (await tiled_client.get("/console")).headers["content-security-policy"]
    assert "img-src 'self' data: https://*.tile.example.org;" in csp


def test_tile_sources() -> None:
    assert _tile_source(None) == ""
    assert _tile_source("https://tiles.example.org:8443/{z}/{x}/{y}.png") == (
        " https://tiles.example.org:8443"
    )
    assert _tile_source("https://{s}.tile.osm.org/{z}/{x}/{y}.png") == " https://*.tile.osm.org"
    assert _tile_source("https://{region}-tiles.example.org/{z}/{x}/{y}.png") == " https:"
    assert _tile_source("javascript:alert(1)") == ""
