"""The outbox worker: woken by NOTIFY (polling as a safety net), sends, records, retries.

Several workers on one or several machines may run at once; see `outbox` for why no row is
sent twice at once and how a crash is recovered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from responders.db.listen import libpq_dsn, listen_forever
from responders.delivery import outbox
from responders.delivery.messages import Claimed, Device, push_for
from responders.push import PushClient, PushMessage, SendOutcome, SendResult
from responders.settings import PushSettings

__all__ = ["OutboxWorker", "backoff_s"]

log = logging.getLogger(__name__)


def backoff_s(
    attempts: int, retry_after_s: float | None, settings: PushSettings, rng: random.Random
) -> float:
    """Exponential backoff with jitter, never sooner than the server's Retry-After."""
    ceiling = min(settings.backoff_max_s, settings.backoff_base_s * 2**attempts)
    return max(retry_after_s or 0.0, rng.uniform(ceiling / 2, ceiling))


@dataclass
class _Send:
    item: Claimed
    device: Device
    message: PushMessage


class OutboxWorker:
    def __init__(
        self, engine: AsyncEngine, client: PushClient, settings: PushSettings, ttl_s: int
    ) -> None:
        self._engine = engine
        self._client = client
        self._settings = settings
        self._ttl_s = ttl_s
        self._wake = asyncio.Event()
        self._rng = random.Random()

    async def run(self) -> None:
        """Until cancelled: drain the outbox whenever woken, or every poll interval."""
        dsn = libpq_dsn(self._engine.url.render_as_string(hide_password=False))
        listener = asyncio.create_task(
            listen_forever(dsn, "outbox", lambda _: self._wake.set(), self._wake.set)
        )
        try:
            while True:
                await self._drain_safely()
                await self._sleep()
        finally:
            listener.cancel()

    async def _sleep(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._settings.poll_interval_s)
        self._wake.clear()

    async def _drain_safely(self) -> None:
        try:
            await self.drain()
        except Exception:
            log.warning("outbox round failed; retrying", exc_info=True)

    async def drain(self) -> int:
        """Process batches until nothing is due; returns the number of rows handled."""
        handled = 0
        while count := await self.process_batch():
            handled += count
        return handled

    async def process_batch(self) -> int:
        async with self._engine.begin() as conn:
            items = await outbox.claim(conn, self._settings.batch_size)
            if items:
                await self._deliver(conn, items)
            return len(items)

    async def _deliver(self, conn: AsyncConnection, items: Sequence[Claimed]) -> None:
        live = [item for item in items if await self._still_wanted(conn, item)]
        devices = await outbox.devices_of(conn, [i.responder_id for i in live if i.responder_id])
        sends: list[_Send] = []
        for item in live:
            mine = devices.get(item.responder_id or 0, [])
            if not mine:
                await outbox.fail(conn, item, "the volunteer has no registered device")
                continue
            ttl = max(1, min(self._ttl_s, int(item.seconds_left)))
            sends.extend(_Send(item, d, push_for(item, d, ttl)) for d in mine)
        if sends:
            results = await asyncio.to_thread(self._client.send, [s.message for s in sends])
            await self._record(conn, sends, results)

    async def _still_wanted(self, conn: AsyncConnection, item: Claimed) -> bool:
        if item.responder_id is None or (item.kind == "alert" and item.alert_status != "queued"):
            await outbox.withdraw(conn, item)
            return False
        if item.seconds_left <= 0:
            await outbox.fail(conn, item, "expired before it could be delivered")
            return False
        return True

    async def _record(
        self, conn: AsyncConnection, sends: Sequence[_Send], results: Sequence[SendResult]
    ) -> None:
        by_item: dict[int, list[tuple[_Send, SendResult]]] = defaultdict(list)
        for send, result in zip(sends, results, strict=True):
            by_item[send.item.outbox_id].append((send, result))
            if result.outcome is SendOutcome.UNREGISTERED:
                await outbox.drop_device(conn, send.device)
        delivered: list[tuple[Claimed, str]] = []
        for pairs in by_item.values():
            item, outcomes = pairs[0][0].item, [r for _, r in pairs]
            # One device that got it is enough.
            reached = [r for r in outcomes if r.outcome is SendOutcome.SENT]
            if reached:
                delivered.append((item, reached[0].message_id or ""))
            else:
                await self._not_sent(conn, item, outcomes)
        await outbox.sent(conn, delivered)

    async def _not_sent(
        self, conn: AsyncConnection, item: Claimed, results: Sequence[SendResult]
    ) -> None:
        retry = [r for r in results if r.outcome is SendOutcome.RETRY]
        error = "; ".join(sorted({r.error_code or r.outcome.value for r in results}))
        if not retry:
            await outbox.fail(conn, item, error)
            return
        retry_after = max((r.retry_after_s or 0.0) for r in retry)
        delay = backoff_s(item.attempts, retry_after, self._settings, self._rng)
        if delay >= item.seconds_left:
            await outbox.fail(conn, item, f"gave up after {item.attempts + 1} attempts: {error}")
        else:
            await outbox.reschedule(conn, item, delay, error)
