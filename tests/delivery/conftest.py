"""Worker fixtures: the local FCM server, the push channels, alerts seeded straight into SQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.db.gateway import Database
from responders.delivery import OutboxWorker
from responders.emulators.fcm import FcmServerState, FcmServerThread
from responders.push import Deliverer, FcmConfig, PushClient, WebPushClient, load_vapid_key
from responders.settings import PushSettings, Settings

PROJECT = "ehbo-worker-test"


@pytest.fixture
def fcm(fcm_state: FcmServerState) -> FcmServerState:
    """The session's emulator (tests/conftest.py), clean around the test."""
    return fcm_state


def push_settings(endpoint: str, **overrides: Any) -> PushSettings:
    values: dict[str, Any] = {
        "project_id": PROJECT,
        "endpoint": endpoint,
        "timeout_s": 2.0,
        "backoff_base_s": 0.05,
        "backoff_max_s": 0.5,
    }
    return PushSettings(**{**values, **overrides})


def webpush_client(settings: Settings) -> WebPushClient:
    """The Web Push channel with the session's VAPID key, allowed to reach 127.0.0.1."""
    return WebPushClient(load_vapid_key(settings.webpush), timeout_s=2.0, allow_loopback=True)


@pytest_asyncio.fixture(loop_scope="session")
async def worker(
    clean_db: AsyncEngine, db: Database, fcm_server: FcmServerThread, settings: Settings
) -> AsyncIterator[OutboxWorker]:
    """A worker on the suite's gateway, on a clean database, with both channels."""
    fcm = PushClient(
        FcmConfig(project_id=PROJECT, endpoint=fcm_server.url, timeout_s=2.0, target_field="token")
    )
    channels = Deliverer(fcm=fcm, webpush=webpush_client(settings))
    yield OutboxWorker(db, channels, push_settings(fcm_server.url), ttl_s=300)
    channels.close()


_SEED = text(
    """
    WITH incident AS (
        INSERT INTO incidents (kind, location, source, status, wave, radius_m)
        VALUES ('cardiac_arrest', ST_GeogFromText('POINT(24.94 60.17)'), 'dispatch', 'active',
                1, 1000) RETURNING id
    ), people AS (
        INSERT INTO responders (name, phone, email)
        SELECT 'V' || n, '+358400000000', 'v' || n || '-' || :tag || '@example.org'
        FROM generate_series(1, :n) n RETURNING id
    ), phones AS (
        INSERT INTO devices (responder_id, fcm_token, platform)
        SELECT id, 'tok-' || id, :platform FROM people WHERE :with_devices RETURNING id
    ), queued AS (
        INSERT INTO alerts (incident_id, responder_id, wave, role, walk_seconds, straight_m,
                            expires_at)
        SELECT incident.id, people.id, 1, 'direct', 120, 200,
               now() + make_interval(secs => :ttl)
        FROM incident, people RETURNING id, expires_at
    )
    INSERT INTO outbox (alert_id, kind, expires_at) SELECT id, 'alert', expires_at FROM queued
    RETURNING alert_id
    """
)


async def seed_alerts(
    engine: AsyncEngine,
    n: int,
    *,
    platform: str = "android",
    with_devices: bool = True,
    ttl_s: int = 300,
    tag: str = "a",
) -> list[int]:
    async with engine.begin() as conn:
        rows = await conn.execute(
            _SEED,
            {"n": n, "platform": platform, "ttl": ttl_s, "with_devices": with_devices, "tag": tag},
        )
        return sorted(rows.scalars())


async def alert_rows(engine: AsyncEngine) -> dict[int, tuple[str, str | None, str | None]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT id, status, fcm_message_id, push_error FROM alerts ORDER BY id")
        )
        return {r.id: (r.status, r.fcm_message_id, r.push_error) for r in rows}


async def outbox_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one())
