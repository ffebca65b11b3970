"""The outbox worker: woken by NOTIFY (polling as a safety net), sends, records, retries.

Each alert goes to every device of its volunteer over that device's channel (FCM or Web
Push, `responders.push.channels.Deliverer`): one batch, one outbox, the same retries,
receipts and failure handling for both. One device that got it is enough.

Several workers on one or several machines may run at once; see `store` for why no row is
sent twice at once and how a crash is recovered. One round is three short transactions: lease
a small batch, look at it (withdraw the moot, fail the expired, find the devices), and after
the send record each outcome. Nothing is locked while the batch is on the wire.

It uses one connection of its `Database` at a time, and one for LISTEN.

Duplicate pushes are bounded (README, "Delivery"): a crash re-sends at most the batch that
was on the wire (`EHBO_FCM_BATCH_SIZE`), and a push its push service did not answer in
time — which may still have reached the phone — is sent at most `MAX_UNCONFIRMED` times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from responders.background import pause
from responders.db.gateway import Conn, Database
from responders.db.listen import listen_forever
from responders.delivery import store
from responders.delivery.messages import Claimed, Device, push_for
from responders.delivery.store import Sent
from responders.dispatch import timeline
from responders.push import Channel, PushMessage, SendOutcome, SendResult, as_deliverer
from responders.settings import PushSettings
from responders.states import SETTLED, AlertStatus

__all__ = ["MAX_UNCONFIRMED", "OutboxWorker", "backoff_s"]

log = logging.getLogger(__name__)

# Sends of one push that the push service did not answer in time (it may have delivered
# them): after this many the push is recorded as sent but unconfirmed, and not sent again.
MAX_UNCONFIRMED = 2
# The push service answered nothing within the client's timeout: the request went out, its
# fate unknown (both channels report this code).
_UNCONFIRMED_CODES = frozenset({"DEADLINE_EXCEEDED"})
# A row due now that another worker is claiming this very moment: look again shortly, not
# in a busy loop.
_MIN_SLEEP_S = 0.05


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
    def __init__(self, db: Database, client: Channel, settings: PushSettings, ttl_s: int) -> None:
        """`client`: a `Deliverer` over the channels, or one bare channel (a `PushClient`),
        which is then the FCM channel and Web Push devices fail as not configured."""
        self._db = db
        self._client = as_deliverer(client)
        self._settings = settings
        self._ttl_s = ttl_s
        self._wake = asyncio.Event()
        self._rng = random.Random()
        self._stopping = False
        # The push service failed the last send that reached it: the next success drains
        # the backlog.
        self._failing = False

    def stop(self) -> None:
        """Finish the batch on the wire (bounded by the push timeout), hand back the rest of
        what is leased, and return from `run`. Safe to call from a signal handler."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Until stopped or cancelled: drain the outbox whenever woken, or every poll interval."""
        listener = asyncio.create_task(
            listen_forever(self._db.dsn, "outbox", lambda _: self._wake.set(), self._wake.set)
        )
        try:
            while not self._stopping:
                await self._drain_safely()
                await self._sleep()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _sleep(self) -> None:
        """Until woken, the next row comes due (a backoff ends: no NOTIFY says so), or the
        poll interval passes."""
        if self._stopping:
            return
        await pause(0)  # a cancel a round swallowed still stops the worker (`background`)
        timeout = self._settings.poll_interval_s
        with contextlib.suppress(Exception):  # the poll interval is the safety net
            timeout = min(timeout, await store.next_due_in(self._db))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(_MIN_SLEEP_S, timeout))
        self._wake.clear()

    async def _drain_safely(self) -> None:
        try:
            await self.drain()
        except Exception:
            log.warning("outbox round failed; retrying", exc_info=True)

    async def drain(self) -> int:
        """Process batches until nothing is due; returns the number of rows handled."""
        handled = 0
        while not self._stopping and (count := await self.process_batch()):
            handled += count
        return handled

    async def process_batch(self) -> int:
        settings = self._settings
        # Longer than a send can take (twice the push timeout at least), or a slow send's
        # rows would go to a second worker and out twice.
        lease_s = max(settings.claim_lease_s, 2 * settings.timeout_s)
        items = await self._db.run(
            lambda conn: store.claim(conn, limit=settings.batch_size, lease_s=lease_s)
        )
        if not items:
            return 0
        recorded = False
        try:
            sends = await self._db.run(lambda conn: self._prepare(conn, items))
            if sends:
                results = await asyncio.to_thread(self._client.send, [s.message for s in sends])
                self._failing = await self._db.run(lambda conn: self._record(conn, sends, results))
            recorded = True
        finally:
            if not recorded:  # cancelled or failed mid-round: the rows are due again now
                await self._release(items)
        return len(items)

    async def _release(self, items: Sequence[Claimed]) -> None:
        try:
            await self._db.run(lambda conn: store.release(conn, items))
        except Exception:  # the lease runs out on its own
            log.warning("could not release %d leased outbox rows", len(items), exc_info=True)

    async def _prepare(self, conn: Conn, items: Sequence[Claimed]) -> list[_Send]:
        """Withdraws or fails what must not go out; the messages for the rest."""
        await store.lock_incidents_then_alerts(conn, items)
        live = [item for item in items if await self._still_wanted(conn, item)]
        devices = await store.devices_of(conn, [i.responder_id for i in live if i.responder_id])
        sends: list[_Send] = []
        for item in live:
            mine = devices.get(item.responder_id or 0, [])
            if not mine:
                await _fail(conn, item, "the volunteer has no registered device")
                continue
            ttl = max(1, min(self._ttl_s, int(item.seconds_left)))
            sends.extend(_Send(item, d, push_for(item, d, ttl)) for d in mine)
        return sends

    async def _still_wanted(self, conn: Conn, item: Claimed) -> bool:
        if (
            item.responder_id is None
            or (item.kind == "alert" and item.alert_status != AlertStatus.QUEUED)
            # A correction's news is moot once the volunteer said no or was stood down.
            or (item.kind == "update" and item.alert_status in SETTLED)
        ):
            await store.withdraw(conn, item)  # moot: answered or stood down before it went out
            return False
        if item.seconds_left <= 0:
            await _fail(conn, item, "expired before it could be delivered")
            return False
        return True

    async def _record(
        self, conn: Conn, sends: Sequence[_Send], results: Sequence[SendResult]
    ) -> bool:
        """Writes each outcome; returns whether the push service is failing (nothing of this
        batch got through and something was refused)."""
        items = list({s.item.outbox_id: s.item for s in sends}.values())
        await store.lock_incidents_then_alerts(conn, items)
        by_item: dict[int, list[tuple[_Send, SendResult]]] = defaultdict(list)
        for send, result in zip(sends, results, strict=True):
            by_item[send.item.outbox_id].append((send, result))
            if result.outcome is SendOutcome.UNREGISTERED:
                # The app was removed or its token rotated (FCM), or the subscription expired
                # or was dropped (Web Push 404/410): the device is gone for good.
                await store.drop_device(conn, send.device)
        done: list[Sent] = []
        reached_service = failed_at_service = recovered = False
        for pairs in by_item.values():
            item, outcomes = pairs[0][0].item, [r for _, r in pairs]
            # One device that got it is enough.
            reached = [r for r in outcomes if r.outcome is SendOutcome.SENT]
            if reached:
                reached_service = True
                recovered |= item.attempts > 0
                done.append(Sent(item, reached[0].message_id or ""))
            elif unconfirmed_error := self._given_up_unconfirmed(item, outcomes):
                done.append(Sent(item, None, unconfirmed_error))
            else:
                failed_at_service = True
                await self._not_sent(conn, item, outcomes)
        await store.record_sent(conn, done)
        if reached_service and (self._failing or recovered):
            # The backlog drains at once instead of each row sleeping out its own delay.
            drained = await store.retry_now(conn)
            log.info("pushes get through again: %d waiting pushes are due now", drained)
        return failed_at_service and not reached_service

    @staticmethod
    def _given_up_unconfirmed(item: Claimed, results: Sequence[SendResult]) -> str | None:
        """After `MAX_UNCONFIRMED` sends that the push service may have delivered without
        saying so, the push counts as sent: another try would most likely be another
        duplicate."""
        if not _unconfirmed(results) or item.unconfirmed + 1 < MAX_UNCONFIRMED:
            return None
        return (
            f"the push service did not confirm the push in time ({MAX_UNCONFIRMED} tries); "
            "it may not have arrived"
        )

    async def _not_sent(self, conn: Conn, item: Claimed, results: Sequence[SendResult]) -> None:
        retry = [r for r in results if r.outcome is SendOutcome.RETRY]
        error = "; ".join(sorted({r.error_code or r.outcome.value for r in results}))
        if not retry:
            await _fail(conn, item, error)
            return
        retry_after = max((r.retry_after_s or 0.0) for r in retry)
        delay = backoff_s(item.attempts, retry_after, self._settings, self._rng)
        if delay >= item.seconds_left:
            await _fail(conn, item, f"gave up after {item.attempts + 1} attempts: {error}")
            return
        # A stopping worker hands the row back due now: the next worker should not wait.
        await store.reschedule(
            conn,
            item,
            delay_s=0.0 if self._stopping else delay,
            error=error,
            unconfirmed=_unconfirmed(results),
        )


async def _fail(conn: Conn, item: Claimed, reason: str) -> None:
    """Give up: the operator sees it, and a failed alert is replaced like a decline."""
    await store.withdraw(conn, item)
    await timeline.record(
        conn,
        item.incident_id,
        f"push_failed:{item.kind}",
        item.alert_id,
        reason=reason,
        attempts=item.attempts + 1,
    )
    if item.kind == "alert":
        await store.fail_alert(conn, item.alert_id, reason)


def _unconfirmed(results: Sequence[SendResult]) -> bool:
    return any(r.error_code in _UNCONFIRMED_CODES for r in results)
