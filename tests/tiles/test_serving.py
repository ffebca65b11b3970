"""Serving the vector tiles (issue 14, item 2): `GET /map/tiles/{z}/{x}/{y}.pbf` from the
MBTiles built from the Helsinki extract, and what `/map/config` tells the pages."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.settings import Settings
from responders.web.maps import FALLBACK_NOTE, TILES_URL
from routing import Router
from tests.tiles.mvt import read_tile

CENTRAL_HELSINKI = (60.1699, 24.9384)  # by the railway station, on Mannerheimintie
ALEKSANTERINKATU = (60.1690, 24.9450)


def tile_of(lat: float, lon: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


async def _client(settings: Settings, router: Router) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings, router=router)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest_asyncio.fixture(loop_scope="session")
async def tiled(
    settings: Settings, helsinki_router: Router, helsinki_tiles: Path, clean_db: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(
        update={"map": settings.map.model_copy(update={"tiles_file": helsinki_tiles})}
    )
    async for http in _client(configured, helsinki_router):
        yield http


async def _tile(http: httpx.AsyncClient, lat: float, lon: float, z: int = 15) -> httpx.Response:
    x, y = tile_of(lat, lon, z)
    return await http.get(f"/map/tiles/{z}/{x}/{y}.pbf")


async def test_a_zoom_15_tile_over_central_helsinki_holds_street_names_and_water(
    tiled: httpx.AsyncClient,
) -> None:
    response = await _tile(tiled, *CENTRAL_HELSINKI)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layers = read_tile(response.content)
    assert {"transportation", "transportation_name", "building", "water"} <= set(layers)
    assert "Mannerheimintie" in layers["transportation_name"].values("name")
    assert layers["water"].features and all(f.type == "polygon" for f in layers["water"].features)
    # House numbers at the top zoom.
    assert "housenumber" in layers and len(layers["housenumber"].features) > 50
    beside = read_tile((await _tile(tiled, *ALEKSANTERINKATU)).content)
    names = beside["transportation_name"]
    assert "Aleksanterinkatu" in names.values("name")
    # Helsinki is bilingual: the Swedish names are in the tiles too.
    assert "Alexandersgatan" in names.values("name:sv")


async def test_the_sea_is_in_the_tiles(tiled: httpx.AsyncClient) -> None:
    # North-east of the centre: Kaisaniemenlahti, from the extract's coastline.
    layers = read_tile((await _tile(tiled, 60.1775, 24.9480)).content)
    assert "ocean" in layers["water"].values("class")


async def test_tiles_are_sent_gzipped_when_accepted(tiled: httpx.AsyncClient) -> None:
    x, y = tile_of(*CENTRAL_HELSINKI, 15)
    url = f"/map/tiles/15/{x}/{y}.pbf"
    zipped = await tiled.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    plain = await tiled.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert not plain.content.startswith(b"\x1f\x8b")
    assert int(zipped.headers["content-length"]) < len(plain.content)
    assert zipped.content == plain.content  # httpx decodes it
    assert plain.headers["vary"] == "Accept-Encoding"


async def test_tiles_have_an_etag(tiled: httpx.AsyncClient) -> None:
    first = await _tile(tiled, *CENTRAL_HELSINKI)
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    x, y = tile_of(*CENTRAL_HELSINKI, 15)
    again = await tiled.get(f"/map/tiles/15/{x}/{y}.pbf", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = await _tile(tiled, *ALEKSANTERINKATU)
    assert other.headers["etag"] != etag


async def test_empty_tiles_are_204_and_outside_is_404(tiled: httpx.AsyncClient) -> None:
    # In the pyramid but far from the extract (the Atlantic): nothing to draw.
    assert (await tiled.get("/map/tiles/15/0/0.pbf")).status_code == 204
    for outside in (
        "/map/tiles/16/37307/18968.pbf",
        "/map/tiles/3/8/0.pbf",
        "/map/tiles/3/0/-1.pbf",
    ):
        response = await tiled.get(outside)
        assert response.status_code == 404, outside
        assert response.json()["code"] == "not_found"


async def test_the_config_points_the_pages_at_the_tiles(tiled: httpx.AsyncClient) -> None:
    config = (await tiled.get("/map/config")).json()
    assert config["vector_tiles_url"] == TILES_URL == "/map/tiles/{z}/{x}/{y}.pbf"
    assert config["max_zoom"] == 15 and config["min_zoom"] == 0
    assert config["streets_url"] is None and config["note"] is None
    assert config["tile_url"] is None and config["style_url"] is None
    assert "OpenStreetMap" in config["attribution"]


async def test_without_tiles_the_config_says_streets_only(client: httpx.AsyncClient) -> None:
    config = (await client.get("/map/config")).json()
    assert config["vector_tiles_url"] is None
    assert config["streets_url"] == "/map/streets.geojson"
    assert config["note"] == FALLBACK_NOTE
    assert (await client.get("/map/tiles/15/18653/9484.pbf")).status_code == 404


async def test_a_missing_tiles_file_falls_back_to_streets(
    settings: Settings, helsinki_router: Router, clean_db: AsyncEngine, tmp_path: Path
) -> None:
    broken = tmp_path / "nothing.mbtiles"
    configured = settings.model_copy(
        update={"map": settings.map.model_copy(update={"tiles_file": broken})}
    )
    async for http in _client(configured, helsinki_router):
        config = (await http.get("/map/config")).json()
        assert config["vector_tiles_url"] is None
        assert config["note"] == FALLBACK_NOTE
    assert not broken.exists()


async def test_an_external_style_is_allowed_by_the_pages(
    settings: Settings, helsinki_router: Router, clean_db: AsyncEngine
) -> None:
    style = "https://maps.example.org/styles/osm-bright/style.json"
    configured = settings.model_copy(
        update={"map": settings.map.model_copy(update={"style_url": style})}
    )
    async for http in _client(configured, helsinki_router):
        config = (await http.get("/map/config")).json()
        assert config["style_url"] == style
        assert config["vector_tiles_url"] is None and config["streets_url"] is None
        csp = (await http.get("/console")).headers["content-security-policy"]
        assert "connect-src 'self' https://maps.example.org;" in csp
