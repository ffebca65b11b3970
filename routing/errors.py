"""Every exception the routing package raises, in one tree.

Callers catch :class:`RoutingError` for "routing could not answer" and the
subclasses when they want to tell the user why.
"""

from __future__ import annotations

__all__ = [
    "CacheError",
    "GraphBuildError",
    "NoRoute",
    "PointNotOnNetwork",
    "RoutingError",
]


class RoutingError(Exception):
    """Base class: routing could not answer the question asked."""


class GraphBuildError(RoutingError):
    """The OSM input could not be turned into a walking graph."""


class CacheError(RoutingError):
    """A cached graph exists but cannot be used (corrupt, wrong format)."""


class PointNotOnNetwork(RoutingError):
    """A coordinate is farther from any walkable way than the snap limit allows."""

    def __init__(self, lat: float, lon: float, distance_m: float, limit_m: float) -> None:
        self.lat = lat
        self.lon = lon
        self.distance_m = distance_m
        self.limit_m = limit_m
        if distance_m == float("inf"):
            how_far = "no walkable way is within reach"
        else:
            how_far = f"the nearest walkable way is {distance_m:,.0f} m away"
        super().__init__(
            f"point ({lat:.6f}, {lon:.6f}) is not on the walking network: "
            f"{how_far}, the snap limit is {limit_m:,.0f} m"
        )


class NoRoute(RoutingError):
    """Both points are on the network but no walking path joins them."""
