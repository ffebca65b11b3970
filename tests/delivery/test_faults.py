"""The worker under faults: killed mid-send, stopped mid-send, an FCM outage, a slow FCM.

The duplicate bound asserted here is the README's ("Delivery"): a push goes out at most once
more for each worker that dies with it on the wire, and at most `MAX_UNCONFIRMED` times when
FCM does not answer in time.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.db.gateway import Database
from responders.delivery import OutboxWorker
from responders.delivery.worker import MAX_UNCONFIRMED
from responders.emulators.fcm import FcmServerState, FcmServerThread
from tests.delivery.conftest import PROJECT, alert_rows, outbox_count, seed_alerts

# A worker has rows in hand: leased (today), or locked for the send (before issue 12, #9).
_CLAIMED = text(
    """
    SELECT (SELECT count(*) FROM outbox WHERE leased_until > now())
         + (SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
            WHERE c.relname = 'outbox' AND l.mode = 'RowShareLock'
              AND l.pid <> pg_backend_pid())
    """
)


def _worker_process(database_url: str, endpoint: str, **settings: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EHBO_DB_URL": database_url,
        "EHBO_FCM_ENDPOINT": endpoint,
        "EHBO_FCM_PROJECT_ID": PROJECT,
        "EHBO_FCM_TIMEOUT_S": "30",
        **{f"EHBO_FCM_{name.upper()}": value for name, value in settings.items()},
    }
    return subprocess.Popen(
        [sys.executable, "-m", "responders", "worker"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _wait_for(predicate: Callable[[], Awaitable[bool]], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _per_alert(fcm: FcmServerState) -> collections.Counter[int]:
    return collections.Counter(int(m.message["data"]["alert_id"]) for m in fcm.messages())


async def test_worker_killed_between_claim_and_record_loses_nothing(
    worker: OutboxWorker,
    fcm: FcmServerState,
    fcm_server: FcmServerThread,
    clean_db: AsyncEngine,
) -> None:
    alerts = await seed_alerts(clean_db, 30)
    fcm.latency_s = 5.0  # every send hangs while the rows are claimed
    url = clean_db.url.render_as_string(hide_password=False)
    # A lease of 4 s (twice the timeout): the dead worker's rows are due again after it.
    process = _worker_process(url, fcm_server.url, timeout_s="2", claim_lease_s="4")
    try:

        async def claimed() -> bool:
            async with clean_db.connect() as conn:
                return bool((await conn.execute(_CLAIMED)).scalar_one())

        await _wait_for(claimed, 30)
        killed = time.monotonic()
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        process.kill()
    fcm.latency_s = 0.0
    # The sends the dead worker left on the wire land within the latency: count them here,
    # not in the next test.
    landed = asyncio.create_task(asyncio.sleep(killed + 5.5 - time.monotonic()))
    assert await outbox_count(clean_db) == 30, "the killed worker recorded nothing"

    async def drained() -> bool:
        await worker.drain()
        return await outbox_count(clean_db) == 0

    await _wait_for(drained, 15)  # once the dead worker's lease has run out
    await landed
    assert {row[0] for row in (await alert_rows(clean_db)).values()} == {"sent"}
    per_alert = _per_alert(fcm)
    assert set(per_alert) == set(alerts)
    # The only duplicates are pushes the dead worker had on the wire: at most one each,
    # and only for its one small batch.
    assert max(per_alert.values()) <= 2
    assert sum(per_alert.values()) - len(alerts) <= worker._settings.batch_size


async def test_outage_then_recovery_drains_the_backlog_at_once(
    fcm_server: FcmServerThread, fcm: FcmServerState, clean_db: AsyncEngine, db: Database
) -> None:
    """With the shipped backoff settings, an 8-second outage: every push is out within a few
    seconds of FCM's return (the backoff cap is short, and the first success makes every
    waiting row due at once), not up to a whole capped backoff (30 s before) later."""
    from responders.delivery.process import fcm_config
    from responders.push import PushClient
    from responders.settings import PushSettings

    settings = PushSettings(project_id=PROJECT, endpoint=fcm_server.url, target_field="token")
    client = PushClient(fcm_config(settings))
    alerts = await seed_alerts(clean_db, 30, ttl_s=300)
    outage_s = 8.0
    fcm.start_outage(duration_s=outage_s)
    started = time.monotonic()
    run = asyncio.create_task(OutboxWorker(db, client, settings, ttl_s=300).run())
    try:

        async def all_sent() -> bool:
            return await outbox_count(clean_db) == 0

        await _wait_for(all_sent, 60)
    finally:
        run.cancel()
        client.close()
    after_recovery = time.monotonic() - started - outage_s
    rows = await alert_rows(clean_db)
    assert {rows[a][0] for a in alerts} == {"sent"}
    assert fcm.stats()["outcomes"].get("UNAVAILABLE", 0) > 30, "it kept retrying"
    assert len(fcm.messages()) == 30
    assert -0.5 < after_recovery < 4.0, f"the backlog drained {after_recovery:.1f} s after"


async def test_slow_fcm_sends_each_alert_at_most_max_unconfirmed_times(
    worker: OutboxWorker, fcm: FcmServerState, clean_db: AsyncEngine
) -> None:
    """FCM answers after the client gave up (2.5 s vs 2 s) but delivers every push: each
    alert goes out at most `MAX_UNCONFIRMED` times, then counts as sent, unconfirmed."""
    alerts = await seed_alerts(clean_db, 10, ttl_s=60)
    fcm.latency_s = 2.5
    run = asyncio.create_task(worker.run())
    try:
        for _ in range(150):  # 15 s: before the fix it went on until the alerts expired
            if not await outbox_count(clean_db):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # sends FCM was still working on when the client gave up
    finally:
        run.cancel()
    per_alert = _per_alert(fcm)
    assert set(per_alert) == set(alerts), "every alert reached FCM"
    assert max(per_alert.values()) <= MAX_UNCONFIRMED, per_alert
    assert await outbox_count(clean_db) == 0, "nothing is left to resend"
    rows = await alert_rows(clean_db)
    assert {rows[a][0] for a in alerts} == {"sent"}
    assert all("did not confirm" in (rows[a][2] or "") for a in alerts)


async def test_sigterm_stops_the_worker_promptly_and_hands_back_its_rows(
    fcm_server: FcmServerThread, fcm: FcmServerState, clean_db: AsyncEngine
) -> None:
    """A stopping worker finishes the send on the wire (bounded by the FCM timeout, 1 s
    here), hands back what it leased due at once, and exits 0."""
    await seed_alerts(clean_db, 10)
    fcm.latency_s = 4.0  # the send is on the wire when the signal comes
    url = clean_db.url.render_as_string(hide_password=False)
    process = _worker_process(url, fcm_server.url, timeout_s="1", claim_lease_s="60")
    try:

        async def claimed() -> bool:
            async with clean_db.connect() as conn:
                return bool((await conn.execute(_CLAIMED)).scalar_one())

        await _wait_for(claimed, 30)
        asked = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(10)
        took = time.monotonic() - asked
    finally:
        process.kill()
    assert code == 0
    assert took < 1.0 + 2.5, f"still alive {took:.1f} s after SIGTERM"
    async with clean_db.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT count(*) AS n, count(*) FILTER (WHERE leased_until IS NULL "
                    "AND available_at <= now()) AS due FROM outbox"
                )
            )
        ).one()
    assert row.n == 10 and row.due == 10, "every row it held is due again at once"
    await asyncio.sleep(asked + 4.5 - time.monotonic())  # the abandoned sends land here
