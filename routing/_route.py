"""Turn the pieces of a shortest path into a :class:`Route`: geometry and spoken steps."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ._arrays import ranges
from ._geo import bearing_deg, haversine_one
from ._graph import WalkGraph
from ._types import Route, Step

__all__ = [
    "Position",
    "Stretch",
    "make_route",
    "node_position",
    "off_network",
    "on_segment",
    "whole_edges",
]

LonLat = tuple[float, float]

_COMPASS = ("north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest")
_CLASS_LABEL = {
    "footway": "footway",
    "path": "path",
    "trail": "path",
    "track": "track",
    "steps": "steps",
    "cycleway": "cycleway",
    "bridleway": "bridleway",
    "pedestrian": "pedestrian street",
    "living_street": "street",
    "residential": "street",
    "service": "service road",
    "corridor": "corridor",
    "platform": "platform",
    "elevator": "elevator",
}
# A bearing needs two points this far apart, or GPS-level jitter decides the turn.
_MIN_BEARING_M = 2.0


@dataclass(frozen=True, slots=True)
class Position:
    """A place on a segment: after shape point ``k`` (global index), at ``lat``/``lon``."""

    k: int
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Stretch:
    """What is walked on one segment (``seg``), or off the network (``seg == -1``)."""

    seg: int
    coords: list[LonLat]
    length_m: float
    duration_s: float


def node_position(graph: WalkGraph, seg: int, at_end: bool) -> Position:
    k = int(graph.shape_ptr[seg + 1] - 1) if at_end else int(graph.shape_ptr[seg])
    return Position(k, float(graph.shape_lat[k]), float(graph.shape_lon[k]))


def on_segment(
    graph: WalkGraph, seg: int, start: Position, end: Position, forward: bool, duration_s: float
) -> Stretch:
    """Part of ``seg`` from ``start`` to ``end``; ``forward`` is the shape's order."""
    first, last = (start, end) if forward else (end, start)
    lat = graph.shape_lat[first.k + 1 : last.k + 1].tolist()
    lon = graph.shape_lon[first.k + 1 : last.k + 1].tolist()
    coords = _dedup([(first.lon, first.lat), *zip(lon, lat, strict=True), (last.lon, last.lat)])
    if not forward:
        coords.reverse()
    return Stretch(seg, coords, _length(coords), duration_s)


def whole_edges(graph: WalkGraph, edges: list[int]) -> list[Stretch]:
    """Stretches for complete edges, their shapes gathered in one vectorised pass."""
    if not edges:
        return []
    e = np.asarray(edges, dtype=np.int64)
    seg = graph.edge_seg[e]
    rev = graph.edge_rev[e]
    lo, hi = graph.shape_ptr[seg], graph.shape_ptr[seg + 1]
    n = hi - lo
    ptr, offset = ranges(np.zeros_like(n), n)
    idx = np.repeat(np.where(rev, hi - 1, lo), n) + np.repeat(np.where(rev, -1, 1), n) * offset
    lon = graph.shape_lon[idx].tolist()
    lat = graph.shape_lat[idx].tolist()
    bounds = ptr.tolist()
    return [
        Stretch(s, list(zip(lon[a:b], lat[a:b], strict=True)), length, seconds)
        for s, a, b, length, seconds in zip(
            seg.tolist(),
            bounds[:-1],
            bounds[1:],
            graph.seg_length[seg].tolist(),
            graph.edge_time[e].tolist(),
            strict=True,
        )
    ]


def off_network(a: LonLat, b: LonLat, duration_s: float) -> Stretch:
    coords = _dedup([a, b])
    return Stretch(-1, coords, _length(coords), duration_s)


def make_route(graph: WalkGraph, legs: list[list[Stretch]]) -> Route:
    """Join legs (one per waypoint-to-waypoint hop) into a route with steps."""
    coords: list[LonLat] = []
    steps: list[Step] = []
    duration = 0.0
    distance = 0.0
    for n, leg in enumerate(legs):
        for stretch in leg:
            if coords and stretch.coords and coords[-1] == stretch.coords[0]:
                coords.extend(stretch.coords[1:])
            else:
                coords.extend(stretch.coords)
            duration += stretch.duration_s
            distance += stretch.length_m
        steps.extend(_steps(graph, leg))
        last = n == len(legs) - 1
        name = steps[-1].name if steps else ""
        steps.append(Step(name, "Arrive" if last else "Arrive at waypoint", 0.0, 0.0))
    return Route(
        distance_m=distance,
        duration_s=duration,
        coordinates=[[lon, lat] for lon, lat in coords],
        steps=steps,
    )


