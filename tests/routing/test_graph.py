"""Structure of built graphs: CSR invariants, lengths, times, connectivity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from routing import BuildOptions, WalkGraph, graph_from_osm_file
from routing._geo import haversine_m


def test_csr_arrays_are_consistent(helsinki_graph: WalkGraph) -> None:
    g = helsinki_graph
    assert g.out_ptr[0] == 0 and g.out_ptr[-1] == g.n_edges
    assert np.all(np.diff(g.out_ptr) >= 0)
    # Edges are stored by source node; in_edge lists the same edges by target.
    assert np.array_equal(np.repeat(np.arange(g.n_nodes), np.diff(g.out_ptr)), g.edge_src)
    assert np.array_equal(np.sort(g.in_edge), np.arange(g.n_edges))
    assert np.array_equal(np.repeat(np.arange(g.n_nodes), np.diff(g.in_ptr)), g.edge_dst[g.in_edge])
    seg, rev = g.edge_seg, g.edge_rev
    assert np.array_equal(np.where(rev, g.seg_v[seg], g.seg_u[seg]), g.edge_src)
    assert np.array_equal(np.where(rev, g.seg_u[seg], g.seg_v[seg]), g.edge_dst)


def test_shapes_start_and_end_on_their_nodes(helsinki_graph: WalkGraph) -> None:
    g = helsinki_graph
    first, last = g.shape_ptr[:-1], g.shape_ptr[1:] - 1
    assert np.all(last > first)
    assert np.array_equal(g.shape_lat[first], g.node_lat[g.seg_u])
    assert np.array_equal(g.shape_lon[last], g.node_lon[g.seg_v])


def test_lengths_are_geodesic_and_times_follow_speed(helsinki_graph: WalkGraph) -> None:
    g = helsinki_graph
    for s in range(0, g.n_segments, 7):
        a, b = g.shape_ptr[s], g.shape_ptr[s + 1]
        lat, lon = g.shape_lat[a:b], g.shape_lon[a:b]
        assert g.seg_length[s] == pytest.approx(
            haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum(), abs=1e-6
        )
    speed = np.where(
        np.array([g.segment_highway(int(s)) == "steps" for s in g.edge_seg]),
        g.options.speed_mps * g.options.steps_factor,
        g.options.speed_mps,
    )
    assert np.allclose(g.edge_time, g.seg_length[g.edge_seg] / speed)


def test_kept_network_is_strongly_connected(helsinki_graph: WalkGraph) -> None:
    g = helsinki_graph
    adj = csr_matrix((np.ones(g.n_edges), (g.edge_src, g.edge_dst)), shape=(g.n_nodes,) * 2)
    n, _ = connected_components(adj, directed=True, connection="strong")
    assert n == 1


def test_smaller_components_kept_on_request(helsinki_pbf: Path) -> None:
    largest = graph_from_osm_file(helsinki_pbf)
    more = graph_from_osm_file(helsinki_pbf, BuildOptions(min_component_nodes=2))
    assert more.n_nodes > largest.n_nodes
    assert largest.n_nodes > 3000  # central Helsinki: thousands of intersections


@pytest.mark.parametrize("name", ["amsterdam-oost.osm.pbf", "liechtenstein.osm.pbf"])
def test_shared_extracts_build(name: str, shared_osm: Path) -> None:
    path = shared_osm / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    g = graph_from_osm_file(path)
    assert g.n_nodes > 50 and g.n_edges >= g.n_nodes
    min_lon, min_lat, max_lon, max_lat = g.bounds
    assert min_lon < max_lon and min_lat < max_lat


def test_build_options_validate() -> None:
    with pytest.raises(ValueError):
        BuildOptions(speed_mps=0)
    with pytest.raises(ValueError):
        BuildOptions(steps_factor=1.5)
    with pytest.raises(ValueError):
        BuildOptions(min_component_nodes=0)
