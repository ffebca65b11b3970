"""Walking graphs from OSMnx: convert its MultiDiGraph, or download with it when online.

OSMnx keeps only a few way tags (no ``foot``, no ``oneway:foot``), so the
conversion trusts the filter that built the OSMnx graph (``network_type="walk"``)
and re-checks what survives: the highway class, ``access``, ``area``. As in
OSMnx's own walk networks, every street is walkable both ways.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._assemble import Pieces, assemble, split_at_missing
from ._graph import WalkGraph
from ._options import BuildOptions
from ._rules import Direction, walk_direction
from .errors import GraphBuildError

__all__ = ["graph_from_bbox", "graph_from_osmnx", "graph_from_place"]

_SIGNATURE_DECIMALS = 7  # OSM's own coordinate precision


def graph_from_osmnx(nx_graph: Any, options: BuildOptions | None = None) -> WalkGraph:
    """Convert an OSMnx ``MultiDiGraph`` (simplified or not) to a :class:`WalkGraph`."""
    options = options or BuildOptions()
    point_of: dict[Any, int] = {}
    lat: list[float] = []
    lon: list[float] = []
    for node, data in nx_graph.nodes(data=True):
        point_of[node] = len(lat)
        lat.append(float(data["y"]))
        lon.append(float(data["x"]))

    points: list[int] = []
    ptr = [0]
    name_idx: list[int] = []
    highway_idx: list[int] = []
    names: dict[str, int] = {}
    highways: dict[str, int] = {}
    seen: set[tuple[Any, ...]] = set()
    for u, v, data in nx_graph.edges(data=True):
        highway = _walkable_class(data)
        if highway is None:
            continue
        shape = _shape(nx_graph, u, v, data)
        # OSMnx stores a two-way street as two directed edges with mirrored
        # shapes; keep one, walkable both ways.
        key = _undirected_key(shape)
        if key in seen:
            continue
        seen.add(key)
        points.append(point_of[u])
        for x, y in shape[1:-1]:
            points.append(len(lat))
            lat.append(y)
            lon.append(x)
        points.append(point_of[v])
        ptr.append(len(points))
        name = _first(data.get("name")) or ""
        name_idx.append(names.setdefault(name, len(names)) if name else -1)
        highway_idx.append(highways.setdefault(highway, len(highways)))
    if len(ptr) < 2:
        raise GraphBuildError("the OSMnx graph has no walkable edges")

    pieces = Pieces(
        lat=np.asarray(lat, dtype=np.float64),
        lon=np.asarray(lon, dtype=np.float64),
        points=np.asarray(points, dtype=np.int64),
        ptr=np.asarray(ptr, dtype=np.int64),
        name=np.asarray(name_idx, dtype=np.int32),
        highway=np.asarray(highway_idx, dtype=np.int16),
        direction=np.full(len(ptr) - 1, int(Direction.BOTH), dtype=np.int8),
        names=list(names),
        highways=list(highways),
    )
    return assemble(_without_repeats(pieces), options)


def graph_from_place(  # pragma: no cover - needs internet
    query: str, options: BuildOptions | None = None
) -> WalkGraph:
    """Download the walking network of a named place with OSMnx (needs internet)."""
    import osmnx

    return graph_from_osmnx(
        osmnx.graph_from_place(query, network_type="walk", simplify=True, retain_all=True),
        options,
    )


def graph_from_bbox(  # pragma: no cover - needs internet
    bbox: tuple[float, float, float, float], options: BuildOptions | None = None
) -> WalkGraph:
    """Download the walking network in ``(min_lon, min_lat, max_lon, max_lat)`` with OSMnx."""
    import osmnx

    return graph_from_osmnx(
        osmnx.graph_from_bbox(bbox, network_type="walk", simplify=True, retain_all=True),
        options,
    )


def _walkable_class(data: dict[str, Any]) -> str | None:
    """The edge's walkable highway class; simplified edges may carry a list of them."""
    classes = data.get("highway")
    for highway in classes if isinstance(classes, list) else [classes]:
        if not isinstance(highway, str):
            continue
        tags = {"highway": highway}
        for key in ("access", "area"):
            value = _first(data.get(key))
            if value:
                tags[key] = value
        if walk_direction(tags) is not Direction.NONE:
            return highway
    return None


def _shape(nx_graph: Any, u: Any, v: Any, data: dict[str, Any]) -> list[tuple[float, float]]:
    geometry = data.get("geometry")
    if geometry is not None:
        return [(float(x), float(y)) for x, y, *_ in geometry.coords]
    a, b = nx_graph.nodes[u], nx_graph.nodes[v]
    return [(float(a["x"]), float(a["y"])), (float(b["x"]), float(b["y"]))]


def _undirected_key(shape: list[tuple[float, float]]) -> tuple[Any, ...]:
    d = _SIGNATURE_DECIMALS
    rounded = tuple((round(x, d), round(y, d)) for x, y in shape)
    return min(rounded, rounded[::-1])


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)


def _without_repeats(pieces: Pieces) -> Pieces:
    """Drop zero-length hops (a shape point on top of its node), as the OSM reader does."""
    points, ptr, owner = split_at_missing(pieces.points, pieces.ptr)
    return Pieces(
        lat=pieces.lat,
        lon=pieces.lon,
        points=points,
        ptr=ptr,
        name=pieces.name[owner],
        highway=pieces.highway[owner],
        direction=pieces.direction[owner],
        names=pieces.names,
        highways=pieces.highways,
    )