@dataclass(slots=True)
class _Group:
    name: str
    label: str  # what a step reads: the street's name, or "the footpath" when unnamed
    coords: list[LonLat]
    distance_m: float
    duration_s: float

    def add(self, stretch: Stretch) -> None:
        if self.coords and stretch.coords and self.coords[-1] == stretch.coords[0]:
            self.coords.extend(stretch.coords[1:])
        else:
            self.coords.extend(stretch.coords)
        self.distance_m += stretch.length_m
        self.duration_s += stretch.duration_s


def _steps(graph: WalkGraph, leg: list[Stretch]) -> list[Step]:
    groups: list[_Group] = []
    # Off-network walking before the first street belongs to the first step.
    pending = _Group("", "", [], 0.0, 0.0)
    for stretch in leg:
        if stretch.seg < 0:
            (groups[-1] if groups else pending).add(stretch)
            continue
        if stretch.length_m <= 0.0:
            # Starting exactly on an intersection leaves an empty stretch on
            # whichever segment was snapped to; it names no street walked.
            continue
        name = graph.segment_name(stretch.seg)
        # Steps follow what people read: two unnamed classes with one label are one step.
        label = name or f"the {_CLASS_LABEL.get(graph.segment_highway(stretch.seg), 'road')}"
        if not groups or groups[-1].label != label:
            if groups:
                groups.append(_Group(name, label, [], 0.0, 0.0))
            else:
                pending.name, pending.label = name, label
                groups.append(pending)
        groups[-1].add(stretch)
    if not groups:
        if pending.distance_m <= 0:
            return []
        return [Step("", "Walk to the destination", pending.distance_m, pending.duration_s)]

    steps: list[Step] = []
    previous: _Group | None = None
    for group in groups:
        if previous is None:
            heading = _bearing(group.coords, from_start=True)
            if heading is None:
                text = f"Walk on {group.label}"
            else:
                text = f"Head {_COMPASS[int((heading + 22.5) % 360 // 45)]} on {group.label}"
        else:
            text = f"{_turn(previous.coords, group.coords)} onto {group.label}"
        steps.append(Step(group.name, text, group.distance_m, group.duration_s))
        previous = group
    return steps


def _turn(before: list[LonLat], after: list[LonLat]) -> str:
    b_in = _bearing(before, from_start=False)
    b_out = _bearing(after, from_start=True)
    if b_in is None or b_out is None:
        return "Continue"
    delta = (b_out - b_in + 540.0) % 360.0 - 180.0
    side = "right" if delta > 0 else "left"
    angle = abs(delta)
    if angle < 20:
        return "Continue"
    if angle < 50:
        return f"Bear {side}"
    if angle < 135:
        return f"Turn {side}"
    if angle < 170:
        return f"Turn sharp {side}"
    return "Make a U-turn"


def _bearing(coords: list[LonLat], *, from_start: bool) -> float | None:
    """Heading at the start (or end) of ``coords``, over a stretch long enough to trust."""
    pts = coords if from_start else coords[::-1]
    if len(pts) < 2:
        return None
    lon0, lat0 = pts[0]
    for lon1, lat1 in pts[1:]:
        if haversine_one(lat0, lon0, lat1, lon1) >= _MIN_BEARING_M:
            b = bearing_deg(lat0, lon0, lat1, lon1)
            return b if from_start else (b + 180.0) % 360.0
    return None


def _dedup(coords: list[LonLat]) -> list[LonLat]:
    out = coords[:1]
    for c in coords[1:]:
        if c != out[-1]:
            out.append(c)
    return out


def _length(coords: list[LonLat]) -> float:
    return sum(
        haversine_one(lat1, lon1, lat2, lon2)
        for (lon1, lat1), (lon2, lat2) in itertools.pairwise(coords)
    )
