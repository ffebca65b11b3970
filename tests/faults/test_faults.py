"""Faults for real: the embedded PostGIS is stopped and started again under a running service;
a dispatch fails half-way; the FCM server is slow while incidents come in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Sequence

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.db.cluster import Cluster, StopMode
from responders.db.gateway import Database
from responders.delivery import OutboxWorker
from responders.emulators.fcm import FcmServerThread
from responders.push import FcmConfig, PushClient
from responders.settings import DatabaseSettings, PushSettings, Settings
from routing import Point, Route, Router
from tests.conftest import embedded_cluster
from tests.helpers import alerted, place_volunteer, report

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
    return OutboxWorker(app.state.db, client, settings, ttl_s=300), client


# The crash test's load: enough posts in flight that some commit in the last moments before
# the crash (with `synchronous_commit = off`, 12 of 858 such incidents were lost).
_POSTERS = 16
_POSTED_BEFORE_CRASH = 60


async def _post_until(
    client: httpx.AsyncClient, headers: dict[str, str], done: asyncio.Event, answered: list[int]
) -> None:
    while not done.is_set():
        response = await client.post("/incidents", headers=headers, json=POSTED)
        if response.status_code == 201:
            answered.append(response.json()["id"])


async def test_every_incident_answered_201_survives_a_crash(
    cluster: Cluster,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    operator_headers: dict[str, str],
) -> None:
    """A 201 means durable: incidents posted in a loop, the server killed mid-stream
    (`pg_ctl stop -m immediate`, as a crash or power cut), and every answered one is there."""
    answered: list[int] = []
    done = asyncio.Event()
    posters = [
        asyncio.create_task(_post_until(client, operator_headers, done, answered))
        for _ in range(_POSTERS)
    ]
    try:
        while len(answered) < _POSTED_BEFORE_CRASH:
            assert not any(p.done() for p in posters), "a poster died before the crash"
            await asyncio.sleep(0.01)
        # In a thread, so the posters keep committing (and hearing 201) up to the kill.
        await asyncio.to_thread(cluster.stop, "immediate")
    finally:
        done.set()
        await asyncio.gather(*posters, return_exceptions=True)
        cluster.ensure_running()
        await engine.dispose()
    async with engine.connect() as conn:
        present = (
            await conn.execute(
                text("SELECT count(*) FROM incidents WHERE id = ANY(:ids)"), {"ids": answered}
            )
        ).scalar_one()
    print(f"crash test: {len(answered)} answered 201, {present} present after the crash")
    assert present == len(answered), f"{len(answered) - present} incidents lost after a 201"


async def test_every_start_makes_commits_durable(cluster: Cluster, engine: AsyncEngine) -> None:
    """A cluster initialised by an older checkout says `synchronous_commit = off` in its
    postgresql.conf: whether running or started anew, it ends up committing durably."""
    conf = cluster.data_dir / "postgresql.conf"
    kept = conf.read_text()
    try:
        # As the old code left it: off in the file, the server started without overrides.
        conf.write_text(kept + "\nsynchronous_commit = off\n")
        cluster.stop()
        old_start = f"-p {cluster.port} -k {cluster.data_dir}"
        cluster._ctl("start", "-w", "-l", str(cluster.log_file), "-o", old_start)
        await engine.dispose()
        assert await _setting(engine, "synchronous_commit") == "off"
        assert cluster.ensure_running() is False, "it was running"
        await _wait_for_setting(engine, "synchronous_commit", "on")
        conf.write_text(kept + "\nsynchronous_commit = off\nfsync = off\n")
        cluster.stop()
        assert cluster.ensure_running() is True
        await engine.dispose()
        assert await _setting(engine, "synchronous_commit") == "on"
        assert await _setting(engine, "fsync") == "on"
        assert "\nsynchronous_commit = off" not in conf.read_text()
    finally:
        conf.write_text(kept)
        cluster.ensure_running()
        await engine.dispose()


async def _setting(engine: AsyncEngine, name: str) -> str:
    async with engine.connect() as conn:
        return str((await conn.execute(text(f"SHOW {name}"))).scalar_one())


async def _wait_for_setting(engine: AsyncEngine, name: str, value: str) -> None:
    # A reload reaches each backend at its next command; give the postmaster a moment.
    deadline = time.monotonic() + 5
    while await _setting(engine, name) != value:
        assert time.monotonic() < deadline, f"{name} never became {value}"
        await asyncio.sleep(0.1)


async def _timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
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


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_the_first_request_of_each_kind_after_a_restart_succeeds(
    mode: StopMode,
    cluster: Cluster,
    client: httpx.AsyncClient,
    app: FastAPI,
    engine: AsyncEngine,
    operator_headers: dict[str, str],
) -> None:
    """Every pool holds connections the restarted server no longer knows: none of them may
    reach a request. Each kind of request, all at once as the first after the restart."""
    volunteers = [await place_volunteer(client, *spot) for spot in NEARBY]
    incident = await report(client, operator_headers, *INCIDENT)
    alerts = alerted(incident)
    # A busy service holds several connections in each pool (engine, autocommit, dispatch).
    await asyncio.gather(
        *(client.get("/incidents", headers=operator_headers) for _ in range(4)),
        *(client.post("/incidents", headers=operator_headers, json=POSTED) for _ in range(3)),
        *(_locate(client, headers) for _, headers in volunteers),
    )
    cluster.stop(mode)
    try:
        refused = await client.post("/incidents", headers=operator_headers, json=POSTED)
        assert refused.status_code == 503
        assert refused.json()["code"] == "database_unavailable"
    finally:
        cluster.ensure_running()
        await engine.dispose()
    first = await asyncio.gather(
        client.post("/incidents", headers=operator_headers, json=POSTED),
        client.get("/incidents", headers=operator_headers),
        client.get(f"/incidents/{incident['id']}", headers=operator_headers),
        _locate(client, volunteers[1][1]),
        client.post(f"/alerts/{alerts[volunteers[0][0]]['id']}/accept", headers=volunteers[0][1]),
        client.get("/alerts", headers=volunteers[2][1]),
        client.post("/reports", json=POSTED),
        client.get("/health"),
    )
    statuses = [(r.request.method, r.request.url.path, r.status_code) for r in first]
    assert [s for _, _, s in statuses] == [201, 200, 200, 204, 200, 200, 201, 200], statuses
    # The live feed's LISTEN connection is back too: a notification reaches the hub.
    hub = app.state.event_hub
    began = time.perf_counter()
    waiting = asyncio.create_task(hub.wait(incident["id"], within_s=10))
    while not waiting.done() and time.perf_counter() - began < 10:
        async with engine.begin() as conn:
            await conn.execute(text(f"NOTIFY incident_events, '{incident['id']}'"))
        await asyncio.sleep(0.2)
    await waiting
    assert time.perf_counter() - began < 9, "the event hub never heard a notification"


async def test_no_pool_hands_out_a_connection_the_server_closed(
    cluster: Cluster, settings: Settings, clean_db: AsyncEngine
) -> None:
    """The gateway's pool holding three connections (and no background loop that would find
    the dead ones first), then a restart: every first use succeeds."""
    db = await Database.open(settings.db, min_size=3)

    async def one() -> int:
        async with db.connection() as conn:
            await asyncio.sleep(0.05)  # hold it, so that three are open at once
            return int(await conn.scalar("SELECT 1"))

    try:
        assert await asyncio.gather(*(one() for _ in range(3))) == [1, 1, 1]
        cluster.stop()
        cluster.ensure_running()
        began = time.perf_counter()
        first = await asyncio.gather(*(one() for _ in range(3)), return_exceptions=True)
        assert first == [1] * 3
        assert time.perf_counter() - began < 2, "no request waits out a reconnection backoff"
    finally:
        await db.close()
        await clean_db.dispose()  # the tests' own engine, for the tests that follow


async def _locate(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.put(
        "/responders/me/location",
        headers=headers,
        json={"lat": 60.1736, "lon": 24.9446, "accuracy_m": 5},
    )


class _FailingRouter:
    """Walking times fail mid-dispatch, while the candidates are being read: it dies half-way."""

    def __init__(self, real: Router) -> None:
        self._real = real
        self.bounds = real.bounds

    def covers(self, point: Point) -> bool:
        return self._real.covers(point)

    def landing(self, point: Point) -> tuple[Point, float]:
        return self._real.landing(point)

    def route(self, a: Point, b: Point, via: Point | None = None) -> Route:
        return self._real.route(a, b, via)

    def walks_to(self, targets: Sequence[Point], max_seconds: float) -> _FailingWalks:
        return _FailingWalks()


class _FailingWalks:
    def times_from(self, sources: Sequence[Point]) -> list[list[float | None]]:
        raise RuntimeError("injected routing failure")


async def test_a_dispatch_failing_half_way_leaves_nothing(
    settings: Settings,
    helsinki_router: Router,
    clean_db: AsyncEngine,
    operator_headers: dict[str, str],
    client: httpx.AsyncClient,
) -> None:
    await place_volunteer(client, *NEARBY[0])
    broken = create_app(settings, router=_FailingRouter(helsinki_router))
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
