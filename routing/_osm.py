"""Read walkable ways from an ``.osm.pbf`` / ``.osm`` file with pyosmium, in one streamed pass.

Node locations are kept by libosmium's C++ location index and attached to the
ways as they stream by; Python only ever sees ways that carry a ``highway``
tag. (A two-pass read with ``osmium.filter.IdFilter`` for the second pass was
measured slower: building the id filter over sparse 64-bit node ids alone took
~1 s on the Helsinki extract.)
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable
from pathlib import Path

import numpy as np
import osmium

from ._assemble import Pieces, assemble, split_at_missing
from ._graph import WalkGraph
from ._options import BuildOptions
from ._rules import Direction, walk_direction
from .errors import GraphBuildError

__all__ = ["Progress", "graph_from_osm_file", "read_pieces"]

# Called with (bytes of the file read so far, file size).
Progress = Callable[[int, int], None]

_TAGS_USED = ("highway", "foot", "access", "area", "construction", "oneway:foot")
_REPORT_EVERY = 1024
# libosmium's osmium::Location::undefined_coordinate: the node is not in the file.
_UNDEFINED = 2147483647
_COORD_SCALE = 1e7


def graph_from_osm_file(
    path: str | Path,
    options: BuildOptions | None = None,
    progress: Progress | None = None,
) -> WalkGraph:
    """Build a walking graph from an OSM file (format chosen by its suffix)."""
    return assemble(read_pieces(path, progress), options or BuildOptions())


def read_pieces(path: str | Path, progress: Progress | None = None) -> Pieces:
    """The walkable ways of an OSM file, split wherever a referenced node is missing."""
    path = Path(path)
    if not path.is_file():
        raise GraphBuildError(f"OSM file not found: {path}")
    try:
        return _read(path, progress or _no_progress)
    except (RuntimeError, ValueError, OSError) as exc:
        # libosmium reports parse errors as RuntimeError with a useful message.
        raise GraphBuildError(f"cannot read OSM file {path}: {exc}") from exc


def _no_progress(done: int, total: int) -> None:
    return None


class _ReadPosition:
    """How far libosmium has read the file, from ``/proc/self/fdinfo`` (Linux).

    pyosmium exposes no offset; the reader's file descriptor does. Elsewhere
    (or once the reader has closed the file) ``position`` returns None.
    """

    def __init__(self, path: Path) -> None:
        self._path = str(path.resolve())
        self._fd: str | None = None

    def position(self) -> int | None:
        try:
            if self._fd is None:
                self._fd = next(
                    (
                        fd
                        for fd in os.listdir("/proc/self/fd")
                        if _readlink(f"/proc/self/fd/{fd}") == self._path
                    ),
                    None,
                )
                if self._fd is None:
                    return None
            with open(f"/proc/self/fdinfo/{self._fd}") as info:
                for line in info:
                    if line.startswith("pos:"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            self._fd = None
        return None


def _readlink(link: str) -> str:
    try:
        return os.readlink(link)
    except OSError:
        return ""


def _read(path: Path, progress: Progress) -> Pieces:
    refs = array("q")
    xs = array("i")
    ys = array("i")
    ptr = array("q", [0])
    way_name = array("i")
    way_highway = array("h")
    way_dir = array("b")
    names: dict[str, int] = {}
    highways: dict[str, int] = {}

    # Nodes with a highway tag (crossings, lamps: a few percent) are let through
    # only to tick the progress bar while libosmium is still in the node section.
    objects = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    size = path.stat().st_size
    reader = _ReadPosition(path)
    seen = 0
    for way in objects:
        seen += 1
        if seen % _REPORT_EVERY == 0 and (pos := reader.position()) is not None:
            progress(min(pos, size), size)
        if not isinstance(way, osmium.osm.Way):
            continue
        tags = way.tags
        direction = walk_direction({k: tags[k] for k in _TAGS_USED if k in tags})
        if direction is Direction.NONE:
            continue
        nodes = [(n.ref, n.x, n.y) for n in way.nodes]
        if len(nodes) < 2:
            continue
        for ref, x, y in nodes:
            refs.append(ref)
            xs.append(x)
            ys.append(y)
        ptr.append(len(refs))
        name = tags.get("name", "")
        way_name.append(names.setdefault(name, len(names)) if name else -1)
        way_highway.append(highways.setdefault(tags["highway"], len(highways)))
        way_dir.append(int(direction))
    progress(size, size)
    if len(ptr) < 2:
        raise GraphBuildError(f"no walkable ways in {path}")

    ref_arr = np.frombuffer(refs, dtype=np.int64)
    x_arr = np.frombuffer(xs, dtype=np.int32)
    y_arr = np.frombuffer(ys, dtype=np.int32)
    present = (x_arr != _UNDEFINED) & (y_arr != _UNDEFINED)
    node_ids, first, inverse = np.unique(ref_arr, return_index=True, return_inverse=True)
    point_idx = np.where(present, inverse, -1).astype(np.int64)
    points, new_ptr, owner = split_at_missing(point_idx, np.frombuffer(ptr, dtype=np.int64))
    del node_ids

    return Pieces(
        lat=y_arr[first] / _COORD_SCALE,
        lon=x_arr[first] / _COORD_SCALE,
        points=points,
        ptr=new_ptr,
        name=np.frombuffer(way_name, dtype=np.int32)[owner],
        highway=np.frombuffer(way_highway, dtype=np.int16)[owner],
        direction=np.frombuffer(way_dir, dtype=np.int8)[owner],
        names=list(names),
        highways=list(highways),
    )
