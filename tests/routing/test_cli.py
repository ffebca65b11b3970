"""The ``ehbo graph build FILE`` hook."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import pytest

from routing import BuildOptions, build_command, cache_path, load_graph


def test_build_command_reports_and_caches(
    helsinki_pbf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = build_command(str(helsinki_pbf), str(tmp_path))
    target = cache_path(helsinki_pbf, BuildOptions(), tmp_path)
    assert target.is_file()
    assert "\n" not in line
    assert "intersections" in line and "edges" in line and str(target) in line
    assert "built in" in line
    assert "reading Helsinki.osm.pbf" in capsys.readouterr().err
    # The file it wrote is what load_graph then finds.
    assert load_graph(helsinki_pbf, cache_dir=tmp_path, builder=_fail).n_nodes > 0


def _fail(path: Path, options: BuildOptions) -> NoReturn:
    raise AssertionError("should have been a cache hit")


def test_build_command_on_a_shared_extract(tmp_path: Path, shared_osm: Path) -> None:
    path = shared_osm / "amsterdam-oost.osm.pbf"
    if not path.is_file():
        pytest.skip("shared extract not present")
    assert "amsterdam-oost.osm.pbf" in build_command(str(path), str(tmp_path))
