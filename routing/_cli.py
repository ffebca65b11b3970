"""Hook for the service's command line: ``ehbo graph build FILE``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tqdm import tqdm

from ._cache import cache_path, save_graph
from ._options import BuildOptions
from ._osm import graph_from_osm_file

__all__ = ["build_command"]


def build_command(
    path: str, cache_dir: str | None = None, options: BuildOptions | None = None
) -> str:
    """Build the walking graph of an OSM file (always afresh), cache it, and summarise.

    Progress goes to stderr over the bytes of the file read; the returned line
    is meant for stdout.
    """
    options = options or BuildOptions()
    source = Path(path)
    started = time.perf_counter()
    with tqdm(
        total=source.stat().st_size if source.is_file() else None,
        unit="B",
        unit_scale=True,
        desc=f"reading {source.name}",
        file=sys.stderr,
        leave=False,
    ) as bar:

        def progress(done: int, total: int) -> None:
            bar.update(max(0, done - bar.n))

        graph = graph_from_osm_file(source, options, progress)
    target = cache_path(source, options, cache_dir)
    save_graph(graph, target)
    seconds = time.perf_counter() - started
    km = float(graph.seg_length.sum()) / 1000.0
    return (
        f"{source.name}: {graph.n_nodes:,} intersections, {graph.n_edges:,} directed edges, "
        f"{km:,.1f} km of walkable ways, built in {seconds:.2f} s -> {target} "
        f"({target.stat().st_size / 1e6:.1f} MB)"
    )
