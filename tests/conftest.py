"""Fixtures: one real PostGIS per test session (embedded cluster or DATABASE_URL's server),
a throwaway database in it, the Helsinki walking graph, and an in-process API client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from responders.db.cluster import Cluster
from responders.db.gateway import Database
from responders.emulators.fcm import FcmServerState, FcmServerThread
from responders.emulators.webpush import WebPushServerState, WebPushServerThread
from responders.push import FcmConfig, PushClient
from responders.settings import (
    ApiSettings,
    DatabaseSettings,
    LimitSettings,
    RoutingSettings,
    Settings,
    WebPushSettings,
)
from routing import Router
from tests.helpers import migrated_database

ROOT = Path(__file__).resolve().parents[1]
SHARED_OSM = ROOT.parent / "shared" / "osm"
ARTIFACTS = ROOT / "artifacts"
# The geocoding index is built once per session (tests/geocode/conftest.py) and only read.
_TABLES_KEPT = (
    "spatial_ref_sys",
    "alembic_version",
    "geocode_entries",
    "geocode_names",
    "geocode_sources",
)
# The FCM project the tests' local FCM emulator and push clients agree on.
FCM_PROJECT = "ehbo-test"


def embedded_cluster() -> Cluster:
    """The tests' cluster: `.pg` of the checkout, or EHBO_DB_CLUSTER_DIR."""
    return Cluster(ROOT / DatabaseSettings().cluster_dir)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostGIS server we may create databases on."""
    configured = DatabaseSettings().url
    if configured:
        yield configured
        return
    cluster = embedded_cluster()
    started = cluster.ensure_running()
    yield cluster.url("postgres")
    if started:
        cluster.stop()


@pytest.fixture(scope="session")
def database_url(postgres_server: str) -> Iterator[str]:
    with migrated_database(postgres_server, "ehbo_test") as url:
        yield url


@pytest.fixture(scope="session")
def graph_cache() -> Path:
    path = ROOT / ".cache" / "graphs"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def settings(
    database_url: str, graph_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    # Abuse limits are off here (tests register many volunteers from one address);
    # tests/api/test_limits.py turns them on.
    return Settings(
        db=DatabaseSettings(url=database_url, connections=10),
        routing=RoutingSettings(cache_dir=graph_cache),
        limits=LimitSettings(enabled=False),
        # Many apps come and go in this one process; test_heap.py checks the freeze.
        api=ApiSettings(freeze_heap=False),
        # The session's VAPID key, made once in a temporary folder; the local push service
        # listens on 127.0.0.1 (issue 15).
        webpush=WebPushSettings(
            vapid_key_file=tmp_path_factory.mktemp("vapid") / "vapid.pem", allow_loopback=True
        ),
    )


@pytest.fixture(scope="session")
def helsinki_router(settings: Settings) -> Router:
    from responders.geo import load_router

    return load_router(settings.routing)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    """The gateway on the tests' database, as the app opens it (`responders.db.gateway`)."""
    database = await Database.open(settings.db)
    yield database
    await database.close()


@pytest_asyncio.fixture(loop_scope="session")
async def clean_db(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    async with engine.begin() as conn:
        names = (
            (
                await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            )
            .scalars()
            .all()
        )
        tables = ", ".join(n for n in names if n not in _TABLES_KEPT)
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield engine


@pytest_asyncio.fixture(loop_scope="session")
async def app(
    settings: Settings, helsinki_router: Router, clean_db: AsyncEngine
) -> AsyncIterator[FastAPI]:
    from responders.api import create_app

    application = create_app(settings, router=helsinki_router)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def _operator_token(settings: Settings, app: FastAPI, role: str) -> str:
    from responders.registry.operators import create_operator

    return (await create_operator(app.state.db, f"test {role}", role)).token


@pytest_asyncio.fixture(loop_scope="session")
async def operator_headers(settings: Settings, app: FastAPI) -> dict[str, str]:
    return {"Authorization": f"Bearer {await _operator_token(settings, app, 'operator')}"}


@pytest_asyncio.fixture(loop_scope="session")
async def coordinator_headers(settings: Settings, app: FastAPI) -> dict[str, str]:
    return {"Authorization": f"Bearer {await _operator_token(settings, app, 'coordinator')}"}


@pytest.fixture(scope="session")
def fcm_server() -> Iterator[FcmServerThread]:
    """One local FCM emulator for the session (push client, emulator and worker tests)."""
    with FcmServerThread() as server:
        yield server


@pytest.fixture
def fcm_state(fcm_server: FcmServerThread) -> Iterator[FcmServerState]:
    """The emulator's state, clean before and after the test."""
    fcm_server.state.reset()
    yield fcm_server.state
    fcm_server.state.reset()


@pytest.fixture(scope="session")
def push_client(fcm_server: FcmServerThread) -> Iterator[PushClient]:
    """firebase-admin's real client pointed at the emulator."""
    client = PushClient(FcmConfig(project_id=FCM_PROJECT, endpoint=fcm_server.url, timeout_s=2.0))
    yield client
    client.close()


# --- issue 14, tiles: the Helsinki vector tiles, built once (cached in the checkout's .cache)


@pytest.fixture(scope="session")
def tiles_cache() -> Path:
    path = ROOT / ".cache" / "tiles"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def helsinki_tiles(tiles_cache: Path) -> Path:
    from responders.geo import default_extract
    from responders.tiles import build_tiles

    built = build_tiles(default_extract(), tiles_cache)
    assert built is not None, "tilemaker is missing: scripts/system-packages.sh installs it"
    return built


# --- issue 15, the local Web Push service (RFC 8030), like the FCM emulator above


@pytest.fixture(scope="session")
def webpush_server() -> Iterator[WebPushServerThread]:
    """One local push service for the session (Web Push sender, service and worker tests)."""
    with WebPushServerThread() as server:
        yield server


@pytest.fixture
def webpush_state(webpush_server: WebPushServerThread) -> Iterator[WebPushServerState]:
    """The service's state, fresh (no subscriptions, messages, faults) before and after."""
    webpush_server.state.reset()
    yield webpush_server.state
    webpush_server.state.reset()
