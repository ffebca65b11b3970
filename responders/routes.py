"""Drawing routes (GET /route, a volunteer's alert) on threads of their own.

A route costs more CPU than a whole dispatch. Drawn on the shared thread pool, a volunteer
asking for routes in a loop kept dozens of threads fighting the event loop for the CPU and
the GIL, and dispatch slowed for everyone (p50 17 -> 147 ms). Here routes queue among
themselves for a few threads (EHBO_ROUTING_ROUTE_THREADS); dispatch, which routes on the
event loop, only ever competes with that few."""

from __future__ import annotations

import anyio

from routing import Point, Route, Router

__all__ = ["RouteDrawer"]


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
