"""`ehbo worker`: the push worker as a process of its own (no web app, no graph)."""

from __future__ import annotations

import asyncio
import signal

from responders.db.bootstrap import prepared_database
from responders.db.gateway import Database
from responders.delivery.worker import OutboxWorker
from responders.heap import freeze_long_lived
from responders.push import Deliverer, FcmConfig, PushClient, WebPushClient, load_vapid_key
from responders.settings import PushSettings, Settings, WebPushSettings

__all__ = ["deliverer", "fcm_config", "run_worker", "webpush_client", "work"]

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def fcm_config(settings: PushSettings) -> FcmConfig:
    return FcmConfig(
        project_id=settings.project_id,
        endpoint=settings.endpoint,
        service_account_file=settings.service_account_file,
        timeout_s=settings.timeout_s,
        target_field=settings.target_field,
    )


def webpush_client(settings: WebPushSettings) -> WebPushClient | None:
    """The Web Push channel, or None when it is switched off."""
    if not settings.enabled:
        return None
    return WebPushClient(
        load_vapid_key(settings),
        timeout_s=settings.timeout_s,
        allow_loopback=settings.allow_loopback,
    )


def deliverer(settings: Settings) -> Deliverer:
    """Both channels, as the settings configure them."""
    fcm = PushClient(fcm_config(settings.push))
    try:
        return Deliverer(fcm=fcm, webpush=webpush_client(settings.webpush))
    except BaseException:
        fcm.close()
        raise


async def work(settings: Settings, *, own_process: bool = False) -> None:
    """Runs until cancelled (or, in a process of its own, until SIGTERM or SIGINT asks it to
    stop: it finishes the send on the wire, hands back what it leased, and returns). In a
    process of its own it freezes the heap it has loaded; inside the API the app does that,
    as its `freeze_heap` setting says.

    Its pool may grow to `EHBO_DB_CONNECTIONS`, but the worker uses one connection at a
    time (and one more to LISTEN): one is kept open."""
    db = await Database.open(settings.db, min_size=1)
    client = deliverer(settings)
    worker = OutboxWorker(db, client, settings.push, settings.dispatch.alert_ttl_s)
    loop = asyncio.get_running_loop()
    if own_process:
        freeze_long_lived()
        for signum in _STOP_SIGNALS:
            loop.add_signal_handler(signum, worker.stop)
    try:
        await worker.run()
    finally:
        if own_process:
            for signum in _STOP_SIGNALS:
                loop.remove_signal_handler(signum)
        client.close()
        await db.close()


def run_worker(settings: Settings) -> int:
    with prepared_database(settings.db, stop=False) as database:
        db = settings.db.model_copy(update={"url": database.url})
        asyncio.run(work(settings.model_copy(update={"db": db}), own_process=True))
    return 0
