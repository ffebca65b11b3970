"""Build options: everything that changes the graph, and so the cache key."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

__all__ = ["BuildOptions"]


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """How an OSM extract becomes a walking graph.

    ``speed_mps`` is a volunteer hurrying, not strolling (1.4 m/s). Steps are
    walked at ``speed_mps * steps_factor``. The largest strongly connected
    component is always kept; other components are kept when they have at
    least ``min_component_nodes`` intersections (``None``: keep only the largest).
    """

    speed_mps: float = 2.0
    steps_factor: float = 0.5
    min_component_nodes: int | None = None

    def __post_init__(self) -> None:
        if not self.speed_mps > 0:
            raise ValueError(f"speed_mps must be positive, got {self.speed_mps!r}")
        if not 0 < self.steps_factor <= 1:
            raise ValueError(f"steps_factor must be in (0, 1], got {self.steps_factor!r}")
        if self.min_component_nodes is not None and self.min_component_nodes < 1:
            raise ValueError("min_component_nodes must be >= 1 or None")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BuildOptions:
        return cls(**json.loads(text))
