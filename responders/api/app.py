"""The app factory: `create_app(settings)`; pools, graph and background loops in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import anyio
from fastapi import FastAPI

from responders.api.errors import install_error_handlers
from responders.api.events import EventHub
from responders.api.middleware import BodySizeLimit
from responders.api.routers import aeds, alerts, health, incidents, reports, responders, route
from responders.db.engine import create_engine, create_pool, create_sessionmaker
from responders.dispatch.timers import timer_loop
from responders.dispatch.waves import Dispatcher
from responders.geo import load_router
from responders.settings import Settings
from responders.web import router as web_router
from routing import Router

__all__ = ["create_app"]

_ROUTERS = (health, responders, aeds, incidents, reports, alerts, route)


async def _load_router(settings: Settings) -> Router | None:
    if not settings.routing.enabled:
        return None
    return await anyio.to_thread.run_sync(load_router, settings.routing)


def create_app(settings: Settings, *, router: Router | None = None) -> FastAPI:
    """`router` lets a caller share one loaded graph between apps (tests, the demo)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.db)
        pool = await create_pool(settings.db)
        graph = router or await _load_router(settings)
        hub = EventHub(settings.db.url or "")
        app.state.engine = engine
        app.state.pool = pool
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.router = graph
        app.state.dispatcher = graph and Dispatcher(graph, settings.dispatch, settings.region)
        app.state.event_hub = hub
        hub.start()
        timers = None
        if graph is not None and settings.dispatch.run_timers:
            timers = asyncio.create_task(
                timer_loop(engine, app.state.dispatcher, settings.dispatch.timer_poll_s)
            )
        try:
            yield
        finally:
            if timers:
                timers.cancel()
            await hub.stop()
            await pool.close()
            await engine.dispose()

    app = FastAPI(
        title="EHBO responders",
        summary="Wakes the nearest volunteer first-aiders by walking time.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    for module in _ROUTERS:
        app.include_router(module.router)
    app.include_router(web_router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api.max_body_bytes)
    return app
