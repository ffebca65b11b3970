"""`/map/...`: what the pages' maps need to draw without any tile server.

With no `tile_url` configured, the background is the loaded walking graph's streets, drawn
by the browser from `GET /map/streets.geojson` (built once per app and kept as bytes).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from responders.settings import Settings
from routing import GraphRouter, Router, streets_geojson

__all__ = ["router"]

router = APIRouter(prefix="/map", include_in_schema=False)

_EMPTY = {"type": "FeatureCollection", "features": []}


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


@router.get("/config")
async def map_config(request: Request) -> dict[str, Any]:
    """Bounds of the loaded graph (`[min_lon, min_lat, max_lon, max_lat]`) and the tile URL."""
    settings: Settings = request.app.state.settings
    graph: Router | None = getattr(request.app.state, "router", None)
    return {
        "bounds": list(graph.bounds) if graph is not None else None,
        "tile_url": settings.api.tile_url,
        "streets_url": None if settings.api.tile_url else "/map/streets.geojson",
        "attribution": "Streets © OpenStreetMap contributors",
    }


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
