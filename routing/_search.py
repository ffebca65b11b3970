"""Shortest-path searches over the CSR graph with scipy's compiled Dijkstra.

Searches start and end mid-segment: a snapped point is a pair of *seeds*
(the segment's end nodes, each with the partial cost of walking there), and a
destination is a pair of *exits* (end nodes plus the partial cost from there).

Matrices are built once per router: scipy then only wraps the existing arrays
on each call (~50 us overhead). Parallel edges between two intersections are
reduced to the fastest, which is the only one a shortest path can use.

scipy's search is bounded by ``limit`` but allocates its distance arrays for
the whole graph on every call: ~0.1 ms at 10k intersections, ~4 ms at 1M.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from ._graph import WalkGraph

__all__ = ["End", "Ends", "Searcher", "along_segment", "end_of", "ends_of"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Ends:
    """The two ways on and off a snapped point, vectorised over points.

    ``to_u``: seconds from the point to its segment's first node (walking the
    segment backwards), ``to_v``: to its last node; ``from_u`` / ``from_v``:
    seconds from those nodes to the point. ``inf`` where a one-way forbids it.
    """

    u: I64
    v: I64
    to_u: F64
    to_v: F64
    from_u: F64
    from_v: F64


def ends_of(graph: WalkGraph, seg: I64, along_m: F64) -> Ends:
    length = graph.seg_length[seg]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(length > 0, along_m / length, 0.0)
    frac = np.clip(frac, 0.0, 1.0)
    fwd, bwd = graph.seg_fwd[seg], graph.seg_bwd[seg]
    t_fwd = np.where(fwd >= 0, graph.edge_time[fwd], np.inf)
    t_bwd = np.where(bwd >= 0, graph.edge_time[bwd], np.inf)
    return Ends(
        u=graph.seg_u[seg].astype(np.int64),
        v=graph.seg_v[seg].astype(np.int64),
        to_u=frac * t_bwd,
        to_v=(1.0 - frac) * t_fwd,
        from_u=frac * t_fwd,
        from_v=(1.0 - frac) * t_bwd,
    )


@dataclass(frozen=True, slots=True)
class End:
    """``Ends`` for one point, as plain floats (no numpy overhead for a single row)."""

    u: int
    v: int
    to_u: float
    to_v: float
    from_u: float
    from_v: float

    def seeds_out(self) -> list[tuple[int, float, bool]]:
        """Ways off the point: (node, seconds to it, is the segment's last node)."""
        pairs = ((self.v, self.to_v, True), (self.u, self.to_u, False))
        return [p for p in pairs if math.isfinite(p[1])]

    def seeds_in(self) -> list[tuple[int, float, bool]]:
        """Ways onto the point: (node, seconds from it, is the segment's last node)."""
        pairs = ((self.u, self.from_u, False), (self.v, self.from_v, True))
        return [p for p in pairs if math.isfinite(p[1])]


def end_of(graph: WalkGraph, seg: int, along_m: float) -> End:
    length = float(graph.seg_length[seg])
    frac = min(max(along_m / length, 0.0), 1.0) if length > 0 else 0.0
    fwd, bwd = int(graph.seg_fwd[seg]), int(graph.seg_bwd[seg])
    t_fwd = float(graph.edge_time[fwd]) if fwd >= 0 else math.inf
    t_bwd = float(graph.edge_time[bwd]) if bwd >= 0 else math.inf
    return End(
        u=int(graph.seg_u[seg]),
        v=int(graph.seg_v[seg]),
        to_u=frac * t_bwd,
        to_v=(1.0 - frac) * t_fwd,
        from_u=frac * t_fwd,
        from_v=(1.0 - frac) * t_bwd,
    )


def along_segment(graph: WalkGraph, seg: int, along_from: float, along_to: float) -> float:
    """Seconds to walk one segment from one mid point to another; ``inf`` if one-way forbids."""
    length = float(graph.seg_length[seg])
    edge = int(graph.seg_fwd[seg]) if along_to >= along_from else int(graph.seg_bwd[seg])
    if edge < 0:
        return float("inf")
    if length <= 0:
        return 0.0
    return abs(along_to - along_from) / length * float(graph.edge_time[edge])


class Searcher:
    """Dijkstra from a virtual start node wired to the seeds.

    Row ``n`` of each matrix is a spare node with two outgoing slots; a search
    points them at the seeds with the seeds' partial costs and starts there, so
    a mid-segment start costs one search, not one per segment end. The slots
    are shared state, hence the lock: searches on one router run one at a time.
    """

    def __init__(self, graph: WalkGraph) -> None:
        self._graph = graph
        n = graph.n_nodes
        self._virtual = n
        src, dst, time = graph.edge_src, graph.edge_dst, graph.edge_time
        self._forward, self._fwd_edge = _fastest_matrix(n, src, dst, time)
        # Entries sorted by (row, column): one searchsorted maps node pairs to edges.
        self._stride = n + 1
        rows = np.repeat(np.arange(n + 1, dtype=np.int64), np.diff(self._forward.indptr))
        self._fwd_keys = rows * self._stride + self._forward.indices
        self._reverse, _ = _fastest_matrix(n, dst, src, time)
        self._lock = threading.Lock()

    def costs_to(self, seeds: list[tuple[int, float]], limit: float) -> F64:
        """Seconds from every node to the target, ``inf`` past ``limit``.

        Each seed is (node, seconds from that node onwards to the target).
        """
        with self._lock:
            _wire(self._reverse, self._virtual, seeds)
            dist = dijkstra(self._reverse, directed=True, indices=self._virtual, limit=limit)
        return np.asarray(dist[: self._virtual])

    def path_from(
        self, seeds: list[tuple[int, float]], exits: list[tuple[int, float]], limit: float
    ) -> tuple[float, int, int, list[int]] | None:
        """Fastest (seconds, seed index, exit index, edge ids) from a seed to an exit.

        Seeds are (node, seconds already spent reaching it); exits are (node,
        seconds still needed from it). None when nothing is within ``limit``.
        """
        with self._lock:
            _wire(self._forward, self._virtual, seeds)
            dist, pred = dijkstra(
                self._forward,
                directed=True,
                indices=self._virtual,
                limit=limit,
                return_predecessors=True,
            )
        best: tuple[float, int] | None = None
        for j, (node, needed) in enumerate(exits):
            total = float(dist[node]) + needed
            if math.isfinite(total) and total <= limit and (best is None or total < best[0]):
                best = (total, j)
        if best is None:
            return None
        total, j = best
        nodes = [exits[j][0]]
        while (p := int(pred[nodes[-1]])) != self._virtual:
            nodes.append(p)
        nodes.reverse()
        first = nodes[0]
        seed = min(
            (i for i, (node, _) in enumerate(seeds) if node == first), key=lambda i: seeds[i][1]
        )
        return total, seed, j, self._edges_between(nodes)

    def _edges_between(self, nodes: list[int]) -> list[int]:
        """Edge ids of consecutive node pairs, via the matrix's sorted (row, column) keys."""
        path = np.asarray(nodes, dtype=np.int64)
        keys = path[:-1] * self._stride + path[1:]
        edges: list[int] = self._fwd_edge[np.searchsorted(self._fwd_keys, keys)].tolist()
        return edges


def _wire(matrix: csr_matrix, virtual: int, seeds: list[tuple[int, float]]) -> None:
    """Point the virtual node's two slots at the seeds (a lone seed fills both)."""
    slot = int(matrix.indptr[virtual])
    for i in range(2):
        node, cost = seeds[min(i, len(seeds) - 1)]
        matrix.indices[slot + i] = node
        matrix.data[slot + i] = cost


def _fastest_matrix(
    n: int, src: NDArray[np.int32], dst: NDArray[np.int32], time: F64
) -> tuple[csr_matrix, NDArray[np.int32]]:
    """CSR matrix keeping the fastest of parallel edges; also the edge id of each entry.

    The matrix has one extra row and column: the virtual start node, with two slots.
    """
    keep = src != dst  # a loop never shortens a path
    ids = np.flatnonzero(keep).astype(np.int32)
    s, d, t = src[keep], dst[keep], time[keep]
    order = np.lexsort((t, d, s))
    s, d, t, ids = s[order], d[order], t[order], ids[order]
    first = np.ones(len(s), dtype=bool)
    first[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1])
    s, d, t, ids = s[first], d[first], t[first], ids[first]
    indptr = np.zeros(n + 2, dtype=np.int32)
    np.cumsum(np.bincount(s, minlength=n), out=indptr[1 : n + 1])
    indptr[n + 1] = indptr[n] + 2
    data = np.concatenate([t.astype(np.float64), [0.0, 0.0]])
    indices = np.concatenate([d.astype(np.int32), np.zeros(2, dtype=np.int32)])
    matrix = csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
    return matrix, np.concatenate([ids, np.full(2, -1, dtype=np.int32)])
