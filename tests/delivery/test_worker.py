"""The outbox worker against the local FCM server, with firebase-admin as the client."""

from __future__ import annotations

import asyncio
import collections

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.db.gateway import Database
from responders.delivery import OutboxWorker
from responders.emulators.fcm import FaultKind, FcmServerState, FcmServerThread
from tests.delivery.conftest import alert_rows, outbox_count, seed_alerts


async def test_alert_reaches_the_phone_with_platform_fields(
    worker: OutboxWorker, fcm: FcmServerState, clean_db: AsyncEngine
) -> None:
    [android] = await seed_alerts(clean_db, 1, platform="android", tag="a")
    [ios] = await seed_alerts(clean_db, 1, platform="ios", tag="i")
    assert await worker.drain() == 2
    by_alert = {int(m.message["data"]["alert_id"]): m for m in fcm.messages()}
    android_msg, ios_msg = by_alert[android].message, by_alert[ios].message
    assert android_msg["android"]["priority"] == "high"
    assert android_msg["android"]["ttl"].endswith("s")
    assert 0 < int(android_msg["android"]["ttl"][:-1]) <= 300
    assert android_msg["android"]["notification"]["channel_id"]
    assert android_msg["android"]["collapse_key"].startswith("incident-")
    assert android_msg["data"]["kind"] == "alert" and android_msg["data"]["v"] == "1"
    aps = ios_msg["apns"]["payload"]["aps"]
    assert aps["sound"]["critical"] == 1 and aps["interruption-level"] == "critical"
    assert ios_msg["apns"]["headers"]["apns-priority"] == "10"
    rows = await alert_rows(clean_db)
    assert rows[android][0] == "sent" and rows[android][1] == by_alert[android].name
    assert await outbox_count(clean_db) == 0
    async with clean_db.connect() as conn:
        kinds = (
            (await conn.execute(text("SELECT kind FROM incident_events ORDER BY id")))
            .scalars()
            .all()
        )
    assert kinds == ["push_sent:alert", "push_sent:alert"]


async def test_unregistered_token_is_deleted_and_alert_fails(
    worker: OutboxWorker, fcm: FcmServerState, clean_db: AsyncEngine
) -> None:
    [alert] = await seed_alerts(clean_db, 1)
    fcm.fail_next(FaultKind.UNREGISTERED)
    await worker.drain()
    async with clean_db.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM devices"))).scalar_one() == 0
        due = (await conn.execute(text("SELECT replacements_due FROM incidents"))).scalar_one()
    status, _, error = (await alert_rows(clean_db))[alert]
    assert status == "failed" and "UNREGISTERED" in (error or "")
    assert due == 1, "a failed push is replaced like a decline"


async def test_invalid_argument_fails_without_retry(
    worker: OutboxWorker, fcm: FcmServerState, clean_db: AsyncEngine
) -> None:
    [alert] = await seed_alerts(clean_db, 1)
    fcm.fail_next(FaultKind.INVALID_ARGUMENT)
    await worker.drain()
    assert (await alert_rows(clean_db))[alert][0] == "failed"
    assert await outbox_count(clean_db) == 0
    assert fcm.stats()["outcomes"] == {"INVALID_ARGUMENT": 1}, "one attempt, no retry"


async def test_quota_exceeded_waits_for_retry_after_then_sends(
    worker: OutboxWorker, fcm: FcmServerState, clean_db: AsyncEngine
) -> None:
    [alert] = await seed_alerts(clean_db, 1)
    fcm.fail_next(FaultKind.QUOTA_EXCEEDED, retry_after_s=1)
    await worker.drain()
    async with clean_db.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT attempts, EXTRACT(EPOCH FROM available_at - now()) AS wait, last_error "
                    "FROM outbox"
                )
            )
        ).one()
    assert row.attempts == 1 and 0.8 < row.wait <= 1.0 and "QUOTA_EXCEEDED" in row.last_error
    await asyncio.sleep(1.1)
    await worker.drain()
    assert (await alert_rows(clean_db))[alert][0] == "sent"


