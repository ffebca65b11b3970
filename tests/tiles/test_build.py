"""Building the vector tiles (issue 14, item 2): the cleaned extract, the sea from the
coastline, tilemaker's progress, the cache, the fallback without tilemaker, the CLI."""

from __future__ import annotations

import gzip
import io
import logging
import shutil
import sqlite3
import time
from pathlib import Path

import osmium
import pytest
from shapely import Polygon

from responders.cli import main
from responders.geo import default_extract
from responders.settings import MapSettings
from responders.tiles import build_tiles, clean_extract, tiles_for, tiles_path
from responders.tiles._build import _WRITING, _lines, _log_progress
from responders.tiles._sea import sea_polygons
from tests.tiles.mvt import read_tile


def _without_tilemaker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH that holds everything but tilemaker (the rest of the tools stay)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    assert shutil.which("tilemaker") is None


def test_the_cleaned_extract_keeps_trimmed_ways_and_adds_the_sea(tmp_path: Path) -> None:
    source = default_extract()
    cleaned = tmp_path / "clean.osm.pbf"
    stats = clean_extract(source, cleaned)
    nodes: set[int] = set()
    ways: dict[int, list[int]] = {}
    sea: list[dict[str, str]] = []
    for obj in osmium.FileProcessor(str(cleaned)):
        if isinstance(obj, osmium.osm.Node):
            nodes.add(obj.id)
        elif isinstance(obj, osmium.osm.Way):
            ways[obj.id] = [n.ref for n in obj.nodes]
        elif isinstance(obj, osmium.osm.Relation) and obj.tags.get("water") == "sea":
            sea.append(dict(obj.tags))
    # Integrity, which tilemaker demands: every node of every way is in the file.
    assert all(ref in nodes for refs in ways.values() for ref in refs)
    assert all(len(refs) >= 2 for refs in ways.values())
    # Trimmed, not dropped: the ways cut by the extract's edge are still there.
    whole = sum(
        1
        for obj in osmium.FileProcessor(str(source), osmium.osm.WAY | osmium.osm.NODE)
        if isinstance(obj, osmium.osm.Way) and all(n.ref in nodes for n in obj.nodes)
    )
    assert stats.ways_trimmed > 300
    assert len(ways) >= whole + stats.ways_trimmed
    # Helsinki is on the sea: the coastline gave water polygons.
    assert stats.sea_polygons >= 1
    assert sea and all(t["natural"] == "water" and t["type"] == "multipolygon" for t in sea)


def test_the_sea_is_on_the_right_of_the_coastline() -> None:
    # A coastline running west to east through the middle of the box: OSM's rule puts the
    # land on its left (north) and the water on its right (south).
    coast = [(0.1, 0.5), (0.5, 0.5), (0.9, 0.5)]
    sea = sea_polygons([coast], (0.0, 0.0, 1.0, 1.0))
    assert len(sea) == 1
    assert sea[0].equals(Polygon([(0, 0), (1, 0), (1, 0.5), (0, 0.5)]))
    # The same line drawn the other way round: the water is north.
    north = sea_polygons([coast[::-1]], (0.0, 0.0, 1.0, 1.0))
    assert north[0].bounds == (0.0, 0.5, 1.0, 1.0)
    assert sea_polygons([], (0.0, 0.0, 1.0, 1.0)) == []


def test_tilemaker_progress_is_read_from_its_status_line(caplog: pytest.LogCaptureFixture) -> None:
    out = io.BytesIO(
        b"Reading .pbf x\nZoom level 1, writing tile 1 of 40       \r"
        b"Zoom level 14, writing tile 20 of 40 \rZoom level 15, writing tile 40 of 40\n"
    )
    lines = list(_lines(out))
    assert lines[0] == "Reading .pbf x"
    assert [m[1] for line in lines if (m := _WRITING.search(line))] == ["1", "20", "40"]
    report = _log_progress()
    with caplog.at_level(logging.INFO, logger="responders.tiles._build"):
        for percent in (2, 5, 50, 51, 100):
            report(percent)
    assert [r.getMessage() for r in caplog.records] == [
        "tiles: writing tiles   0%",
        "tiles: writing tiles  50%",
        "tiles: writing tiles 100%",
    ]


