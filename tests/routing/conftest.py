"""Fixtures for the routing tests: real extracts built once per session, and
hand-made OSM XML for the walking rules.

Test modules take everything from here as fixtures and never import this
module: another conftest.py higher up would shadow the name ``conftest``.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pyrosm
import pytest

from routing import BuildOptions, GraphRouter, Point, WalkGraph, load_graph

SHARED_OSM = Path(__file__).resolve().parents[3] / "shared" / "osm"

Node = tuple[int, float, float]
Way = tuple[int, list[int], dict[str, str]]
WriteOsm = Callable[[Iterable[Node], Iterable[Way]], Path]


@pytest.fixture(scope="session")
def shared_osm() -> Path:
    """The extracts in shared/osm beside the project (read in place, never copied)."""
    return SHARED_OSM


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    return Path(pyrosm.get_data("helsinki_pbf"))


@pytest.fixture(scope="session")
def graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graphs")


@pytest.fixture(scope="session")
def helsinki_graph(helsinki_pbf: Path, graph_cache: Path) -> WalkGraph:
    return load_graph(helsinki_pbf, BuildOptions(), graph_cache)


@pytest.fixture(scope="session")
def helsinki(helsinki_graph: WalkGraph) -> GraphRouter:
    return GraphRouter(helsinki_graph)


def osm_xml(nodes: Iterable[Node], ways: Iterable[Way]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for node_id, lat, lon in nodes:
        lines.append(f'  <node id="{node_id}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for way_id, refs, tags in ways:
        lines.append(f'  <way id="{way_id}" version="1">')
        lines.extend(f'    <nd ref="{r}"/>' for r in refs)
        lines.extend(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_osm(tmp_path: Path) -> WriteOsm:
    """Write nodes and ways as an ``.osm`` XML file and return its path."""
    counter = itertools.count()

    def write(nodes: Iterable[Node], ways: Iterable[Way]) -> Path:
        path = tmp_path / f"snippet-{next(counter)}.osm"
        path.write_text(osm_xml(nodes, ways), encoding="utf-8")
        return path

    return write


Reference = Callable[[GraphRouter, Point, Point], float]


def _reference_seconds(router: GraphRouter, source: Point, target: Point) -> float:
    """Walking seconds by a textbook Dijkstra, built from the segments (not the CSR arrays),
    with the snapped source and target spliced in as extra nodes."""
    g = router.graph
    speed = g.options.speed_mps
    adj: dict[object, list[tuple[object, float]]] = {}

    def add(a: object, b: object, seconds: float) -> None:
        adj.setdefault(a, []).append((b, seconds))

    def seconds_on(seg: int, metres: float) -> float:
        slow = g.options.steps_factor if g.segment_highway(seg) == "steps" else 1.0
        return metres / (speed * slow)

    for seg in range(g.n_segments):
        u, v, length = int(g.seg_u[seg]), int(g.seg_v[seg]), float(g.seg_length[seg])
        if g.seg_fwd[seg] >= 0:
            add(u, v, seconds_on(seg, length))
        if g.seg_bwd[seg] >= 0:
            add(v, u, seconds_on(seg, length))

    s, t = router.snap(source), router.snap(target)
    for here, snapped, leaving in (("S", s, True), ("T", t, False)):
        seg, at = snapped.segment, snapped.along_m
        u, v, length = int(g.seg_u[seg]), int(g.seg_v[seg]), float(g.seg_length[seg])
        fwd, bwd = g.seg_fwd[seg] >= 0, g.seg_bwd[seg] >= 0
        if leaving:
            if fwd:
                add(here, v, seconds_on(seg, length - at))
            if bwd:
                add(here, u, seconds_on(seg, at))
        else:
            if fwd:
                add(u, here, seconds_on(seg, at))
            if bwd:
                add(v, here, seconds_on(seg, length - at))
    if s.segment == t.segment:
        seg = s.segment
        if t.along_m >= s.along_m and g.seg_fwd[seg] >= 0:
            add("S", "T", seconds_on(seg, t.along_m - s.along_m))
        if t.along_m <= s.along_m and g.seg_bwd[seg] >= 0:
            add("S", "T", seconds_on(seg, s.along_m - t.along_m))

    best: dict[object, float] = {"S": 0.0}
    heap: list[tuple[float, int, object]] = [(0.0, 0, "S")]
    tie = itertools.count(1)
    done: set[object] = set()
    while heap:
        d, _, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        if node == "T":
            return d + (s.distance_m + t.distance_m) / speed
        for nxt, w in adj.get(node, []):
            nd = d + w
            if nd < best.get(nxt, math.inf):
                best[nxt] = nd
                heapq.heappush(heap, (nd, next(tie), nxt))
    return math.inf


@pytest.fixture(scope="session")
def reference_seconds() -> Reference:
    return _reference_seconds
