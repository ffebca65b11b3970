"""Turn walkable way pieces into a :class:`WalkGraph`; shared by every input format."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ._arrays import ranges
from ._geo import haversine_m
from ._graph import WalkGraph
from ._options import BuildOptions
from ._rules import STEPS, Direction
from ._strings import StringTable
from .errors import GraphBuildError

__all__ = ["Pieces", "assemble", "split_at_missing"]

I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Pieces:
    """Walkable polylines over a point table, before intersections are found.

    Piece ``k`` visits points ``points[ptr[k]:ptr[k + 1]]``. Points shared by
    pieces, or visited twice, become intersections.
    """

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    points: I64
    ptr: I64
    name: NDArray[np.int32]
    highway: NDArray[np.int16]
    direction: NDArray[np.int8]
    names: list[str]
    highways: list[str]


def split_at_missing(points: I64, ptr: I64) -> tuple[I64, I64, I64]:
    """Cut polylines where a point is missing (``-1``) and drop repeated points.

    Clipped extracts reference nodes outside the file; the way's pieces on
    either side of the gap are still good streets. Returns the new points,
    row pointer, and for each new piece the index of the polyline it came from.
    """
    owner = np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))
    keep = points >= 0
    # A node listed twice in a row is a zero-length hop, not an intersection.
    repeat = np.zeros(len(points), dtype=bool)
    repeat[1:] = (points[1:] == points[:-1]) & (owner[1:] == owner[:-1])
    keep &= ~repeat
    # A new run starts after a gap or at the start of a polyline.
    starts = np.zeros(len(points), dtype=bool)
    starts[ptr[:-1][np.diff(ptr) > 0]] = True
    gap = np.zeros(len(points), dtype=bool)
    gap[1:] = points[:-1] < 0
    run = np.cumsum(starts | gap) - 1
    run_of_kept = run[keep]
    kept_points = points[keep]
    _, first, counts = np.unique(run_of_kept, return_index=True, return_counts=True)
    usable = counts >= 2
    out_ptr = np.zeros(int(usable.sum()) + 1, dtype=np.int64)
    np.cumsum(counts[usable], out=out_ptr[1:])
    take = np.repeat(usable, counts)
    owners = owner[keep][first[usable]]
    return kept_points[take], out_ptr, owners


@dataclass(frozen=True, slots=True)
class _Segments:
    """Pieces cut at intersections: segment ``s`` has shape ``points[ptr[s]:ptr[s + 1]]``."""

    piece: I64
    ptr: I64
    points: I64
    length_m: NDArray[np.float64]

    @property
    def first(self) -> I64:
        return self.points[self.ptr[:-1]]

    @property
    def last(self) -> I64:
        return self.points[self.ptr[1:] - 1]


def assemble(pieces: Pieces, options: BuildOptions) -> WalkGraph:
    """Find intersections, cut pieces into segments, keep connected components."""
    if len(pieces.ptr) < 2:
        raise GraphBuildError("no walkable ways in the input")
    segs = _cut(pieces)
    node_points = np.unique(np.concatenate([segs.first, segs.last]))
    seg_u = np.searchsorted(node_points, segs.first)
    seg_v = np.searchsorted(node_points, segs.last)
    direction = pieces.direction[segs.piece]
    fwd = (direction & Direction.FORWARD) != 0
    bwd = (direction & Direction.BACKWARD) != 0

    kept_node = _kept_components(len(node_points), seg_u, seg_v, fwd, bwd, options)
    keep = np.flatnonzero(kept_node[seg_u] & kept_node[seg_v])
    if len(keep) == 0:
        raise GraphBuildError("no connected walkable network in the input")
    # Renumber what survives so every array is dense.
    node_new = np.cumsum(kept_node) - 1
    shape_ptr, kept_points = ranges(segs.ptr[keep], np.diff(segs.ptr)[keep])
    shape_pts = segs.points[kept_points]
    seg_highway = pieces.highway[segs.piece[keep]]
    length = segs.length_m[keep]
    speed = np.full(len(keep), options.speed_mps)
    if STEPS in pieces.highways:
        speed[seg_highway == pieces.highways.index(STEPS)] *= options.steps_factor

    return _with_edges(
        node_lat=pieces.lat[node_points[kept_node]],
        node_lon=pieces.lon[node_points[kept_node]],
        seg_u=node_new[seg_u[keep]].astype(np.int32),
        seg_v=node_new[seg_v[keep]].astype(np.int32),
        seg_fwd_ok=fwd[keep],
        seg_bwd_ok=bwd[keep],
        seg_time=length / speed,
        seg_length=length,
        seg_name=pieces.name[segs.piece[keep]].astype(np.int32),
        seg_highway=seg_highway.astype(np.int16),
        shape_ptr=shape_ptr,
        shape_lat=pieces.lat[shape_pts],
        shape_lon=pieces.lon[shape_pts],
        names=StringTable.from_strings(pieces.names),
        highways=StringTable.from_strings(pieces.highways),
        options=options,
    )


def _cut(pieces: Pieces) -> _Segments:
    """Cut every piece at its intersections: points shared with another piece (or
    visited twice) and piece ends. Only intersections become graph nodes."""
    pts, ptr = pieces.points, pieces.ptr
    piece_of = np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))
    is_node = np.bincount(pts, minlength=len(pieces.lat)) >= 2
    is_node[pts[ptr[:-1]]] = True
    is_node[pts[ptr[1:] - 1]] = True

    cut = np.flatnonzero(is_node[pts])
    same_piece = piece_of[cut[:-1]] == piece_of[cut[1:]]
    start, end = cut[:-1][same_piece], cut[1:][same_piece]
    shape_ptr, cut_points = ranges(start, end - start + 1)
    shape_pts = pts[cut_points]

    lat, lon = pieces.lat[shape_pts], pieces.lon[shape_pts]
    hop = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    cum = np.zeros(len(shape_pts), dtype=np.float64)
    np.cumsum(hop, out=cum[1:])
    # Differences of one running sum; hops joining two segments fall outside both.
    length = cum[shape_ptr[1:] - 1] - cum[shape_ptr[:-1]]
    return _Segments(piece=piece_of[start], ptr=shape_ptr, points=shape_pts, length_m=length)


def _kept_components(
    n: int,
    u: I64,
    v: I64,
    fwd: NDArray[np.bool_],
    bwd: NDArray[np.bool_],
    options: BuildOptions,
) -> NDArray[np.bool_]:
    """Mask of intersections in the strongly connected components to keep.

    Strong, not weak, connectivity: a point snapped into a one-way trap (a
    ``oneway:foot`` stub you can enter but not leave) would make a volunteer
    silently unreachable; dropping such pieces makes every kept pair routable.
    """
    src = np.concatenate([u[fwd], v[bwd]])
    dst = np.concatenate([v[fwd], u[bwd]])
    adj = csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    _, label = connected_components(adj, directed=True, connection="strong")
    sizes = np.bincount(label)
    wanted = np.zeros(len(sizes), dtype=bool)
    # argmax breaks ties for largest by the lowest label, so the choice is stable.
    wanted[int(np.argmax(sizes))] = True
    if options.min_component_nodes is not None:
        wanted |= sizes >= options.min_component_nodes
    return np.asarray(wanted[label])


def _with_edges(
    *,
    node_lat: NDArray[np.float64],
    node_lon: NDArray[np.float64],
    seg_u: NDArray[np.int32],
    seg_v: NDArray[np.int32],
    seg_fwd_ok: NDArray[np.bool_],
    seg_bwd_ok: NDArray[np.bool_],
    seg_time: NDArray[np.float64],
    seg_length: NDArray[np.float64],
    seg_name: NDArray[np.int32],
    seg_highway: NDArray[np.int16],
    shape_ptr: NDArray[np.int64],
    shape_lat: NDArray[np.float64],
    shape_lon: NDArray[np.float64],
    names: StringTable,
    highways: StringTable,
    options: BuildOptions,
) -> WalkGraph:
    n = len(node_lat)
    fwd_segs = np.flatnonzero(seg_fwd_ok)
    bwd_segs = np.flatnonzero(seg_bwd_ok)
    src = np.concatenate([seg_u[fwd_segs], seg_v[bwd_segs]])
    dst = np.concatenate([seg_v[fwd_segs], seg_u[bwd_segs]])
    seg = np.concatenate([fwd_segs, bwd_segs]).astype(np.int32)
    rev = np.concatenate([np.zeros(len(fwd_segs), bool), np.ones(len(bwd_segs), bool)])

    order = np.lexsort((dst, src))
    src, dst, seg, rev = src[order], dst[order], seg[order], rev[order]
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=out_ptr[1:])
    in_edge = np.lexsort((src, dst)).astype(np.int32)
    in_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(dst, minlength=n), out=in_ptr[1:])

    edge_ids = np.arange(len(seg), dtype=np.int32)
    seg_fwd = np.full(len(seg_u), -1, dtype=np.int32)
    seg_bwd = np.full(len(seg_u), -1, dtype=np.int32)
    seg_fwd[seg[~rev]] = edge_ids[~rev]
    seg_bwd[seg[rev]] = edge_ids[rev]

    return WalkGraph(
        node_lat=np.ascontiguousarray(node_lat, dtype=np.float64),
        node_lon=np.ascontiguousarray(node_lon, dtype=np.float64),
        out_ptr=out_ptr,
        edge_src=src.astype(np.int32),
        edge_dst=dst.astype(np.int32),
        edge_time=seg_time[seg].astype(np.float64),
        edge_seg=seg,
        edge_rev=rev,
        in_ptr=in_ptr,
        in_edge=in_edge,
        seg_u=seg_u,
        seg_v=seg_v,
        seg_length=seg_length.astype(np.float64),
        seg_name=seg_name,
        seg_highway=seg_highway,
        seg_fwd=seg_fwd,
        seg_bwd=seg_bwd,
        shape_ptr=shape_ptr,
        shape_lat=np.ascontiguousarray(shape_lat, dtype=np.float64),
        shape_lon=np.ascontiguousarray(shape_lon, dtype=np.float64),
        names=names,
        highways=highways,
        options=options,
    )
