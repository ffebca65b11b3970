"""The interface the service depends on, so a routing engine service
(Valhalla, OSRM) can stand in for the in-process graph router."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ._types import Point, Route

__all__ = ["Router", "Walks"]


class Walks(Protocol):
    def times_from(self, sources: Sequence[Point]) -> list[list[float | None]]:
        """Per target, in order: walking seconds from each source, ``None`` when
        unreachable within the bound or off the network."""
        ...


@runtime_checkable
class Router(Protocol):
    def walks_to(self, targets: Sequence[Point], max_seconds: float) -> Walks:
        """Start the bounded searches to ``targets`` now; times from sources come later.

        A dispatch searches from the incident and its AEDs while the volunteers are still
        being looked up. Raises ``PointNotOnNetwork`` when a target is off the network.
        """
        ...

    def route(self, a: Point, b: Point, via: Point | None = None) -> Route:
        """The fastest walking route from ``a`` to ``b``, through ``via`` if given.

        Raises ``PointNotOnNetwork`` or ``NoRoute`` (both ``RoutingError``).
        """
        ...

    def covers(self, point: Point) -> bool:
        """True when ``point`` snaps to the network within the snap limit."""
        ...

    def landing(self, point: Point) -> tuple[Point, float]:
        """The nearest point of the network to ``point`` however far, and its distance in
        metres (for places the snap limit refuses: an incident on the water)."""
        ...

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(min_lon, min_lat, max_lon, max_lat)`` of the network."""
        ...
