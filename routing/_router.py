"""The in-process :class:`Router`: snapping, one-to-many times and routes on a WalkGraph."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ._cache import load_graph
from ._geo import haversine_one
from ._graph import WalkGraph
from ._options import BuildOptions
from ._route import (
    Position,
    Stretch,
    make_route,
    node_position,
    off_network,
    on_segment,
    whole_edges,
)
from ._search import Ends, Searcher, along_segment, end_of, ends_of
from ._snap import SnapIndex, Snaps
from ._types import Point, Route
from .errors import NoRoute, PointNotOnNetwork

__all__ = [
    "DEFAULT_SNAP_LIMIT_M",
    "GraphRouter",
    "GraphWalks",
    "Reach",
    "Snapped",
    "Unreachable",
]

DEFAULT_SNAP_LIMIT_M = 300.0
# Route searches grow their bound: (factor on the straight-line time, margin in
# seconds). Most walks are within 1.5x the straight line; a river or a fenced
# railway pays for a wider search, and only a disconnected pair for a full one.
_ROUTE_BOUNDS = ((1.4, 60.0), (2.5, 300.0), (math.inf, math.inf))


class Unreachable(StrEnum):
    OFF_NETWORK = "off_network"
    BEYOND_LIMIT = "beyond_max_seconds"


@dataclass(frozen=True, slots=True)
class Reach:
    """One-to-many result: ``seconds[i]`` is None exactly when ``reasons[i]`` says why."""

    seconds: list[float | None]
    reasons: list[Unreachable | None]


@dataclass(frozen=True, slots=True)
class Snapped:
    """Where a point lands on the network."""

    point: Point
    on_network: Point
    distance_m: float
    segment: int
    along_m: float
    position: Position


@dataclass(frozen=True, slots=True)
class _Field:
    """One backward search: seconds from every node to ``target`` (``cost``; None when
    nothing is within the bound), and where the target sits on its segment."""

    target: Point
    seg: int
    along: float
    off_s: float
    cost: NDArray[np.float64] | None


@dataclass(frozen=True, slots=True)
class _Sources:
    """Points snapped once, with their ways onto the network, for any number of targets."""

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    at: Snaps
    ends: Ends


class GraphWalks:
    """Searches already run to some targets (``GraphRouter.walks_to``)."""

    def __init__(self, router: GraphRouter, fields: list[_Field], max_seconds: float) -> None:
        self._router = router
        self._fields = fields
        self._max_seconds = max_seconds

    def times_from(self, sources: Sequence[Point]) -> list[list[float | None]]:
        """Per target, in order: seconds from each source, None when unreachable within
        the bound or off the network. The sources are snapped once for all targets."""
        if not sources:
            return [[] for _ in self._fields]
        router, src = self._router, self._router._sources(sources)
        return [router._times(f, src, self._max_seconds) for f in self._fields]


class GraphRouter:
    """Routes on one in-memory walking graph. Immutable after construction, so one
    instance can serve concurrent requests."""

    def __init__(
        self,
        graph: WalkGraph,
        *,
        speed_mps: float | None = None,
        snap_limit_m: float = DEFAULT_SNAP_LIMIT_M,
    ) -> None:
        if speed_mps is not None and speed_mps != graph.options.speed_mps:
            # Every edge time is length / (speed * class factor): rescaling is exact.
            if not speed_mps > 0:
                raise ValueError(f"speed_mps must be positive, got {speed_mps!r}")
            graph = replace(
                graph,
                edge_time=graph.edge_time * (graph.options.speed_mps / speed_mps),
                options=replace(graph.options, speed_mps=speed_mps),
            )
        if not snap_limit_m > 0:
            raise ValueError(f"snap_limit_m must be positive, got {snap_limit_m!r}")
        self.graph = graph
        self.snap_limit_m = float(snap_limit_m)
        self.speed_mps = graph.options.speed_mps
        self._snapper = SnapIndex(graph)
        self._searcher = Searcher(graph)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        options: BuildOptions | None = None,
        cache_dir: str | Path | None = None,
        *,
        snap_limit_m: float = DEFAULT_SNAP_LIMIT_M,
    ) -> GraphRouter:
        """Load (or build and cache) the graph of an OSM file and route on it."""
        return cls(load_graph(path, options, cache_dir), snap_limit_m=snap_limit_m)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.graph.bounds

    def covers(self, point: Point) -> bool:
        # Every dispatch asks first: the nearest sample settles most points, no full snap.
        surely = self._snapper.surely_within(point.lat, point.lon, self.snap_limit_m)
        return bool(self._snap([point]).ok[0]) if surely is None else surely

    def landing(self, point: Point) -> tuple[Point, float]:
        s = self._snapper.snap(*_coords([point]), math.inf)
        return Point(float(s.foot_lat[0]), float(s.foot_lon[0])), float(s.off_m[0])

    def snap(self, point: Point) -> Snapped:
        """Where ``point`` joins the network; raises PointNotOnNetwork past the limit."""
        return self._snap_all([point])[0]

    def _snap_all(self, points: Sequence[Point]) -> list[Snapped]:
        s = self._snap(points)
        out = []
        for i, point in enumerate(points):
            if not s.ok[i]:
                raise self._not_on_network(point, s, i)
            foot_lat, foot_lon = float(s.foot_lat[i]), float(s.foot_lon[i])
            out.append(
                Snapped(
                    point=point,
                    on_network=Point(foot_lat, foot_lon),
                    distance_m=float(s.off_m[i]),
                    segment=int(s.seg[i]),
                    along_m=float(s.along_m[i]),
                    position=Position(int(s.piece[i]), foot_lat, foot_lon),
                )
            )
        return out

    def times_to(
        self, target: Point, sources: Sequence[Point], max_seconds: float
    ) -> list[float | None]:
        return self.reach(target, sources, max_seconds).seconds

    def walks_to(self, targets: Sequence[Point], max_seconds: float) -> GraphWalks:
        """Search now, backwards from each target and bounded by ``max_seconds``; ask for
        sources' times later (``GraphWalks.times_from``), e.g. while they are looked up.
        Raises PointNotOnNetwork for a target off the network."""
        if not targets:
            return GraphWalks(self, [], max_seconds)
        snaps = self._snap(targets)
        fields = [self._field(t, snaps, i, max_seconds) for i, t in enumerate(targets)]
        return GraphWalks(self, fields, max_seconds)

    def reach(self, target: Point, sources: Sequence[Point], max_seconds: float) -> Reach:
        """Walking seconds from each source to ``target`` in one bounded search.

        The search runs backwards from the target on the reversed graph and stops
        at ``max_seconds``, so its cost grows with the area reachable in that
        time, not with the size of the graph. Raises PointNotOnNetwork only for
        the target; sources that cannot snap are reported, not raised.
        """
        # One batch: the target and every source share a KD-tree query.
        both = self._snap([target, *sources])
        field = self._field(target, both, 0, max_seconds)
        return self._reach(field, self._sources(sources, both.rows(slice(1, None))), max_seconds)

    def _sources(self, points: Sequence[Point], at: Snaps | None = None) -> _Sources:
        lat, lon = _coords(points)
        at = self._snapper.snap(lat, lon, self.snap_limit_m) if at is None else at
        return _Sources(lat, lon, at, ends_of(self.graph, at.seg, at.along_m))

    def _field(self, target: Point, snaps: Snaps, row: int, max_seconds: float) -> _Field:
        if not snaps.ok[row]:
            raise self._not_on_network(target, snaps, row)
        g = self.graph
        seg, along = int(snaps.seg[row]), float(snaps.along_m[row])
        off_s = float(snaps.off_m[row]) / self.speed_mps
        seeds = [(node, cost) for node, cost, _ in end_of(g, seg, along).seeds_in()]
        budget = max_seconds - off_s
        cost = self._searcher.costs_to(seeds, budget) if budget >= 0 and seeds else None
        return _Field(target, seg, along, off_s, cost)

    def _reach(self, field: _Field, src: _Sources, max_seconds: float) -> Reach:
        seconds = self._times(field, src, max_seconds)
        reasons = [
            None if t is not None else Unreachable.BEYOND_LIMIT if ok else Unreachable.OFF_NETWORK
            for t, ok in zip(seconds, src.at.ok.tolist(), strict=True)
        ]
        return Reach(seconds, reasons)

    def _times(self, field: _Field, src: _Sources, max_seconds: float) -> list[float | None]:
        """Seconds per source; None when off the network or beyond ``max_seconds``."""
        total = self._seconds(field, src)
        return [
            value if ok and value <= max_seconds else None
            for ok, value in zip(src.at.ok.tolist(), total.tolist(), strict=True)
        ]

    def _seconds(self, field: _Field, src: _Sources) -> NDArray[np.float64]:
        """Seconds from each source to the field's target; ``inf`` beyond its bound."""
        total = self._walked(field, src)
        # A source at the target walks nowhere, as route() has it.
        total[(src.lat == field.target.lat) & (src.lon == field.target.lon)] = 0.0
        return total

    def _walked(self, field: _Field, src: _Sources) -> NDArray[np.float64]:
        s = src.at
        if field.cost is None:
            return np.full(len(s.ok), np.inf)
        g, e = self.graph, src.ends
        on_net = np.minimum(e.to_u + field.cost[e.u], e.to_v + field.cost[e.v])
        # On the target's own segment the walk may not pass an intersection at all.
        for i in np.flatnonzero(s.ok & (s.seg == field.seg)):
            on_net[i] = min(
                on_net[i], along_segment(g, field.seg, float(s.along_m[i]), field.along)
            )
        return np.asarray(on_net + s.off_m / self.speed_mps + field.off_s)

    def route(self, a: Point, b: Point, via: Point | None = None) -> Route:
        stops = [a, b] if via is None else [a, via, b]
        snapped = self._snap_all(stops)
        legs = [self._leg(x, y) for x, y in itertools.pairwise(snapped)]
        return make_route(self.graph, legs)

    def _leg(self, a: Snapped, b: Snapped) -> list[Stretch]:
        g = self.graph
        if a.point == b.point:
            # Same place (an AED at the victim's door): nothing to walk, not a
            # detour out to the street and back.
            return [off_network((a.point.lon, a.point.lat), (b.point.lon, b.point.lat), 0.0)]
        out_of_a = end_of(g, a.segment, a.along_m).seeds_out()
        into_b = end_of(g, b.segment, b.along_m).seeds_in()
        direct = (
            along_segment(g, a.segment, a.along_m, b.along_m)
            if a.segment == b.segment
            else math.inf
        )
        found = self._search_leg(a, b, out_of_a, into_b, direct)
        if found is None and not math.isfinite(direct):
            raise NoRoute(
                f"no walking route from ({a.point.lat:.6f}, {a.point.lon:.6f}) "
                f"to ({b.point.lat:.6f}, {b.point.lon:.6f})"
            )

        stretches = [self._approach(a, to_network=True)]
        if found is None or direct <= found[0]:
            forward = b.along_m >= a.along_m
            stretches.append(on_segment(g, a.segment, a.position, b.position, forward, direct))
        else:
            _, i, j, edges = found
            _, seconds_in, at_v = out_of_a[i]
            end = node_position(g, a.segment, at_end=at_v)
            stretches.append(on_segment(g, a.segment, a.position, end, at_v, seconds_in))
            stretches.extend(whole_edges(g, edges))
            _, seconds_out, from_v = into_b[j]
            start = node_position(g, b.segment, at_end=from_v)
            stretches.append(on_segment(g, b.segment, start, b.position, not from_v, seconds_out))
        stretches.append(self._approach(b, to_network=False))
        return stretches

    def _search_leg(
        self,
        a: Snapped,
        b: Snapped,
        out_of_a: list[tuple[int, float, bool]],
        into_b: list[tuple[int, float, bool]],
        direct: float,
    ) -> tuple[float, int, int, list[int]] | None:
        if not out_of_a or not into_b:
            return None
        seeds = [(n, c) for n, c, _ in out_of_a]
        exits = [(n, c) for n, c, _ in into_b]
        crow = haversine_one(a.on_network.lat, a.on_network.lon, b.on_network.lat, b.on_network.lon)
        found = None
        for factor, margin in _ROUTE_BOUNDS:
            limit = factor * crow / self.speed_mps + margin if math.isfinite(factor) else math.inf
            found = self._searcher.path_from(seeds, exits, limit)
            # Nothing within the limit, but walking along the segment is: that's best.
            if found is not None or limit >= direct:
                break
        return found

    def _approach(self, p: Snapped, *, to_network: bool) -> Stretch:
        here = (p.point.lon, p.point.lat)
        there = (p.on_network.lon, p.on_network.lat)
        a, b = (here, there) if to_network else (there, here)
        return off_network(a, b, p.distance_m / self.speed_mps)

    def _snap(self, points: Sequence[Point]) -> Snaps:
        return self._snapper.snap(*_coords(points), self.snap_limit_m)

    def _not_on_network(self, point: Point, s: Snaps, row: int) -> PointNotOnNetwork:
        off = float(s.off_m[row])
        if not math.isfinite(off):
            # The batch snap gave up early on this row: measure properly for the message.
            off = self._snapper.nearest_off_m(point.lat, point.lon)
        return PointNotOnNetwork(point.lat, point.lon, off, self.snap_limit_m)


def _coords(points: Sequence[Point]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lat = np.fromiter((p.lat for p in points), dtype=np.float64, count=len(points))
    lon = np.fromiter((p.lon for p in points), dtype=np.float64, count=len(points))
    return lat, lon
