"""The graph's streets as GeoJSON, for drawing a map background."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._graph import WalkGraph

__all__ = ["streets_geojson"]


def streets_geojson(
    graph: WalkGraph,
    bbox: tuple[float, float, float, float] | None = None,
    *,
    decimals: int = 6,
) -> dict[str, Any]:
    """A FeatureCollection of LineStrings with ``name`` and ``highway`` properties.

    Consecutive segments of one street (same name and class, meeting at a node
    where nothing else of that street branches off) are joined into one line,
    which roughly halves the feature count. ``bbox`` is ``(min_lon, min_lat,
    max_lon, max_lat)``; segments touching it are included whole. Six decimals
    are ~0.1 m, finer than a map needs and still short.
    """
    segs = np.arange(graph.n_segments)
    if bbox is not None:
        segs = segs[_touching(graph, bbox)]
    lon = np.round(graph.shape_lon, decimals).tolist()
    lat = np.round(graph.shape_lat, decimals).tolist()
    ptr = graph.shape_ptr.tolist()
    names = list(graph.names)
    highways = list(graph.highways)
    features = []
    for chain in _chains(graph, segs.tolist()):
        coords: list[list[float]] = []
        for seg, forward in chain:
            a, b = ptr[seg], ptr[seg + 1]
            part = [[x, y] for x, y in zip(lon[a:b], lat[a:b], strict=True)]
            if not forward:
                part.reverse()
            coords.extend(part[1:] if coords else part)
        first = chain[0][0]
        name_i = int(graph.seg_name[first])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {
                    "name": names[name_i] if name_i >= 0 else None,
                    "highway": highways[int(graph.seg_highway[first])],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _touching(graph: WalkGraph, bbox: tuple[float, float, float, float]) -> NDArray[np.bool_]:
    min_lon, min_lat, max_lon, max_lat = bbox
    starts = graph.shape_ptr[:-1]
    lat, lon = graph.shape_lat, graph.shape_lon
    return np.asarray(
        (np.maximum.reduceat(lon, starts) >= min_lon)
        & (np.minimum.reduceat(lon, starts) <= max_lon)
        & (np.maximum.reduceat(lat, starts) >= min_lat)
        & (np.minimum.reduceat(lat, starts) <= max_lat)
    )


def _chains(graph: WalkGraph, segs: list[int]) -> list[list[tuple[int, bool]]]:
    """Segments grouped into runs of one street: lists of (segment, walked forward)."""
    u, v = graph.seg_u.tolist(), graph.seg_v.tolist()
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for s in segs:
        groups[(int(graph.seg_name[s]), int(graph.seg_highway[s]))].append(s)
    chains: list[list[tuple[int, bool]]] = []
    for members in groups.values():
        at: dict[int, list[int]] = defaultdict(list)
        for s in members:
            at[u[s]].append(s)
            at[v[s]].append(s)
        used: set[int] = set()
        # Start at ends and branch points first, so that only loops start mid-way.
        starts = [n for n, ss in at.items() if len(ss) != 2] + list(at)
        for node in starts:
            for s in at[node]:
                if s in used:
                    continue
                chain, here = [], node
                while True:
                    used.add(s)
                    forward = u[s] == here
                    chain.append((s, forward))
                    here = v[s] if forward else u[s]
                    nxt = [t for t in at[here] if t not in used]
                    if len(at[here]) != 2 or not nxt:
                        break
                    s = nxt[0]
                chains.append(chain)
    return chains
