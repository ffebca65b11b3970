"""Turn the pieces of a shortest path into a :class:`Route`: geometry and spoken steps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._geo import bearing_deg, haversine_m, haversine_one
from ._graph import WalkGraph
from ._types import Route, Step

__all__ = ["Position", "Stretch", "make_route", "off_network", "on_segment"]

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
    duration_s: float


def node_position(graph: WalkGraph, seg: int, at_end: bool) -> Position:
    k = int(graph.shape_ptr[seg + 1] - 1) if at_end else int(graph.shape_ptr[seg])
    return Position(k, float(graph.shape_lat[k]), float(graph.shape_lon[k]))


def on_segment(
    graph: WalkGraph, seg: int, start: Position, end: Position, forward: bool, duration_s: float
) -> Stretch:
    """The stretch of ``seg`` from ``start`` to ``end``; ``forward`` is the shape's order."""
    first, last = (start, end) if forward else (end, start)
    lat = graph.shape_lat[first.k + 1 : last.k + 1]
    lon = graph.shape_lon[first.k + 1 : last.k + 1]
    coords = [(first.lon, first.lat), *zip(lon.tolist(), lat.tolist(), strict=True)]
    coords.append((last.lon, last.lat))
    if not forward:
        coords.reverse()
    return Stretch(seg, _dedup(coords), duration_s)


def off_network(a: LonLat, b: LonLat, duration_s: float) -> Stretch:
    return Stretch(-1, _dedup([a, b]), duration_s)


def make_route(graph: WalkGraph, legs: list[list[Stretch]]) -> Route:
    """Join legs (one per waypoint-to-waypoint hop) into a route with steps."""
    lengths = _stretch_lengths([s for leg in legs for s in leg])
    coords: list[LonLat] = []
    steps: list[Step] = []
    duration = 0.0
    distance = 0.0
    i = 0
    for n, leg in enumerate(legs):
        leg_lengths = lengths[i : i + len(leg)]
        i += len(leg)
        for stretch, length in zip(leg, leg_lengths, strict=True):
            if coords and stretch.coords and coords[-1] == stretch.coords[0]:
                coords.extend(stretch.coords[1:])
            else:
                coords.extend(stretch.coords)
            duration += stretch.duration_s
            distance += length
        steps.extend(_steps(graph, leg, leg_lengths))
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
    label: str
    coords: list[LonLat]
    distance_m: float
    duration_s: float

    def add(self, stretch: Stretch, length_m: float) -> None:
        if self.coords and stretch.coords and self.coords[-1] == stretch.coords[0]:
            self.coords.extend(stretch.coords[1:])
        else:
            self.coords.extend(stretch.coords)
        self.distance_m += length_m
        self.duration_s += stretch.duration_s


def _steps(graph: WalkGraph, leg: list[Stretch], lengths: list[float]) -> list[Step]:
    groups: list[_Group] = []
    # Off-network walking before the first street belongs to the first step.
    pending = _Group("", "", [], 0.0, 0.0)
    for stretch, length in zip(leg, lengths, strict=True):
        if stretch.seg < 0:
            (groups[-1] if groups else pending).add(stretch, length)
            continue
        if length <= 0.0:
            # Starting exactly on an intersection leaves an empty stretch on
            # whichever segment was snapped to; it names no street walked.
            continue
        name = graph.segment_name(stretch.seg)
        highway = graph.segment_highway(stretch.seg)
        label = name or f"the {_CLASS_LABEL.get(highway, 'road')}"
        if not groups or groups[-1].label != label:
            group = _Group(name, label, [], 0.0, 0.0)
            if not groups:
                group.coords, group.distance_m, group.duration_s = (
                    pending.coords,
                    pending.distance_m,
                    pending.duration_s,
                )
            groups.append(group)
        groups[-1].add(stretch, length)
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


def _stretch_lengths(stretches: list[Stretch]) -> list[float]:
    """Geodesic length of each stretch's polyline, in one vectorised pass."""
    flat = [c for s in stretches for c in s.coords]
    if len(flat) < 2:
        return [0.0] * len(stretches)
    arr = np.asarray(flat, dtype=np.float64)
    hop = haversine_m(arr[:-1, 1], arr[:-1, 0], arr[1:, 1], arr[1:, 0])
    cum = np.concatenate([[0.0], np.cumsum(hop)])
    out = []
    start = 0
    for s in stretches:
        end = start + len(s.coords)
        # Hops inside the stretch only; the hop joining two stretches is not walked.
        out.append(float(cum[end - 1] - cum[start]) if end - start >= 2 else 0.0)
        start = end
    return out
