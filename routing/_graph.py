"""The walking graph: directed CSR arrays over intersections, plus street shapes.

Layout (N intersections, E directed edges, S street segments, P shape points):

- a *segment* is a piece of one OSM way between two intersections; it owns its
  shape (``shape_ptr[s]:shape_ptr[s + 1]`` into ``shape_lat``/``shape_lon``, first
  point at ``seg_u``, last at ``seg_v``), its length, name and highway class;
- a directed *edge* walks a segment forward (u -> v) or backward; edges are
  sorted by source node, so ``out_ptr`` is the CSR row pointer of the forward
  graph and ``in_ptr``/``in_edge`` index the same edges by target node, which
  is the reversed graph used for one-to-many searches.

Only intersections are graph nodes; shape points live in the segments, so a
search touches few nodes while routes still follow the streets.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._options import BuildOptions
from ._strings import StringTable

__all__ = ["WalkGraph"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
I32 = NDArray[np.int32]


@dataclass(frozen=True, eq=False, slots=True)
class WalkGraph:
    node_lat: F64
    node_lon: F64
    out_ptr: I64
    edge_src: I32
    edge_dst: I32
    edge_time: F64
    edge_seg: I32
    edge_rev: NDArray[np.bool_]
    in_ptr: I64
    in_edge: I32
    seg_u: I32
    seg_v: I32
    seg_length: F64
    seg_name: I32
    seg_highway: NDArray[np.int16]
    seg_fwd: I32
    seg_bwd: I32
    shape_ptr: I64
    shape_lat: F64
    shape_lon: F64
    names: StringTable
    highways: StringTable
    options: BuildOptions

    @property
    def n_nodes(self) -> int:
        return len(self.node_lat)

    @property
    def n_edges(self) -> int:
        return len(self.edge_dst)

    @property
    def n_segments(self) -> int:
        return len(self.seg_u)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(min_lon, min_lat, max_lon, max_lat)`` of every street shape."""
        if len(self.shape_lat) == 0:
            return (0.0, 0.0, 0.0, 0.0)
        return (
            float(self.shape_lon.min()),
            float(self.shape_lat.min()),
            float(self.shape_lon.max()),
            float(self.shape_lat.max()),
        )

    @property
    def nbytes(self) -> int:
        """Memory held by the graph's arrays."""
        total = 0
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                total += value.nbytes
            elif isinstance(value, StringTable):
                total += value.blob.nbytes + value.ptr.nbytes
        return total

    def segment_name(self, seg: int) -> str:
        i = int(self.seg_name[seg])
        return self.names[i] if i >= 0 else ""

    def segment_highway(self, seg: int) -> str:
        return self.highways[int(self.seg_highway[seg])]

    def to_arrays(self) -> dict[str, NDArray[Any]]:
        """Every array by field name, string tables split in blob and offsets."""
        out: dict[str, NDArray[Any]] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                out[f.name] = value
            elif isinstance(value, StringTable):
                out[f"{f.name}_blob"] = value.blob
                out[f"{f.name}_ptr"] = value.ptr
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, NDArray[Any]], options: BuildOptions) -> WalkGraph:
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "options":
                kwargs[f.name] = options
            elif f.name in ("names", "highways"):
                kwargs[f.name] = StringTable(arrays[f"{f.name}_blob"], arrays[f"{f.name}_ptr"])
            else:
                kwargs[f.name] = arrays[f.name]
        return cls(**kwargs)

    def equals(self, other: WalkGraph) -> bool:
        """Same options and element-wise identical arrays."""
        if self.options != other.options:
            return False
        mine, theirs = self.to_arrays(), other.to_arrays()
        return mine.keys() == theirs.keys() and all(
            mine[k].dtype == theirs[k].dtype and np.array_equal(mine[k], theirs[k]) for k in mine
        )
