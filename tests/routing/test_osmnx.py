"""OSMnx conversion, tested offline on a graph that OSMnx itself builds from XML."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from routing import GraphRouter, Point, graph_from_osm_file, graph_from_osmnx

WriteOsm = Callable[..., Path]  # the write_osm fixture


osmnx = pytest.importorskip("osmnx")

LAT0, LON0, STEP = 60.17, 24.94, 0.001


def grid_osm(write_osm: WriteOsm) -> Path:
    """A 4 x 4 street grid, a curved footpath with shape points, a one-way street
    (walkable both ways) and a motorway (not walkable)."""
    nodes = [
        (10 * r + c + 1, LAT0 + r * STEP, LON0 + c * 2 * STEP) for r in range(4) for c in range(4)
    ]
    ways = []
    for r in range(4):
        ways.append(
            (
                100 + r,
                [10 * r + c + 1 for c in range(4)],
                {"highway": "residential", "name": f"Row {r}"},
            )
        )
    for c in range(4):
        tags = {"highway": "residential", "name": f"Col {c}"}
        if c == 2:
            tags["oneway"] = "yes"
        ways.append((200 + c, [10 * r + c + 1 for r in range(4)], tags))
    # Curved path from corner (0,0) to (1,1) through three shape points.
    nodes += [
        (501, LAT0 + 0.2 * STEP, LON0 + 0.6 * STEP),
        (502, LAT0 + 0.5 * STEP, LON0 + 1.0 * STEP),
        (503, LAT0 + 0.8 * STEP, LON0 + 1.4 * STEP),
    ]
    ways.append((300, [1, 501, 502, 503, 12], {"highway": "footway"}))
    nodes += [(601, LAT0 - STEP, LON0), (602, LAT0 - STEP, LON0 + 6 * STEP)]
    ways.append((400, [601, 1, 4, 602], {"highway": "motorway"}))
    return write_osm(nodes, ways)


def test_osmnx_graph_converts_to_the_same_walking_graph(write_osm: WriteOsm) -> None:
    path = grid_osm(write_osm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nx_graph = osmnx.graph_from_xml(path, simplify=True, retain_all=True)
    ours = graph_from_osm_file(path)
    converted = graph_from_osmnx(nx_graph)
    # OSMnx merges ways through two-way corners, so counts differ; streets do not.
    assert converted.n_nodes <= ours.n_nodes
    assert float(converted.seg_length.sum()) == pytest.approx(
        float(ours.seg_length.sum()), abs=1e-6
    )
    assert "motorway" not in set(converted.highways)
    # Every street is walkable both ways, the one-way for cars included.
    assert np.all(converted.seg_fwd >= 0) and np.all(converted.seg_bwd >= 0)

    a, b = GraphRouter(ours), GraphRouter(converted)
    rng = np.random.default_rng(1)
    points = [
        Point(LAT0 + float(rng.uniform(0, 3 * STEP)), LON0 + float(rng.uniform(0, 6 * STEP)))
        for _ in range(12)
    ]
    target = Point(LAT0 + 0.5 * STEP, LON0 + 1.0 * STEP)  # on the curved path
    assert a.times_to(target, points, 3600) == pytest.approx(
        b.times_to(target, points, 3600), abs=1e-6
    )
    route = b.route(Point(LAT0, LON0), Point(LAT0 + STEP, LON0 + 2 * STEP))
    assert route.distance_m == pytest.approx(
        a.route(Point(LAT0, LON0), Point(LAT0 + STEP, LON0 + 2 * STEP)).distance_m
    )
    assert len(route.coordinates) == 5  # the footpath's shape survives conversion


def test_unsimplified_osmnx_graph_converts_too(write_osm: WriteOsm) -> None:
    path = grid_osm(write_osm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nx_graph = osmnx.graph_from_xml(path, simplify=False, retain_all=True)
    converted = graph_from_osmnx(nx_graph)
    ours = graph_from_osm_file(path)
    assert float(converted.seg_length.sum()) == pytest.approx(
        float(ours.seg_length.sum()), abs=1e-6
    )
