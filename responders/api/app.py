"""The app factory: `create_app(settings)`; pools, graph and background loops in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from responders.api.access_log import AccessLog
from responders.api.clients import ClientAddresses
from responders.api.errors import install_error_handlers
from responders.api.events import EventHub
from responders.api.limits import Limits
from responders.api.middleware import BodySizeLimit, PhoneRegion
from responders.api.routers import (
    aeds,
    alerts,
    geocode,
    health,
    incidents,
    push,
    reports,
    responders,
    route,
    states,
)
from responders.db.gateway import Database
from responders.demo_upkeep import upkeep_loop
from responders.dispatch.timers import timer_loop
from responders.dispatch.waves import DispatchContext
from responders.geo import load_router
from responders.heap import freeze_long_lived
from responders.privacy import purge_loop
from responders.push import load_vapid_key
from responders.registry.locations import LocationWriter
from responders.routes import RouteDrawer
from responders.settings import Settings
from responders.web import router as web_router
from routing import Router

__all__ = ["create_app"]

_ROUTERS = (
    health,
    states,
    responders,
    aeds,
    incidents,
    reports,
    alerts,
    route,
    geocode,
    push,
)


async def _load_router(settings: Settings) -> Router | None:
    if not settings.routing.enabled:
        return None
    return await anyio.to_thread.run_sync(load_router, settings.routing)


def _background_loops(app: FastAPI, settings: Settings) -> list[Coroutine[Any, Any, None]]:
    """Timers and purges run in every API process; the database decides who does what.
    In the demo (only it has demo credentials) its incidents also end themselves."""
    loops = []
    if app.state.dispatch_context is not None and settings.dispatch.run_timers:
        loops.append(
            timer_loop(app.state.db, app.state.dispatch_context, settings.dispatch.timer_poll_s)
        )
    if settings.privacy.run_purge:
        loops.append(purge_loop(app.state.db, settings.privacy))
    demo_age = settings.api.demo_incident_max_age_s
    if settings.api.demo_credentials is not None and app.state.dispatch_context and demo_age > 0:
        loops.append(upkeep_loop(app.state.db, app.state.dispatch_context, demo_age))
    return loops


def create_app(settings: Settings, *, router: Router | None = None) -> FastAPI:
    """`router` lets a caller share one loaded graph between apps (tests, the demo)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = await Database.open(settings.db)
        graph = router or await _load_router(settings)
        hub = EventHub(settings.db.url or "")
        app.state.db = db
        app.state.locations = LocationWriter(db)
        app.state.router = graph
        app.state.route_drawer = graph and RouteDrawer(graph, settings.routing.route_threads)
        app.state.dispatch_context = graph and DispatchContext(
            graph, settings.dispatch, settings.region, db
        )
        app.state.event_hub = hub
        # Read (or made, the first time ever) once: `GET /push/key` hands it to browsers.
        app.state.vapid_key = load_vapid_key(settings.webpush) if settings.webpush.enabled else None
        hub.start()
        tasks = [asyncio.create_task(loop) for loop in _background_loops(app, settings)]
        if settings.api.freeze_heap:
            freeze_long_lived()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            # Wait for them: a round still inside its transaction must not outlive the pool
            # (nor overlap whatever comes after this app, as the next test's TRUNCATE).
            if tasks:
                await asyncio.wait(tasks, timeout=5)
            await hub.stop()
            await db.close()

    # The docs pages' scripts come from a PyPI package, not a CDN: no request leaves.
    # ReDoc is off: its bundle fetches a logo from its CDN whatever we serve it from.
    app = FastAPIOffline(
        redoc_url=None,
        favicon_url="data:,",
        title="EHBO responders",
        summary="Wakes the nearest volunteer first-aiders by walking time.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.limits = Limits(settings.limits)
    app.state.clients = ClientAddresses(settings.api.trusted_proxies)
    install_error_handlers(app)
    for module in _ROUTERS:
        app.include_router(module.router)
    app.include_router(web_router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api.max_body_bytes)
    app.add_middleware(PhoneRegion, region=settings.region.phone_region)
    app.add_middleware(AccessLog)
    return app
