"""Graph cache: keyed by file content and build options, far faster than building."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from routing import (
    BuildOptions,
    GraphBuildError,
    GraphRouter,
    Point,
    WalkGraph,
    cache_path,
    graph_from_osm_file,
    load_graph,
)


class CountingBuilder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, path: Path, options: BuildOptions) -> WalkGraph:
        self.calls += 1
        return graph_from_osm_file(path, options)


def test_second_load_hits_the_cache(helsinki_pbf: Path, tmp_path: Path) -> None:
    builder = CountingBuilder()
    started = time.perf_counter()
    built = load_graph(helsinki_pbf, cache_dir=tmp_path, builder=builder)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    cached = load_graph(helsinki_pbf, cache_dir=tmp_path, builder=builder)
    load_s = time.perf_counter() - started
    assert builder.calls == 1
    assert cached.equals(built) and cached is not built
    assert cache_path(helsinki_pbf, BuildOptions(), tmp_path).is_file()
    assert load_s < build_s
    # Routing on the cached graph gives the same answers.
    p = Point(float(built.node_lat[5]), float(built.node_lon[5]))
    q = Point(float(built.node_lat[500]), float(built.node_lon[500]))
    assert GraphRouter(built).times_to(q, [p], 900) == GraphRouter(cached).times_to(q, [p], 900)


def test_options_change_the_key(helsinki_pbf: Path, tmp_path: Path) -> None:
    base = cache_path(helsinki_pbf, BuildOptions(), tmp_path)
    assert cache_path(helsinki_pbf, BuildOptions(), tmp_path) == base
    assert cache_path(helsinki_pbf, BuildOptions(speed_mps=1.4), tmp_path) != base
    assert cache_path(helsinki_pbf, BuildOptions(steps_factor=0.4), tmp_path) != base
    assert cache_path(helsinki_pbf, BuildOptions(min_component_nodes=10), tmp_path) != base
    builder = CountingBuilder()
    slow = load_graph(helsinki_pbf, BuildOptions(speed_mps=1.4), tmp_path, builder=builder)
    fast = load_graph(helsinki_pbf, BuildOptions(speed_mps=2.8), tmp_path, builder=builder)
    assert builder.calls == 2
    assert slow.options.speed_mps == 1.4 and fast.options.speed_mps == 2.8


def test_key_follows_content_not_name(helsinki_pbf: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy" / "Helsinki.osm.pbf"
    copy.parent.mkdir()
    shutil.copyfile(helsinki_pbf, copy)
    assert cache_path(copy, BuildOptions(), tmp_path) == cache_path(
        helsinki_pbf, BuildOptions(), tmp_path
    )
    copy.write_bytes(copy.read_bytes() + b"\0")  # edited: size and mtime change
    assert cache_path(copy, BuildOptions(), tmp_path) != cache_path(
        helsinki_pbf, BuildOptions(), tmp_path
    )


def test_corrupt_cache_file_is_rebuilt(helsinki_pbf: Path, tmp_path: Path) -> None:
    target = cache_path(helsinki_pbf, BuildOptions(), tmp_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"not a zip file")
    builder = CountingBuilder()
    graph = load_graph(helsinki_pbf, cache_dir=tmp_path, builder=builder)
    assert builder.calls == 1 and graph.n_nodes > 0
    assert load_graph(helsinki_pbf, cache_dir=tmp_path, builder=builder).equals(graph)
    assert builder.calls == 1


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GraphBuildError):
        load_graph(tmp_path / "nope.osm.pbf", cache_dir=tmp_path)
