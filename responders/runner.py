"""Long-running processes: the API server, the push worker, and the all-in-one demo."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from fastapi import FastAPI

from responders.api import create_app
from responders.db.bootstrap import prepared_database
from responders.db.gateway import Database
from responders.delivery import process as delivery
from responders.demo import (
    DemoSummary,
    attach_webpush,
    load_demo,
    read_addresses,
    write_credentials,
)
from responders.demo_upkeep import fresh_day
from responders.dispatch.waves import DispatchContext
from responders.geo import default_extract, load_router
from responders.geocode import build_from_extract
from responders.schemas.responders import WebPushSubscription
from responders.settings import Settings
from responders.tiles import tiles_for
from routing import Router

if TYPE_CHECKING:  # the emulator is imported only when the demo runs
    from responders.emulators.webpush import WebPushServerState

__all__ = ["demo", "serve", "server_config"]

log = logging.getLogger(__name__)


def _with(settings: Settings, **groups: dict[str, object]) -> Settings:
    """A copy with some fields of some groups replaced: `_with(s, db={"url": ...})`."""
    update = {
        name: getattr(settings, name).model_copy(update=values) for name, values in groups.items()
    }
    return settings.model_copy(update=update)


def _with_tiles(settings: Settings) -> Settings:
    """The settings with the map's tiles file: built from the routing extract at the first
    start (a progress percentage in the log), reused after (README, "Maps and tiles")."""
    path = tiles_for(settings.map, settings.routing.osm_file or default_extract())
    return _with(settings, map={"tiles_file": path}) if path else settings


def serve(settings: Settings, *, host: str | None, port: int | None, worker: bool) -> int:
    settings = _with_tiles(settings)
    with prepared_database(settings.db) as database:
        settings = _with(settings, db={"url": database.url})
        if settings.routing.enabled:
            asyncio.run(_build_geocode(settings))
        app = create_app(settings)
        asyncio.run(
            _serve(app, settings, host or settings.api.host, port or settings.api.port, worker)
        )
    return 0


def server_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """uvicorn, minus its proxy headers: by default it believes X-Forwarded-For from any
    loopback peer, which let a client choose its own rate-limit key. The app reads them,
    from configured proxies only (EHBO_API_TRUSTED_PROXIES)."""
    return uvicorn.Config(app, host=host, port=port, access_log=False, proxy_headers=False)


async def _serve(app: FastAPI, settings: Settings, host: str, port: int, worker: bool) -> None:
    server = uvicorn.Server(server_config(app, host, port))
    work = asyncio.create_task(delivery.work(settings)) if worker else None
    try:
        await server.serve()
    finally:
        if work:
            work.cancel()


def demo(settings: Settings, *, host: str | None, port: int | None) -> int:
    from responders.emulators.fcm import create_fcm_app
    from responders.web.demo import mount_webpush

    host, port = host or settings.api.host, port or settings.api.port
    url = f"http://{host}:{port}"
    settings = _with_tiles(settings)
    with prepared_database(settings.db) as database:
        # The bundled FCM server answers under /fcm of the same port.
        credentials = settings.db.cluster_dir.resolve().parent / ".demo" / "credentials.json"
        settings = _with(
            settings,
            db={"url": database.url},
            push={"endpoint": f"{url}/fcm"},
            # The demo's Web Push subscriptions live on a local push service (127.0.0.1).
            webpush={"allow_loopback": True},
            api={"demo_credentials": credentials},
        )
        router = load_router(settings.routing)
        summary = asyncio.run(_load_demo(settings, router))
        write_credentials(credentials, summary)
        app = create_app(settings, router=router)
        app.mount("/fcm", create_fcm_app())
        # The local Web Push service beside it, under /webpush (the demo phone reads it).
        subscribe = _demo_subscriptions(mount_webpush(app), url)
        asyncio.run(_attach_webpush(settings, summary, subscribe))
        _banner(summary, url, credentials)
        asyncio.run(_serve(app, settings, host, port, worker=True))
    return 0


def _demo_subscriptions(
    service: WebPushServerState, url: str
) -> Callable[[int], WebPushSubscription]:
    """Makes a volunteer's subscription on the demo's push service, with keys the service
    keeps (the demo phone shows what each push said), labelled as theirs."""
    from responders.emulators.webpush import SubscriberKeys
    from responders.web.demo import volunteer_subscription

    def subscribe(responder_id: int) -> WebPushSubscription:
        keys = SubscriberKeys.generate()
        endpoint = volunteer_subscription(
            service, url, responder_id, keys, subscription_id=f"demo-volunteer-{responder_id}"
        )
        return WebPushSubscription.model_validate(keys.subscription(endpoint))

    return subscribe


async def _attach_webpush(
    settings: Settings, summary: DemoSummary, subscribe: Callable[[int], WebPushSubscription]
) -> None:
    db = await Database.open(settings.db)
    try:
        attached = await attach_webpush(db, sorted(summary.volunteer_names), subscribe)
        log.info("demo: %d volunteers have a Web Push subscription too", attached)
    finally:
        await db.close()


async def _build_geocode(settings: Settings, db: Database | None = None) -> None:
    """The address index of the graph's extract; rebuilt only when the extract changed."""
    if not settings.geocode.build_on_start:
        return
    extract = settings.routing.osm_file or default_extract()
    own = db is None
    database = db or await Database.open(settings.db)
    try:
        await build_from_extract(database, extract, cache_dir=settings.routing.cache_dir)
    finally:
        if own:
            await database.close()


async def _load_demo(settings: Settings, router: Router) -> DemoSummary:
    addresses = read_addresses(settings.routing.osm_file or default_extract())
    db = await Database.open(settings.db)
    try:
        await _build_geocode(settings, db)
        # A fresh day for a demo restarted on the database of an earlier run: what it left
        # open is ended (stand-downs go out once the worker runs), nobody stays capped.
        context = DispatchContext(router, settings.dispatch, settings.region, db)
        ended = await fresh_day(db, context)
        if ended:
            log.info("demo: ended %d incidents left open by the last run", len(ended))
        return await load_demo(db, addresses)
    finally:
        await db.close()


def _banner(summary: DemoSummary, url: str, credentials: Path) -> None:
    print(
        f"\nEHBO demo on {url}  (Ctrl-C stops it and its database)\n"
        f"  operator console  {url}/console\n"
        f"  volunteer app     {url}/app\n"
        f"  citizen report    {url}/report\n"
        f"  demo phone        {url}/demo/phone\n"
        f"  API docs          {url}/docs\n"
        f"  health            {url}/health\n"
        f"  local FCM server  {url}/fcm/_admin/messages\n"
        f"  local Web Push    {url}/webpush/_admin/messages\n"
        f"  operator token    {summary.operator_token}\n"
        f"  coordinator token {summary.coordinator_token}\n"
        f"  volunteers        {summary.volunteers or 'kept from the last run'}, "
        f"AEDs {summary.aeds or 'kept'}\n"
        f"  all demo tokens   {credentials}\n",
        flush=True,
    )
