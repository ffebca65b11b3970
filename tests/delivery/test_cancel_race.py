"""A cancel at any moment after a dispatch, while the push worker sends (issue 12, #9).

The worker used to hold its claimed outbox rows locked for the whole send and then lock the
alerts, while a cancel locked the alerts and then deleted their outbox rows: a deadlock that
PostgreSQL broke after a second by aborting one side, often the cancel (503 "the database is
not reachable"), leaving the incident active with every alert open.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.db.gateway import Database
from responders.delivery import OutboxWorker
from responders.emulators.fcm import FcmServerState
from responders.settings import Settings
from routing import Router
from tests.helpers import INCIDENT, offset, place_volunteer, report

_VOLUNTEERS = 24
_ROUNDS = 10
_OPEN = ("queued", "sent", "delivered", "accepted")


async def _rounds(client: httpx.AsyncClient, headers: dict[str, str]) -> list[tuple[int, str]]:
    rng = random.Random(12)
    ended = []
    for _ in range(_ROUNDS):
        incident = await report(client, headers, *INCIDENT)
        assert incident["alerts"], "the volunteers were free again"
        await asyncio.sleep(rng.uniform(0.0, 2.0))
        cancel = await client.post(
            f"/incidents/{incident['id']}/cancel", headers=headers, json={"reason": "duplicate"}
        )
        assert cancel.status_code == 200, cancel.text
        ended.append((cancel.status_code, cancel.text))
    return ended


@pytest_asyncio.fixture(loop_scope="session")
async def app(
    settings: Settings, helsinki_router: Router, clean_db: AsyncEngine
) -> AsyncIterator[FastAPI]:
    """The suite's app, with a daily cap that ten alerts in a row do not reach."""
    dispatch = settings.dispatch.model_copy(update={"daily_alert_cap": 100})
    application = create_app(
        settings.model_copy(update={"dispatch": dispatch}), router=helsinki_router
    )
    async with application.router.lifespan_context(application):
        yield application


async def test_cancels_at_random_moments_after_dispatch_all_succeed(
    app: FastAPI,
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    worker: OutboxWorker,
    fcm: FcmServerState,
) -> None:
    for n in range(_VOLUNTEERS):
        await place_volunteer(client, *offset(*INCIDENT, 40 + 25 * n, 10 * (n % 5)))
    fcm.latency_s = 0.3  # a send is on the wire for a while: cancels land during sends
    run = asyncio.create_task(worker.run())
    try:
        ended = await _rounds(client, operator_headers)
    finally:
        run.cancel()
    assert [(code, body) for code, body in ended if code != 200] == []
    db: Database = app.state.db
    rows = await db.rows("SELECT id, status FROM incidents")
    statuses = {row["id"]: row["status"] for row in rows}
    still_open = await db.scalar(
        "SELECT count(*) FROM alerts WHERE status = ANY(%(open)s)", {"open": list(_OPEN)}
    )
    assert set(statuses.values()) == {"cancelled"}
    assert len(statuses) == _ROUNDS
    assert still_open == 0
    assert fcm.messages(), "the worker was sending all along"
