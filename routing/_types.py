"""Value types that cross the package boundary: points in, routes out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Point", "Route", "Step"]


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS84 coordinate. Latitude first, as people say it; GeoJSON output is [lon, lat]."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        # NaN compares false with everything, so test the accepted range positively.
        if not (-90.0 <= self.lat <= 90.0) or not (-180.0 <= self.lon <= 180.0):
            raise ValueError(f"not a WGS84 coordinate: lat={self.lat!r}, lon={self.lon!r}")


@dataclass(frozen=True, slots=True)
class Step:
    """One instruction of a route: a stretch walked on one street."""

    name: str
    instruction: str
    distance_m: float
    duration_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "instruction": self.instruction,
            "distance_m": round(self.distance_m, 2),
            "duration_s": round(self.duration_s, 2),
        }


@dataclass(frozen=True, slots=True)
class Route:
    """A walking route. ``coordinates`` are ``[lon, lat]`` pairs along the streets,
    from the requested start (off-network legs included) to the requested end."""

    distance_m: float
    duration_s: float
    coordinates: list[list[float]]
    steps: list[Step] = field(default_factory=list)

    def to_geojson(self) -> dict[str, Any]:
        """An RFC 7946 Feature with a LineString geometry."""
        coords = self.coordinates
        if len(coords) == 1:
            # A LineString needs two positions; a zero-length route is still a route.
            coords = [coords[0], coords[0]]
        return {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": coords},
            "properties": {
                "distance_m": round(self.distance_m, 2),
                "duration_s": round(self.duration_s, 2),
                "steps": [s.to_dict() for s in self.steps],
            },
        }
