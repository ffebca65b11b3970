"""Routes: geometry that follows the streets, lengths that add up, via points, steps."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from routing import BuildOptions, GraphRouter, NoRoute, Point, Route, graph_from_osm_file

WriteOsm = Callable[..., Path]  # the write_osm fixture
Reference = Callable[[GraphRouter, Point, Point], float]  # reference_seconds

R = 6_371_008.8


def geometry_length(coords: list[list[float]]) -> float:
    total = 0.0
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(coords):
        p1, p2 = math.radians(lat1), math.radians(lat2)
        a = (
            math.sin((p2 - p1) / 2) ** 2
            + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
        )
        total += 2 * R * math.asin(math.sqrt(a))
    return total


def random_points(router: GraphRouter, seed: int, n: int) -> list[Point]:
    rng = np.random.default_rng(seed)
    g = router.graph
    out: list[Point] = []
    while len(out) < n:
        i = int(rng.integers(0, len(g.shape_lat)))
        p = Point(
            float(g.shape_lat[i] + rng.normal(0, 2e-4)), float(g.shape_lon[i] + rng.normal(0, 4e-4))
        )
        if router.covers(p):
            out.append(p)
    return out


A, B = Point(60.1699, 24.9384), Point(60.1655, 24.9466)


def test_route_length_is_the_length_of_its_geometry(helsinki: GraphRouter) -> None:
    pts = random_points(helsinki, 11, 40)
    for a, b in zip(pts[::2], pts[1::2], strict=True):
        route = helsinki.route(a, b)
        assert route.distance_m == pytest.approx(geometry_length(route.coordinates), abs=0.01)
        assert route.coordinates[0] == [a.lon, a.lat]
        assert route.coordinates[-1] == [b.lon, b.lat]
        assert sum(s.distance_m for s in route.steps) == pytest.approx(route.distance_m, abs=0.01)
        assert sum(s.duration_s for s in route.steps) == pytest.approx(route.duration_s, abs=0.01)


def test_route_duration_is_the_shortest_time(
    helsinki: GraphRouter, reference_seconds: Reference
) -> None:

    pts = random_points(helsinki, 12, 30)
    for a, b in zip(pts[::2], pts[1::2], strict=True):
        assert helsinki.route(a, b).duration_s == pytest.approx(
            reference_seconds(helsinki, a, b), abs=1e-6
        )


def test_route_follows_the_streets(helsinki: GraphRouter) -> None:
    route = helsinki.route(A, B)
    crow = geometry_length([[A.lon, A.lat], [B.lon, B.lat]])
    assert route.distance_m > crow
    assert len(route.coordinates) > 10
    # Every interior vertex is a shape point of the graph or a snapped foot point.
    g = helsinki.graph
    known = set(zip(g.shape_lon.tolist(), g.shape_lat.tolist(), strict=True))
    feet = {helsinki.snap(A).on_network, helsinki.snap(B).on_network}
    for lon, lat in route.coordinates[1:-1]:
        assert (lon, lat) in known or Point(lat, lon) in feet


def test_via_route_passes_through_the_via_point(helsinki: GraphRouter) -> None:
    via = Point(60.1680, 24.9500)
    route = helsinki.route(A, B, via=via)
    assert [via.lon, via.lat] in route.coordinates
    first, second = helsinki.route(A, via), helsinki.route(via, B)
    assert route.distance_m == pytest.approx(first.distance_m + second.distance_m, abs=0.01)
    assert route.duration_s == pytest.approx(first.duration_s + second.duration_s, abs=1e-6)
    assert route.distance_m == pytest.approx(geometry_length(route.coordinates), abs=0.01)
    assert route.distance_m >= helsinki.route(A, B).distance_m
    instructions = [s.instruction for s in route.steps]
    assert instructions.count("Arrive at waypoint") == 1 and instructions[-1] == "Arrive"


def test_via_at_the_destination_adds_nothing(helsinki: GraphRouter) -> None:
    direct = helsinki.route(A, B)
    via_b = helsinki.route(A, B, via=B)
    assert via_b.distance_m == pytest.approx(direct.distance_m, abs=1e-6)
    assert via_b.coordinates == direct.coordinates
    assert helsinki.route(A, A).to_geojson()["geometry"]["coordinates"] == [[A.lon, A.lat]] * 2


def test_steps_read_like_directions(helsinki: GraphRouter) -> None:
    route = helsinki.route(A, B)
    assert route.steps[0].instruction.startswith("Head ")
    assert route.steps[-1].instruction == "Arrive"
    assert any(s.instruction.startswith(("Turn", "Bear", "Continue")) for s in route.steps[1:-1])
    assert any(s.name for s in route.steps)


def test_geojson_feature(helsinki: GraphRouter) -> None:
    feature = helsinki.route(A, B).to_geojson()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "LineString"
    assert feature["geometry"]["coordinates"][0] == [A.lon, A.lat]
    props = feature["properties"]
    assert props["distance_m"] > 0 and props["duration_s"] > 0
    assert {"name", "instruction", "distance_m", "duration_s"} <= props["steps"][0].keys()
    json.dumps(feature)  # plain JSON types only


def test_zero_length_route_is_still_a_linestring() -> None:
    feature = Route(0.0, 0.0, [[24.9, 60.1]]).to_geojson()
    assert len(feature["geometry"]["coordinates"]) == 2


def test_points_on_one_segment_walk_along_it(helsinki: GraphRouter) -> None:
    g = helsinki.graph
    hop = np.hypot(np.diff(g.shape_lat), np.diff(g.shape_lon))
    hop[g.shape_ptr[1:-1] - 1] = 0  # joins two segments, not a piece
    k = int(np.argmax(hop))
    lat = np.linspace(g.shape_lat[k], g.shape_lat[k + 1], 5)
    lon = np.linspace(g.shape_lon[k], g.shape_lon[k + 1], 5)
    a, b = Point(float(lat[1]), float(lon[1])), Point(float(lat[3]), float(lon[3]))
    route = helsinki.route(a, b)
    expected = geometry_length([[a.lon, a.lat], [b.lon, b.lat]])
    assert route.distance_m == pytest.approx(expected, abs=0.01)
    assert route.coordinates == [[a.lon, a.lat], [b.lon, b.lat]]


def test_disconnected_points_have_no_route(write_osm: WriteOsm) -> None:
    nodes = [(1, 60.0, 24.0), (2, 60.0, 24.001), (3, 60.01, 24.0), (4, 60.01, 24.001)]
    ways = [(1, [1, 2], {"highway": "footway"}), (2, [3, 4], {"highway": "footway"})]
    graph = graph_from_osm_file(write_osm(nodes, ways), BuildOptions(min_component_nodes=1))
    router = GraphRouter(graph)
    a, b = Point(60.0, 24.0005), Point(60.01, 24.0005)
    with pytest.raises(NoRoute):
        router.route(a, b)
    assert router.times_to(b, [a], 1e6) == [None]


def test_one_way_footpaths_are_respected(write_osm: WriteOsm) -> None:
    lat = 60.0
    main = [(i, lat, 24.0 + 0.001 * (i - 1)) for i in range(1, 8)]
    nodes = [*main, (100, lat + 0.002, 24.001), (101, lat + 0.002, 24.005)]
    ways = [
        (1, [n for n, _, _ in main], {"highway": "residential"}),
        (2, [2, 100, 101, 6], {"highway": "footway", "oneway:foot": "yes"}),
    ]
    router = GraphRouter(graph_from_osm_file(write_osm(nodes, ways)))
    up, down = Point(lat + 0.002, 24.002), Point(lat + 0.002, 24.004)
    with_flow = router.route(up, down)
    against = router.route(down, up)
    assert with_flow.distance_m < against.distance_m
    assert against.distance_m > 2 * 222  # back along the main street and up again
