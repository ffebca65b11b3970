"""`/map/...`: what the pages' maps need to draw without any outside tile server.

The background is, in order of preference: an external tile server or style when one is
configured (`EHBO_MAP_TILE_URL`, `EHBO_MAP_STYLE_URL`); our own vector tiles
(`EHBO_MAP_TILES_FILE`, which `ehbo serve`/`demo` build from the extract), served from the
MBTiles file by `GET /map/tiles/{z}/{x}/{y}.pbf`; else the loaded walking graph's streets,
drawn by the browser from `GET /map/streets.geojson` (built once per app and kept as bytes),
with a note on the map that the detailed map is unavailable.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from responders.errors import NotFound
from responders.settings import Settings
from responders.tiles import TileSet, open_tileset
from routing import GraphRouter, Router, streets_geojson

__all__ = ["FALLBACK_NOTE", "TILES_URL", "router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/map", include_in_schema=False)

_EMPTY = {"type": "FeatureCollection", "features": []}
TILES_URL = "/map/tiles/{z}/{x}/{y}.pbf"
FALLBACK_NOTE = "Detailed map unavailable (no tiles built): streets only"
_MVT = "application/vnd.mapbox-vector-tile"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class _Streets:
    body: bytes
    gzipped: bytes
    etag: str


def _streets_bytes(graph: Router | None) -> bytes:
    """The streets of an in-process graph as GeoJSON; an empty collection otherwise
    (a remote routing engine has no streets to hand out)."""
    data: dict[str, Any] = _EMPTY
    if isinstance(graph, GraphRouter):
        data = streets_geojson(graph.graph)
    return orjson.dumps(data)


async def _streets(request: Request) -> _Streets:
    state = request.app.state
    cached: _Streets | None = getattr(state, "web_streets", None)
    if cached is not None:
        return cached
    # Two first requests at once may both build it (a fraction of a second); one wins.
    cached = await anyio.to_thread.run_sync(_build, getattr(state, "router", None))
    state.web_streets = cached
    return cached


def _build(graph: Router | None) -> _Streets:
    body = _streets_bytes(graph)
    return _Streets(
        body=body,
        gzipped=gzip.compress(body, compresslevel=6),
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
    )


def _tileset(request: Request) -> TileSet | None:
    """The app's tiles, opened once (the first request); None without a usable file."""
    state = request.app.state
    if hasattr(state, "tileset"):
        found: TileSet | None = state.tileset
        return found
    path = request.app.state.settings.map.tiles_file
    opened = None
    if path is not None:
        try:
            opened = open_tileset(path)
        except (OSError, sqlite3.Error) as exc:
            log.error("map: cannot read the tiles in %s (%s): streets only", path, exc)
    state.tileset = opened
    return opened


@router.get("/config")
async def map_config(request: Request) -> dict[str, Any]:
    """What the pages' maps draw: bounds of the loaded graph (`[min_lon, min_lat, max_lon,
    max_lat]`), then an external `tile_url` or `style_url`, else our `vector_tiles_url`
    (with the zooms it holds), else `streets_url` and the `note` saying so."""
    settings: Settings = request.app.state.settings
    graph: Router | None = getattr(request.app.state, "router", None)
    external = settings.map.tile_url or settings.map.style_url
    tiles = None if external else _tileset(request)
    fallback = not external and tiles is None
    return {
        "bounds": list(graph.bounds) if graph is not None else None,
        "tile_url": settings.map.tile_url,
        "style_url": None if settings.map.tile_url else settings.map.style_url,
        "vector_tiles_url": TILES_URL if tiles else None,
        "min_zoom": tiles.min_zoom if tiles else None,
        "max_zoom": tiles.max_zoom if tiles else None,
        "streets_url": "/map/streets.geojson" if fallback else None,
        "note": FALLBACK_NOTE if fallback else None,
        "attribution": "Map data © OpenStreetMap contributors"
        + (", OpenMapTiles schema" if tiles else ""),
    }


@router.get("/tiles/{z}/{x}/{y}.pbf")
async def tile(z: int, x: int, y: int, request: Request) -> Response:
    """One vector tile: gzip-stored tiles go out as they are to clients that accept gzip.
    204 for a tile of the pyramid that holds nothing (the renderer draws it empty), 404
    outside the pyramid or without tiles."""
    tiles = _tileset(request)
    if tiles is None:
        raise NotFound("this service has no vector tiles (see /map/config)")
    if not tiles.within_pyramid(z, x, y):
        raise NotFound(f"no tile {z}/{x}/{y}: zooms {tiles.min_zoom}-{tiles.max_zoom}")
    etag = f'"{tiles.version}-{z}-{x}-{y}"'
    # A new build is a new file with a new version; an hour saves the revalidations.
    headers = {"ETag": etag, "Cache-Control": "public, max-age=3600", "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    data = await anyio.to_thread.run_sync(tiles.tile, z, x, y)
    if not data:
        return Response(status_code=204, headers=headers)
    if data.startswith(_GZIP_MAGIC):
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
        else:
            data = gzip.decompress(data)
    return Response(data, media_type=_MVT, headers=headers)


@router.get("/streets.geojson")
async def streets(request: Request) -> Response:
    found = await _streets(request)
    headers = {"ETag": found.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(found.gzipped, media_type="application/geo+json", headers=headers)
    return Response(found.body, media_type="application/geo+json", headers=headers)
