"""Snap coordinates onto the nearest point of the nearest street segment.

Candidates come from a KD-tree over points sampled along every shape piece
(at most ``_SPACING_M`` apart, so each point of a piece is within half that of
a sample); the exact foot point is then a projection onto the piece in a local
tangent plane. The candidate set is provably complete: a row is re-queried with
a ball wide enough to hold every piece that could be nearer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ._arrays import ranges
from ._geo import EARTH_RADIUS_M, haversine_m
from ._graph import WalkGraph

__all__ = ["SnapIndex", "Snaps"]

F64 = NDArray[np.float64]
# A nearer piece can hide past the k nearest samples only within half a spacing, so the
# spacing decides how many points need the exact (ball) query. On a dispatch's candidates
# in the demo city three in four needed it at 25 m and one in six at 10 m, which halved
# the time of a batch, for 1.5x the samples ("snap sources onto streets" in
# bench/bench_routing.py times it now).
_SPACING_M = 10.0
_ON_STREET_M = 1e-3
# Nearest samples tried first; rows they cannot settle get a ball query.
_K = 8


@dataclass(frozen=True, slots=True)
class Snaps:
    """Snap results for a batch of points; rows with ``ok == False`` did not snap.

    ``piece`` is the index of the shape point that starts the piece the foot is
    on; ``along_m`` is measured from the segment's first node.
    """

    ok: NDArray[np.bool_]
    seg: NDArray[np.int64]
    piece: NDArray[np.int64]
    along_m: F64
    off_m: F64
    foot_lat: F64
    foot_lon: F64

    def rows(self, which: slice) -> Snaps:
        return Snaps(
            ok=self.ok[which],
            seg=self.seg[which],
            piece=self.piece[which],
            along_m=self.along_m[which],
            off_m=self.off_m[which],
            foot_lat=self.foot_lat[which],
            foot_lon=self.foot_lon[which],
        )


class SnapIndex:
    def __init__(self, graph: WalkGraph) -> None:
        self._graph = graph
        lat, lon, ptr = graph.shape_lat, graph.shape_lon, graph.shape_ptr
        # Pieces join consecutive shape points of one segment; the last point
        # of a segment starts no piece.
        is_start = np.ones(len(lat), dtype=bool)
        is_start[ptr[1:] - 1] = False
        starts = np.flatnonzero(is_start)
        seg_of_point = np.repeat(np.arange(graph.n_segments), np.diff(ptr))
        hop = haversine_m(lat[starts], lon[starts], lat[starts + 1], lon[starts + 1])
        cum = np.zeros(len(lat))
        cum[starts + 1] = hop
        np.cumsum(cum, out=cum)
        self._cum = cum - np.repeat(cum[ptr[:-1]], np.diff(ptr))
        self._seg_of_point = seg_of_point

        lat_min, lat_max = float(lat.min()), float(lat.max())
        self._lat0 = 0.5 * (lat_min + lat_max)
        self._lon0 = 0.5 * (float(lon.min()) + float(lon.max()))
        c0 = math.cos(math.radians(self._lat0))
        self._kx = EARTH_RADIUS_M * c0 * math.pi / 180.0
        self._ky = EARTH_RADIUS_M * math.pi / 180.0
        # The plane's x scale is exact only at lat0; these bound how far
        # projected distances may stretch or shrink elsewhere in the graph.
        lat_far = max(abs(lat_min), abs(lat_max))
        lat_near = 0.0 if lat_min < 0 < lat_max else min(abs(lat_min), abs(lat_max))
        c_min = math.cos(math.radians(lat_far))
        c_max = math.cos(math.radians(lat_near))
        self._hi = max(1.0, c0 / max(c_min, 1e-9), c_max / c0)

        n_samples = np.maximum(1, np.ceil(hop / _SPACING_M)).astype(np.int64)
        owner = np.repeat(starts, n_samples)
        _, nth = ranges(np.zeros_like(n_samples), n_samples)
        frac = (nth + 0.5) / np.repeat(n_samples, n_samples)
        s_lat = lat[owner] + frac * (lat[owner + 1] - lat[owner])
        s_lon = lon[owner] + frac * (lon[owner + 1] - lon[owner])
        self._sample_piece = owner
        self._tree = cKDTree(np.column_stack(self._plane(s_lat, s_lon)))
        self._max_half_gap = 0.5 * float((hop / n_samples).max()) if len(hop) else 0.0

    def _plane(self, lat: F64, lon: F64) -> tuple[F64, F64]:
        return (lon - self._lon0) * self._kx, (lat - self._lat0) * self._ky

    def snap(self, lat: F64, lon: F64, limit_m: float) -> Snaps:
        """Snap each (lat, lon) onto the network; rows farther than ``limit_m`` fail."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        n = len(lat)
        x, y = self._plane(lat, lon)
        xy = np.column_stack([x, y])
        k = min(_K, self._tree.n)
        d_k, i_k = self._tree.query(xy, k=k)
        d_k, i_k = d_k.reshape(n, k), i_k.reshape(n, k)
        rows = np.repeat(np.arange(n), k)
        off, t = self._project(lat[rows], lon[rows], self._sample_piece[i_k.ravel()])
        off, t = off.reshape(n, k), t.reshape(n, k)
        col = off.argmin(axis=1)
        at = np.arange(n)
        best_off, best_t = off[at, col], t[at, col]
        best_piece = self._sample_piece[i_k[at, col]]

        hopeless = self._beyond(d_k[:, 0], limit_m)
        best_off[hopeless] = np.inf
        # A nearer piece could hide beyond the k-th sample only if that sample
        # is inside the radius where such a piece must have a sample.
        radius = self._hi * (best_off + self._max_half_gap)
        unsure = np.flatnonzero(~hopeless & (d_k[:, -1] <= radius) & (k < self._tree.n))
        if len(unsure):
            self._settle(lat, lon, xy, radius, unsure, best_off, best_piece, best_t)
        return self._result(lat, lon, best_off, best_piece, best_t, limit_m)

    def _settle(
        self,
        lat: F64,
        lon: F64,
        xy: F64,
        radius: F64,
        rows: NDArray[np.int64],
        best_off: F64,
        best_piece: NDArray[np.int64],
        best_t: F64,
    ) -> None:
        """Exact answer for ``rows`` from every sample within their radius (in place)."""
        found = self._tree.query_ball_point(xy[rows], r=radius[rows], return_sorted=False)
        counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(rows))
        samples = np.fromiter(
            (i for f in found for i in f), dtype=np.int64, count=int(counts.sum())
        )
        owner = np.repeat(rows, counts)
        off, t = self._project(lat[owner], lon[owner], self._sample_piece[samples])
        # Per row, the nearest candidate: sort by (row, distance), keep each row's first.
        order = np.lexsort((off, owner))
        first = order[np.flatnonzero(np.r_[True, owner[order][1:] != owner[order][:-1]])]
        hit = owner[first]
        best_off[hit] = off[first]
        best_piece[hit] = self._sample_piece[samples[first]]
        best_t[hit] = t[first]

    def _result(
        self,
        lat: F64,
        lon: F64,
        best_off: F64,
        best_piece: NDArray[np.int64],
        best_t: F64,
        limit_m: float,
    ) -> Snaps:
        glat, glon = self._graph.shape_lat, self._graph.shape_lon
        f_lat = glat[best_piece] + best_t * (glat[best_piece + 1] - glat[best_piece])
        f_lon = glon[best_piece] + best_t * (glon[best_piece + 1] - glon[best_piece])
        # Geodesic lengths from the foot point, so that a route's geometry adds
        # up to exactly the distances the search used.
        off_m = np.where(np.isfinite(best_off), haversine_m(lat, lon, f_lat, f_lon), np.inf)
        # A point already on the street keeps its own coordinates: rounding in
        # the projection would otherwise leave a nanometre-long approach leg.
        on_street = off_m < _ON_STREET_M
        f_lat = np.where(on_street, lat, f_lat)
        f_lon = np.where(on_street, lon, f_lon)
        off_m = np.where(on_street, 0.0, off_m)
        along = self._cum[best_piece] + haversine_m(
            glat[best_piece], glon[best_piece], f_lat, f_lon
        )
        return Snaps(
            ok=off_m <= limit_m,
            seg=self._seg_of_point[best_piece],
            piece=best_piece,
            along_m=along,
            off_m=off_m,
            foot_lat=f_lat,
            foot_lon=f_lon,
        )

    def _project(self, lat: F64, lon: F64, pieces: NDArray[np.int64]) -> tuple[F64, F64]:
        """Distance from each point to its piece, and where along it the foot falls.

        Works in a tangent plane at each query point, exact enough at snapping range.
        """
        glat, glon = self._graph.shape_lat, self._graph.shape_lon
        ky = EARTH_RADIUS_M * np.pi / 180.0
        kx = ky * np.cos(np.radians(lat))
        ax = (glon[pieces] - lon) * kx
        ay = (glat[pieces] - lat) * ky
        dx = (glon[pieces + 1] - lon) * kx - ax
        dy = (glat[pieces + 1] - lat) * ky - ay
        len2 = dx * dx + dy * dy
        t = np.divide(-(ax * dx + ay * dy), len2, out=np.zeros_like(len2), where=len2 > 0)
        np.clip(t, 0.0, 1.0, out=t)
        return np.hypot(ax + t * dx, ay + t * dy), t

    def surely_within(self, lat: float, lon: float, limit_m: float) -> bool | None:
        """Whether one point snaps within ``limit_m``, from its nearest sample alone; None
        when that is too close to call and only a full snap can tell."""
        x, y = self._plane(np.array([lat]), np.array([lon]))
        d, _ = self._tree.query((float(x[0]), float(y[0])), k=1)
        # The sample lies on the network, at most `hi` times its projected distance away.
        if d * self._hi <= limit_m:
            return True
        return False if self._beyond(d, limit_m) else None

    def _beyond(self, nearest_sample: Any, limit_m: float) -> Any:
        """Whether points whose nearest sample is this far (projected) cannot snap: every
        sample is at least d/hi away in truth, and every point of a piece is within `half`
        of one of its samples."""
        return nearest_sample / self._hi - self._max_half_gap > limit_m

    def nearest_off_m(self, lat: float, lon: float) -> float:
        """Distance to the network ignoring any limit (for error messages)."""
        s = self.snap(np.array([lat]), np.array([lon]), math.inf)
        return float(s.off_m[0])
