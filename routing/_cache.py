"""On-disk cache of built graphs: one uncompressed ``.npz`` per (file content, options).

The key hashes the file's *content* (sha256), so a renamed or copied extract
still hits and an edited one never does. Hashing a national extract takes
seconds, so digests are memoised per (path, size, mtime, inode) in a small
JSON file next to the graphs; a cache hit then costs a ``stat`` and the load.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ._graph import WalkGraph
from ._options import BuildOptions
from .errors import CacheError, GraphBuildError

__all__ = ["cache_path", "default_cache_dir", "file_digest", "load_graph", "save_graph"]

# Bump when the array layout or the build rules change: old files then miss.
FORMAT_VERSION = 1
_DIGESTS = "digests.json"
_OPTIONS_KEY = "options_json"

Builder = Callable[[Path, BuildOptions], WalkGraph]


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "ehbo" / "graphs"


def file_digest(path: str | Path, cache_dir: str | Path | None = None) -> str:
    """sha256 of the file's bytes, memoised by its stat signature."""
    path = Path(path).resolve()
    st = path.stat()
    signature = f"{path}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}"
    memo_file = Path(cache_dir or default_cache_dir()) / _DIGESTS
    memo = _read_memo(memo_file)
    if (digest := memo.get(signature)) is not None:
        return digest
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    digest = h.hexdigest()
    memo[signature] = digest
    _write_atomic_text(memo_file, json.dumps(memo, indent=0, sort_keys=True))
    return digest


def cache_path(
    path: str | Path, options: BuildOptions, cache_dir: str | Path | None = None
) -> Path:
    """Where the graph of ``path`` built with ``options`` is (or would be) cached."""
    cache_dir = Path(cache_dir or default_cache_dir())
    key = hashlib.sha256(
        f"{FORMAT_VERSION}\n{file_digest(path, cache_dir)}\n{options.to_json()}".encode()
    ).hexdigest()[:20]
    stem = Path(path).name.split(".")[0] or "graph"
    return cache_dir / f"{stem}-{key}.npz"


def save_graph(graph: WalkGraph, target: Path) -> None:
    """Write atomically, so a concurrent reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = dict(graph.to_arrays())
    arrays[_OPTIONS_KEY] = np.frombuffer(graph.options.to_json().encode(), dtype=np.uint8)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_graph(source: Path) -> WalkGraph:
    try:
        with np.load(source, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise CacheError(f"cached graph {source} is unreadable: {exc}") from exc
    try:
        options = BuildOptions.from_json(arrays.pop(_OPTIONS_KEY).tobytes().decode())
        return WalkGraph.from_arrays(arrays, options)
    except (KeyError, TypeError, ValueError) as exc:
        raise CacheError(f"cached graph {source} has an unexpected layout: {exc}") from exc


def load_graph(
    path: str | Path,
    options: BuildOptions | None = None,
    cache_dir: str | Path | None = None,
    *,
    builder: Builder | None = None,
) -> WalkGraph:
    """The walking graph of an OSM file: from the cache when present, else built and saved.

    A corrupt cache file is rebuilt rather than trusted.
    """
    options = options or BuildOptions()
    path = Path(path)
    if not path.is_file():
        raise GraphBuildError(f"OSM file not found: {path}")
    target = cache_path(path, options, cache_dir)
    if target.is_file():
        try:
            return read_graph(target)
        except CacheError:
            pass
    if builder is None:
        from ._osm import graph_from_osm_file

        def builder(p: Path, o: BuildOptions) -> WalkGraph:
            return graph_from_osm_file(p, o)

    graph = builder(path, options)
    save_graph(graph, target)
    return graph


def _read_memo(memo_file: Path) -> dict[str, str]:
    try:
        data = json.loads(memo_file.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_atomic_text(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