def test_the_tiles_are_built_once_and_reused(
    helsinki_tiles: Path, tiles_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert helsinki_tiles == tiles_path(default_extract(), tiles_cache)
    with sqlite3.connect(helsinki_tiles) as db:
        metadata = dict(db.execute("SELECT name, value FROM metadata").fetchall())
        (data,) = db.execute("SELECT tile_data FROM tiles WHERE zoom_level = 15 LIMIT 1").fetchone()
    assert metadata["maxzoom"] == "15"
    assert "transportation_name" in read_tile(gzip.decompress(data))
    # A second start finds them: no tilemaker needed, no time spent.
    _without_tilemaker(monkeypatch, tmp_path)
    started = time.perf_counter()
    assert build_tiles(default_extract(), tiles_cache) == helsinki_tiles
    assert time.perf_counter() - started < 2


def test_without_tilemaker_there_are_no_tiles_and_the_log_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _without_tilemaker(monkeypatch, tmp_path)
    with caplog.at_level(logging.WARNING, logger="responders.tiles._build"):
        assert build_tiles(default_extract(), tmp_path / "tiles") is None
    assert "'tilemaker' is not installed" in caplog.text
    assert "streets only" in caplog.text
    assert list((tmp_path / "tiles").glob("*.mbtiles")) == []


def test_which_tiles_the_service_serves(
    helsinki_tiles: Path, tiles_cache: Path, tmp_path: Path
) -> None:
    extract = default_extract()
    assert tiles_for(MapSettings(cache_dir=tiles_cache), extract) == helsinki_tiles
    mine = tmp_path / "mine.mbtiles"
    assert tiles_for(MapSettings(tiles_file=mine), extract) == mine
    # An external tile server or style draws the map, or building is switched off.
    assert (
        tiles_for(MapSettings(cache_dir=tiles_cache, tile_url="https://t/{z}/{x}/{y}.png"), extract)
        is None
    )
    assert (
        tiles_for(MapSettings(cache_dir=tiles_cache, style_url="https://t/style.json"), extract)
        is None
    )
    assert tiles_for(MapSettings(cache_dir=tiles_cache, build_tiles=False), extract) is None


def test_the_old_tile_url_setting_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EHBO_API_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    assert MapSettings().tile_url == "https://tiles.example.org/{z}/{x}/{y}.png"


def test_cli_builds_the_tiles(
    helsinki_tiles: Path,
    tiles_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("EHBO_MAP_CACHE_DIR", str(tiles_cache))
    assert main(["tiles", "build", str(default_extract())]) == 0
    assert capsys.readouterr().out.strip() == str(helsinki_tiles)
    # Nothing to build with, nothing cached there: a clear sentence and a failing status.
    monkeypatch.setenv("EHBO_MAP_CACHE_DIR", str(tmp_path / "empty"))
    _without_tilemaker(monkeypatch, tmp_path)
    assert main(["tiles", "build"]) == 2
    assert "tilemaker is not installed" in capsys.readouterr().err


def test_serve_and_demo_start_with_the_tiles(
    helsinki_tiles: Path, tiles_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`ehbo serve` / `ehbo demo` build (or find) the tiles before the app starts, and hand
    their file to it in the settings; without tilemaker they start without."""
    from responders.runner import _with_tiles
    from responders.settings import Settings

    started = _with_tiles(Settings(map=MapSettings(cache_dir=tiles_cache)))
    assert started.map.tiles_file == helsinki_tiles
    _without_tilemaker(monkeypatch, tmp_path)
    bare = _with_tiles(Settings(map=MapSettings(cache_dir=tmp_path / "empty")))
    assert bare.map.tiles_file is None
