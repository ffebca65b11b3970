"""The worker under faults: killed mid-send, and a 30-second FCM outage."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.delivery import OutboxWorker
from responders.push import FcmServerState, FcmServerThread
from tests.delivery.conftest import PROJECT, alert_rows, outbox_count, seed_alerts

_HELD = text(
    """
    SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE c.relname = 'outbox' AND l.mode = 'RowShareLock' AND l.pid <> pg_backend_pid()
    """
)


def _worker_process(database_url: str, endpoint: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EHBO_DB_URL": database_url,
        "EHBO_FCM_ENDPOINT": endpoint,
        "EHBO_FCM_PROJECT_ID": PROJECT,
        "EHBO_FCM_TIMEOUT_S": "30",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "responders", "worker"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _wait_for(predicate, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_worker_killed_between_claim_and_record_loses_nothing(
    worker: OutboxWorker,
    fcm: FcmServerState,
    fcm_server: FcmServerThread,
    clean_db: AsyncEngine,
) -> None:
    alerts = await seed_alerts(clean_db, 30)
    fcm.latency_s = 5.0  # every send hangs while the rows are claimed
    process = _worker_process(clean_db.url.render_as_string(hide_password=False), fcm_server.url)
    try:

        async def claimed() -> bool:
            async with clean_db.connect() as conn:
                return bool((await conn.execute(_HELD)).scalar_one())

        await _wait_for(claimed, 30)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        process.kill()
    fcm.latency_s = 0.0
    assert await outbox_count(clean_db) == 30, "the killed worker recorded nothing"
    await worker.drain()
    assert await outbox_count(clean_db) == 0
    assert {row[0] for row in (await alert_rows(clean_db)).values()} == {"sent"}
    per_alert = collections.Counter(int(m.message["data"]["alert_id"]) for m in fcm.messages())
    assert set(per_alert) == set(alerts)
    # The only duplicates are pushes the dead worker had on the wire: at most one each.
    assert max(per_alert.values()) <= 2


async def test_thirty_second_outage_then_recovery_delivers_everything(
    worker: OutboxWorker, fcm: FcmServerState, clean_db: AsyncEngine
) -> None:
    alerts = await seed_alerts(clean_db, 30, ttl_s=300)
    fcm.start_outage(duration_s=30)
    started = time.monotonic()
    run = asyncio.create_task(worker.run())
    try:

        async def all_sent() -> bool:
            return await outbox_count(clean_db) == 0

        await _wait_for(all_sent, 60)
    finally:
        run.cancel()
    assert time.monotonic() - started >= 29
    rows = await alert_rows(clean_db)
    assert {rows[a][0] for a in alerts} == {"sent"}
    assert fcm.stats()["outcomes"].get("UNAVAILABLE", 0) > 30, "it kept retrying"
    assert len(fcm.messages()) == 30
