"""Drawing routes (GET /route, a volunteer's alert) on threads of their own, and storing
the routes alerts lack where they are read.

A route costs more CPU than a whole dispatch. Drawn on the shared thread pool, a volunteer
asking for routes in a loop kept dozens of threads fighting the event loop for the CPU and
the GIL, and dispatch slowed for everyone (p50 17 -> 147 ms). Here routes queue among
themselves for a few threads (EHBO_ROUTING_ROUTE_THREADS); dispatch, which routes on the
event loop, only ever competes with that few. For the same reason no wave draws its alerts'
routes up front: thirty of them cost more than the dispatch (`fill_alert_routes`)."""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from responders.db.gateway import Database
from responders.dispatch import store
from routing import Point, Route, Router, RoutingError

__all__ = ["RouteDrawer", "fill_alert_routes"]


class RouteDrawer:
    def __init__(self, router: Router, threads: int) -> None:
        self.router = router
        self._limiter = anyio.CapacityLimiter(threads)

    @property
    def drawing(self) -> int:
        """Routes being drawn right now (at most `threads`)."""
        return int(self._limiter.borrowed_tokens)

    async def route(self, a: Point, b: Point, via: Point | None = None) -> Route:
        """`Router.route` on one of the drawer's threads, waiting for a free one."""
        return await anyio.to_thread.run_sync(self.router.route, a, b, via, limiter=self._limiter)

    async def times_to(
        self, target: Point, sources: Sequence[Point], max_seconds: float
    ) -> list[float | None]:
        """Walking seconds from each source to `target` (one bounded search; None when out
        of reach), on the drawer's threads like a route."""

        def search() -> list[float | None]:
            return self.router.walks_to([target], max_seconds).times_from(sources)[0]

        return await anyio.to_thread.run_sync(search, limiter=self._limiter)


async def fill_alert_routes(db: Database, drawer: RouteDrawer, alert_ids: Sequence[int]) -> None:
    """Draw and store the routes of these alerts that have none yet, before they are read.

    Each route is committed on its own, one row per statement: the push worker updates the
    same alerts at the same time, and one transaction over many rows would deadlock against
    it. No connection is held while a route is drawn."""
    for legs in await store.routes_missing(db, alert_ids):
        via = None
        if legs.via_lat is not None and legs.via_lon is not None:
            via = Point(legs.via_lat, legs.via_lon)
        try:
            # CPU work: on the drawer's own threads, queued behind other routes, never in
            # the way of a dispatch.
            route = await drawer.route(
                Point(legs.lat, legs.lon), Point(legs.incident_lat, legs.incident_lon), via
            )
        except RoutingError:
            continue
        await store.store_route(db, legs.alert_id, route.to_geojson())