async def test_unavailable_and_internal_retry_with_backoff(
    worker: OutboxWorker, fcm: FcmServerState, clean_db: AsyncEngine
) -> None:
    [alert] = await seed_alerts(clean_db, 1)
    fcm.fail_next(FaultKind.UNAVAILABLE)
    fcm.fail_next(FaultKind.INTERNAL)
    for _ in range(40):
        await worker.drain()
        if (await alert_rows(clean_db))[alert][0] == "sent":
            break
        await asyncio.sleep(0.1)
    assert (await alert_rows(clean_db))[alert][0] == "sent"
    assert len(fcm.messages()) == 1


async def test_volunteer_without_device_is_reported(
    worker: OutboxWorker, fcm: FcmServerState, clean_db: AsyncEngine
) -> None:
    [alert] = await seed_alerts(clean_db, 1, with_devices=False)
    await worker.drain()
    status, _, error = (await alert_rows(clean_db))[alert]
    assert status == "failed" and error == "the volunteer has no registered device"


async def test_retries_stop_at_expiry(
    worker: OutboxWorker, fcm: FcmServerState, clean_db: AsyncEngine
) -> None:
    [alert] = await seed_alerts(clean_db, 1, ttl_s=1)
    fcm.start_outage()
    for _ in range(30):
        await worker.drain()
        if await outbox_count(clean_db) == 0:
            break
        await asyncio.sleep(0.1)
    status, _, error = (await alert_rows(clean_db))[alert]
    assert status == "failed"
    assert "UNAVAILABLE" in (error or "") or "expired" in (error or "")


async def test_two_workers_send_each_alert_exactly_once(
    worker: OutboxWorker, fcm: FcmServerState, clean_db: AsyncEngine, fcm_server: FcmServerThread
) -> None:
    from responders.push import FcmConfig, PushClient
    from responders.settings import DatabaseSettings
    from tests.delivery.conftest import PROJECT, push_settings

    alerts = await seed_alerts(clean_db, 400)
    other_db = await Database.open(DatabaseSettings(url=clean_db.url.render_as_string(False)))
    other_client = PushClient(
        FcmConfig(project_id=PROJECT, endpoint=fcm_server.url, target_field="token")
    )
    second = OutboxWorker(
        other_db, other_client, push_settings(fcm_server.url, batch_size=25), ttl_s=300
    )
    worker._settings = push_settings(fcm_server.url, batch_size=25)
    try:
        counts = await asyncio.gather(worker.drain(), second.drain())
    finally:
        other_client.close()
        await other_db.close()
    assert sum(counts) == 400 and min(counts) > 0, counts
    per_alert = collections.Counter(int(m.message["data"]["alert_id"]) for m in fcm.messages())
    assert set(per_alert) == set(alerts)
    assert set(per_alert.values()) == {1}
    assert {row[0] for row in (await alert_rows(clean_db)).values()} == {"sent"}


async def test_claim_lease_setting_is_the_lease_of_claimed_rows(
    fcm: FcmServerState, clean_db: AsyncEngine, db: Database, fcm_server: FcmServerThread
) -> None:
    """EHBO_FCM_CLAIM_LEASE_S: how long a claimed row stays out of other workers' reach (and
    a dead worker's row waits); never shorter than twice the FCM timeout."""
    from responders.push import FcmConfig, PushClient
    from tests.delivery.conftest import PROJECT, push_settings

    client = PushClient(
        FcmConfig(project_id=PROJECT, endpoint=fcm_server.url, target_field="token")
    )
    fcm.latency_s = 0.5  # the rows stay leased while the batch is on the wire
    leases = []
    try:
        for lease_s, expected in ((45.0, 45.0), (1.0, 4.0)):  # the floor: twice timeout_s (2 s)
            await seed_alerts(clean_db, 1, tag=f"lease{lease_s}")
            settings = push_settings(fcm_server.url, claim_lease_s=lease_s)
            sending = asyncio.create_task(
                OutboxWorker(db, client, settings, ttl_s=300).process_batch()
            )
            for _ in range(100):
                async with clean_db.connect() as conn:
                    left = (
                        await conn.execute(
                            text(
                                "SELECT EXTRACT(EPOCH FROM leased_until - now()) FROM outbox "
                                "WHERE leased_until IS NOT NULL"
                            )
                        )
                    ).scalar_one_or_none()
                if left is not None:
                    break
                await asyncio.sleep(0.02)
            assert await sending == 1
            assert left is not None, "no row was ever leased"
            leases.append((float(left), expected))
    finally:
        client.close()
    for left, expected in leases:
        assert expected - 1.0 < left <= expected
