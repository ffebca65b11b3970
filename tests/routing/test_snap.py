"""Snapping: nearest point on the nearest segment, and a clear error off the network."""

from __future__ import annotations

import numpy as np
import pytest

from routing import GraphRouter, Point, PointNotOnNetwork, RoutingError
from routing._geo import EARTH_RADIUS_M


def _brute_force_off_m(router: GraphRouter, p: Point) -> float:
    """Distance to every shape piece of the graph, in a tangent plane at ``p``."""
    g = router.graph
    is_start = np.ones(len(g.shape_lat), dtype=bool)
    is_start[g.shape_ptr[1:] - 1] = False
    k = np.flatnonzero(is_start)
    kx = EARTH_RADIUS_M * np.pi / 180 * np.cos(np.radians(p.lat))
    ky = EARTH_RADIUS_M * np.pi / 180
    ax, ay = (g.shape_lon[k] - p.lon) * kx, (g.shape_lat[k] - p.lat) * ky
    bx, by = (g.shape_lon[k + 1] - p.lon) * kx, (g.shape_lat[k + 1] - p.lat) * ky
    dx, dy = bx - ax, by - ay
    len2 = np.maximum(dx * dx + dy * dy, 1e-18)
    t = np.clip(-(ax * dx + ay * dy) / len2, 0, 1)
    return float(np.hypot(ax + t * dx, ay + t * dy).min())


def test_snaps_onto_the_nearest_segment_not_the_nearest_node(helsinki: GraphRouter) -> None:
    rng = np.random.default_rng(7)
    min_lon, min_lat, max_lon, max_lat = helsinki.bounds
    checked = 0
    for _ in range(150):
        p = Point(float(rng.uniform(min_lat, max_lat)), float(rng.uniform(min_lon, max_lon)))
        expected = _brute_force_off_m(helsinki, p)
        if expected > helsinki.snap_limit_m:
            assert not helsinki.covers(p)
            continue
        s = helsinki.snap(p)
        assert s.distance_m == pytest.approx(expected, abs=0.01)
        assert 0.0 <= s.along_m <= helsinki.graph.seg_length[s.segment] + 1e-6
        checked += 1
    assert checked > 100


def test_foot_point_lies_on_its_segment(helsinki: GraphRouter) -> None:
    g = helsinki.graph
    seg = 100
    a, b = int(g.shape_ptr[seg]), int(g.shape_ptr[seg + 1])
    mid_lat = (g.shape_lat[a] + g.shape_lat[a + 1]) / 2
    mid_lon = (g.shape_lon[a] + g.shape_lon[a + 1]) / 2
    s = helsinki.snap(Point(float(mid_lat), float(mid_lon)))
    assert s.distance_m < 0.01
    assert b > a


def test_point_in_the_sea_is_not_on_the_network(helsinki: GraphRouter) -> None:
    sea = Point(60.10, 24.95)
    assert not helsinki.covers(sea)
    with pytest.raises(PointNotOnNetwork) as info:
        helsinki.snap(sea)
    err = info.value
    assert isinstance(err, RoutingError)
    assert err.limit_m == 300 and 6_000 < err.distance_m < 8_000
    assert "not on the walking network" in str(err)
    assert "m away" in str(err) and "snap limit is 300 m" in str(err)


def test_snap_limit_is_configurable(helsinki: GraphRouter) -> None:
    strict = GraphRouter(helsinki.graph, snap_limit_m=5.0)
    g = helsinki.graph
    near = Point(float(g.node_lat[0]) + 0.0004, float(g.node_lon[0]))  # ~45 m north
    off = helsinki.snap(near).distance_m
    assert helsinki.covers(near)
    assert strict.covers(near) is (off <= 5.0)
    if off > 5.0:
        with pytest.raises(PointNotOnNetwork, match="snap limit is 5 m"):
            strict.snap(near)


def test_covers_agrees_with_a_full_snap_at_every_distance(helsinki: GraphRouter) -> None:
    """`covers` decides most points from the nearest sample alone; it must never disagree
    with snapping, least of all near the limit."""
    rng = np.random.default_rng(21)
    west, south, east, north = helsinki.bounds
    lats = rng.uniform(south - 0.01, north + 0.01, 3000)
    lons = rng.uniform(west - 0.02, east + 0.02, 3000)
    points = [Point(float(a), float(o)) for a, o in zip(lats, lons, strict=True)]
    for limit in (5.0, 40.0, 300.0):
        router = GraphRouter(helsinki.graph, snap_limit_m=limit)
        snapped = router._snap(points).ok.tolist()
        assert [router.covers(p) for p in points] == snapped
        assert 0 < sum(snapped) < len(points)


def test_point_rejects_impossible_coordinates() -> None:
    with pytest.raises(ValueError):
        Point(91.0, 0.0)
    with pytest.raises(ValueError):
        Point(float("nan"), 0.0)
