"""Street background for the web map."""

from __future__ import annotations

import json

from routing import WalkGraph, streets_geojson


def test_streets_feature_collection(helsinki_graph: WalkGraph) -> None:
    fc = streets_geojson(helsinki_graph)
    assert fc["type"] == "FeatureCollection"
    g = helsinki_graph
    # Runs of one street become one line; every piece of every street is drawn once.
    assert 0 < len(fc["features"]) < g.n_segments
    hops = sum(len(f["geometry"]["coordinates"]) - 1 for f in fc["features"])
    assert hops == len(g.shape_lat) - g.n_segments
    feature = fc["features"][0]
    assert feature["geometry"]["type"] == "LineString"
    assert len(feature["geometry"]["coordinates"]) >= 2
    assert set(feature["properties"]) == {"name", "highway"}
    names = {f["properties"]["name"] for f in fc["features"]}
    assert "Mannerheimintie" in names
    text = json.dumps(fc, separators=(",", ":"))
    assert len(text) < 120 * g.n_segments  # compact: joined runs, 6-decimal coordinates


def test_bbox_limits_the_features(helsinki_graph: WalkGraph) -> None:
    bbox = (24.940, 60.168, 24.945, 60.171)
    fc = streets_geojson(helsinki_graph, bbox)
    assert 0 < len(fc["features"]) < helsinki_graph.n_segments / 4
    for f in fc["features"]:
        lons = [c[0] for c in f["geometry"]["coordinates"]]
        lats = [c[1] for c in f["geometry"]["coordinates"]]
        assert max(lons) >= bbox[0] and min(lons) <= bbox[2]
        assert max(lats) >= bbox[1] and min(lats) <= bbox[3]
