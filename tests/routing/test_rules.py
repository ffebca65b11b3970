"""Walking rules, on hand-made OSM XML: which ways become walkable edges, and how fast."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from routing import BuildOptions, GraphBuildError, GraphRouter, Point, graph_from_osm_file
from routing._rules import Direction, walk_direction

WriteOsm = Callable[..., Path]  # the write_osm fixture

LAT = 60.0
MAIN = [(i, LAT, 24.0 + 0.001 * (i - 1)) for i in range(1, 12)]  # ~55 m apart
MAIN_WAY = (1, [n for n, _, _ in MAIN], {"highway": "residential", "name": "Main"})


def branch(
    i: int, tags: dict[str, str]
) -> tuple[list[tuple[int, float, float]], tuple[int, list[int], dict[str, str]]]:
    """A dead-end way north from main-street node ``i``, named after its case."""
    tip = (100 + i, LAT + 0.001, 24.0 + 0.001 * (i - 1))
    return [tip], (100 + i, [i, tip[0]], {**tags, "name": f"case-{i}"})


CASES: list[tuple[dict[str, str], bool]] = [
    ({"highway": "footway"}, True),
    ({"highway": "footway", "foot": "no"}, False),
    ({"highway": "motorway"}, False),
    ({"highway": "motorway_link", "foot": "yes"}, False),
    ({"highway": "trunk"}, False),
    ({"highway": "trunk", "foot": "yes"}, True),
    ({"highway": "service", "access": "private"}, False),
    ({"highway": "service", "access": "private", "foot": "yes"}, True),
    ({"highway": "track", "access": "no", "foot": "designated"}, True),
    ({"highway": "pedestrian", "area": "yes"}, False),
    ({"highway": "construction"}, False),
    ({"highway": "proposed"}, False),
    ({"highway": "footway", "construction": "yes"}, False),
    ({"highway": "cycleway"}, True),
    ({"highway": "cycleway", "foot": "no"}, False),
    ({"highway": "steps"}, True),
    ({"highway": "residential", "oneway": "yes"}, True),
    ({"highway": "corridor"}, True),
    ({"building": "yes"}, False),
]


@pytest.mark.parametrize(("tags", "walkable"), CASES)
def test_walk_direction_unit(tags: dict[str, str], walkable: bool) -> None:
    assert (walk_direction(tags) is not Direction.NONE) is walkable


def test_ways_in_graph_follow_the_rules(write_osm: WriteOsm) -> None:
    nodes = list(MAIN)
    ways = [MAIN_WAY]
    for i, (tags, _) in enumerate(CASES[:10], start=2):
        tip, way = branch(i, tags)
        nodes += tip
        ways.append(way)
    graph = graph_from_osm_file(write_osm(nodes, ways))
    present = {graph.segment_name(s) for s in range(graph.n_segments)}
    for i, (tags, walkable) in enumerate(CASES[:10], start=2):
        assert (f"case-{i}" in present) is walkable, tags
    assert "Main" in present


def test_more_rules_in_graph(write_osm: WriteOsm) -> None:
    nodes = list(MAIN)
    ways = [MAIN_WAY]
    for i, (tags, _) in enumerate(CASES[10:], start=2):
        tip, way = branch(i, tags)
        nodes += tip
        ways.append(way)
    graph = graph_from_osm_file(write_osm(nodes, ways))
    present = {graph.segment_name(s) for s in range(graph.n_segments)}
    for i, (tags, walkable) in enumerate(CASES[10:], start=2):
        assert (f"case-{i}" in present) is walkable, tags


def _one_way_segment(write_osm: WriteOsm, tags: dict[str, str]) -> tuple[bool, bool]:
    """Directions of a detour way 2 -> 200 -> 4 off the main street."""
    nodes = [*MAIN, (200, LAT + 0.001, 24.002)]
    ways = [MAIN_WAY, (2, [2, 200, 4], {**tags, "name": "detour"})]
    graph = graph_from_osm_file(write_osm(nodes, ways))
    seg = next(s for s in range(graph.n_segments) if graph.segment_name(s) == "detour")
    return bool(graph.seg_fwd[seg] >= 0), bool(graph.seg_bwd[seg] >= 0)


def test_oneway_is_ignored_for_pedestrians(write_osm: WriteOsm) -> None:
    assert _one_way_segment(write_osm, {"highway": "residential", "oneway": "yes"}) == (True, True)


def test_oneway_foot_is_honoured(write_osm: WriteOsm) -> None:
    assert _one_way_segment(write_osm, {"highway": "footway", "oneway:foot": "yes"}) == (
        True,
        False,
    )
    assert _one_way_segment(write_osm, {"highway": "footway", "oneway:foot": "-1"}) == (False, True)


def test_steps_are_slower(write_osm: WriteOsm) -> None:
    nodes = [*MAIN, (300, LAT + 0.001, 24.0)]
    ways = [MAIN_WAY, (3, [1, 300], {"highway": "steps"}), (4, [300, 11], {"highway": "footway"})]
    options = BuildOptions(speed_mps=2.0, steps_factor=0.5)
    graph = graph_from_osm_file(write_osm(nodes, ways), options)
    for s in range(graph.n_segments):
        edge = int(graph.seg_fwd[s])
        speed = 1.0 if graph.segment_highway(s) == "steps" else 2.0
        assert graph.edge_time[edge] == pytest.approx(graph.seg_length[s] / speed)
    router = GraphRouter(graph)
    route = router.route(Point(LAT, 24.0), Point(LAT + 0.001, 24.0))
    assert route.duration_s == pytest.approx(route.distance_m / 1.0, rel=1e-6)
    assert route.steps[0].instruction.endswith("the steps")


def test_clipped_way_is_split_at_missing_nodes(write_osm: WriteOsm) -> None:
    # Node 999 is referenced but not in the file, like an extract's edge.
    nodes = [*MAIN, (401, LAT - 0.001, 24.0), (402, LAT - 0.002, 24.0), (403, LAT - 0.003, 24.0)]
    ways = [
        MAIN_WAY,
        (5, [1, 401, 999, 402, 403], {"highway": "footway", "name": "clipped"}),
        (6, [998, 5], {"highway": "footway", "name": "one-node-left"}),
        (7, [997, 403, 996], {"highway": "footway", "name": "alone"}),
    ]
    graph = graph_from_osm_file(write_osm(nodes, ways), BuildOptions(min_component_nodes=1))
    pieces = {
        (
            round(float(graph.node_lat[graph.seg_u[s]]), 4),
            round(float(graph.node_lat[graph.seg_v[s]]), 4),
        )
        for s in range(graph.n_segments)
        if graph.segment_name(s) == "clipped"
    }
    assert pieces == {(LAT, LAT - 0.001), (LAT - 0.002, LAT - 0.003)}
    names = {graph.segment_name(s) for s in range(graph.n_segments)}
    assert "one-node-left" not in names and "alone" not in names
    # The piece beyond the gap is its own component, dropped by default.
    default = graph_from_osm_file(write_osm(nodes, ways))
    assert default.n_nodes == graph.n_nodes - 2


def test_no_walkable_ways_is_a_build_error(write_osm: WriteOsm) -> None:
    path = write_osm(MAIN[:2], [(1, [1, 2], {"highway": "motorway"})])
    with pytest.raises(GraphBuildError, match="no walkable ways"):
        graph_from_osm_file(path)


def test_unreadable_file_is_a_build_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"this is not a pbf file" * 10)
    with pytest.raises(GraphBuildError, match="cannot read"):
        graph_from_osm_file(bad)
    with pytest.raises(GraphBuildError, match="not found"):
        graph_from_osm_file(tmp_path / "missing.osm.pbf")
