"""Faults for real: the embedded PostGIS is stopped and started again under a running service;
a dispatch fails half-way; the FCM server is slow while incidents come in."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.db.cluster import Cluster
from responders.delivery import OutboxWorker
from responders.push import FcmConfig, FcmServerThread, PushClient
from responders.settings import DatabaseSettings, PushSettings, Settings
from routing import Point, Router
from tests.conftest import embedded_cluster
from tests.dispatch.conftest import alerted, place_volunteer, report

INCIDENT = (60.1735, 24.9445)
# The incident as an operator posts it, for the posts that are meant to fail or stall.
POSTED = {"kind": "cardiac_arrest", "location": {"lat": INCIDENT[0], "lon": INCIDENT[1]}}
NEARBY = [(60.1744, 24.9445), (60.1750, 24.9440), (60.1728, 24.9450)]


@pytest.fixture
def cluster() -> Cluster:
    if DatabaseSettings().url:
        pytest.skip("restarting the database needs the embedded cluster, not DATABASE_URL")
    return embedded_cluster()


@pytest_asyncio.fixture(loop_scope="session")
async def fcm() -> AsyncIterator[FcmServerThread]:
    with FcmServerThread() as server:
        yield server


def _worker(app: FastAPI, fcm: FcmServerThread) -> tuple[OutboxWorker, PushClient]:
    client = PushClient(
        FcmConfig(project_id="faults", endpoint=fcm.url, timeout_s=10, target_field="token")
    )
    settings = PushSettings(project_id="faults", endpoint=fcm.url, backoff_base_s=0.05)
    return OutboxWorker(app.state.engine, client, settings, ttl_s=300), client


async def _timed(call) -> tuple[httpx.Response, float]:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    response = await call
    return response, time.perf_counter() - began


async def test_service_and_worker_survive_a_database_restart(
    cluster: Cluster,
    client: httpx.AsyncClient,
    app: FastAPI,
    engine: AsyncEngine,
    operator_headers: dict[str, str],
    fcm: FcmServerThread,
) -> None:
    volunteers = [await place_volunteer(client, *spot) for spot in NEARBY]
    before = await report(client, operator_headers, *INCIDENT)
    assert len(before["alerts"]) == 3
    port = cluster.port
    cluster.stop()
    try:
        health, took = await _timed(client.get("/health"))
        assert health.status_code == 503 and health.json()["database"] == "down"
        assert took < 5
        refused, took = await _timed(
            client.post(
                "/incidents",
                headers=operator_headers,
                json=POSTED,
            )
        )
        assert refused.status_code == 503 and took < 5
        assert refused.json()["code"] == "database_unavailable"
        moved, took = await _timed(
            client.put(
                "/responders/me/location",
                headers=volunteers[0][1],
                json={"lat": 60.17, "lon": 24.94, "accuracy_m": 5},
            )
        )
        assert moved.status_code == 503 and took < 5
    finally:
        cluster.ensure_running()
        await engine.dispose()
    assert cluster.port == port
    assert (await client.get("/health")).status_code == 200
    worker, push = _worker(app, fcm)
    try:
        sent = await worker.drain()
    finally:
        push.close()
    assert sent == 3, "the alerts committed before the outage all went out after it"
    tokens = {m.target for m in fcm.state.messages()}
    assert len(tokens) == 3
    located = await client.put(
        "/responders/me/location",
        headers=volunteers[0][1],
        json={"lat": 60.1701, "lon": 24.9401, "accuracy_m": 5},
    )
    assert located.status_code == 204


class _FailingRouter:
    """Walking times fail mid-dispatch, while the candidates are being read: it dies half-way."""

    def __init__(self, real: Router) -> None:
        self._real = real
        self.bounds = real.bounds

    def covers(self, point: Point) -> bool:
        return self._real.covers(point)

    def walks_to(self, targets: Sequence[Point], max_seconds: float) -> _FailingWalks:
        return _FailingWalks()


class _FailingWalks:
    def times_from(self, sources: Sequence[Point]) -> list[list[float | None]]:
        raise RuntimeError("injected routing failure")


async def test_a_dispatch_failing_half_way_leaves_nothing(
    settings: Settings,
    helsinki_router,
    clean_db: AsyncEngine,  # type: ignore[no-untyped-def]
    operator_headers: dict[str, str],
    client: httpx.AsyncClient,
) -> None:
    await place_volunteer(client, *NEARBY[0])
    broken = create_app(settings, router=_FailingRouter(helsinki_router))  # type: ignore[arg-type]
    async with (
        broken.router.lifespan_context(broken),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=broken, raise_app_exceptions=False),
            base_url="http://t",
        ) as http,
    ):
        response = await http.post(
            "/incidents",
            headers=operator_headers,
            json=POSTED,
        )
    assert response.status_code == 500 and response.json() == {
        "code": "internal",
        "detail": "internal error",
    }
    async with clean_db.connect() as conn:
        for table in ("incidents", "alerts", "outbox", "incident_events"):
            count = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            assert count == 0, table


async def test_slow_fcm_never_blocks_dispatch(
    client: httpx.AsyncClient,
    app: FastAPI,
    operator_headers: dict[str, str],
    fcm: FcmServerThread,
) -> None:
    import asyncio

    for spot in NEARBY:
        await place_volunteer(client, *spot)
    fcm.state.latency_s = 3.0
    worker, push = _worker(app, fcm)
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0.2)
        first, took_first = await _timed(
            client.post(
                "/incidents",
                headers=operator_headers,
                json=POSTED,
            )
        )
        await asyncio.sleep(0.5)  # the worker is now stuck sending to the slow server
        second, took_second = await _timed(
            client.post(
                "/incidents",
                headers=operator_headers,
                json={"kind": "bleeding", "location": {"lat": INCIDENT[0], "lon": INCIDENT[1]}},
            )
        )
    finally:
        running.cancel()
        fcm.state.latency_s = 0.0
        push.close()
    assert first.status_code == second.status_code == 201
    assert took_first < 1.5 and took_second < 1.5
    assert alerted(first.json())
