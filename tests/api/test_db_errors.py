"""Driver errors say what they are: "the database is not reachable" only when it is not; a
deadlock asks for a retry; a statement timeout says so; any other fault is a logged 500.

The database errors here are real ones, provoked in the test database; the small app below
only gives them a route to escape through, untranslated, to the error handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from responders.api.errors import install_error_handlers
from responders.db.engine import create_pool, fetch_all, translate_db_errors
from responders.errors import Collided, DatabaseTimeout, DatabaseUnavailable
from responders.settings import Settings


async def _deadlock(engine: AsyncEngine) -> None:
    """Two transactions take two advisory locks in opposite orders: PostgreSQL's deadlock
    detector undoes one of them (after `deadlock_timeout`, 1 s) with DeadlockDetected."""
    both_hold_one = asyncio.Barrier(2)

    async def take(first: int, second: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": first})
            await both_hold_one.wait()
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": second})

    await asyncio.gather(take(912_001, 912_002), take(912_002, 912_001))


def _errors_app(engine: AsyncEngine, unreachable: AsyncEngine) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/os-error")
    async def os_error() -> None:
        raise FileNotFoundError("/etc/ehbo/missing.pem")

    @app.get("/timeout-error")
    async def timeout_error() -> None:
        raise TimeoutError("an HTTP call of ours timed out")

    @app.get("/deadlock")
    async def deadlock() -> None:
        await _deadlock(engine)

    @app.get("/statement-timeout")
    async def statement_timeout() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL statement_timeout = 50"))
            await conn.execute(text("SELECT pg_sleep(2)"))

    @app.get("/unreachable")
    async def unreachable_database() -> None:
        async with unreachable.connect() as conn:
            await conn.execute(text("SELECT 1"))

    @app.get("/broken-sql")
    async def broken_sql() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT * FROM no_such_table"))

    return app


@pytest_asyncio.fixture(loop_scope="session")
async def http(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    # Nothing listens on port 1 of loopback: every connection attempt is refused.
    unreachable = create_async_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = _errors_app(engine, unreachable)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client
    await unreachable.dispose()


@pytest.mark.parametrize("path", ["/os-error", "/timeout-error", "/broken-sql"])
async def test_a_fault_that_is_no_outage_is_a_logged_internal_error(
    http: httpx.AsyncClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="responders.api.errors"):
        response = await http.get(path)
    assert response.status_code == 500
    assert response.json() == {"code": "internal", "detail": "internal error"}
    logged = [r for r in caplog.records if r.exc_info]
    assert logged, "the fault is logged with its traceback"


async def test_a_deadlock_asks_for_a_retry(http: httpx.AsyncClient) -> None:
    response = await http.get("/deadlock")
    assert response.status_code == 503
    assert response.json() == {
        "code": "retry",
        "detail": "the request collided with another one; try again",
    }


async def test_a_statement_timeout_says_so(http: httpx.AsyncClient) -> None:
    response = await http.get("/statement-timeout")
    assert response.status_code == 503
    assert response.json()["code"] == "database_timeout"


async def test_an_unreachable_database_is_unavailable(http: httpx.AsyncClient) -> None:
    response = await http.get("/unreachable")
    assert response.status_code == 503
    assert response.json() == {
        "code": "database_unavailable",
        "detail": "the database is not reachable",
    }


async def test_the_data_boundary_translates_the_same_way(
    engine: AsyncEngine, settings: Settings
) -> None:
    with pytest.raises(Collided), translate_db_errors():
        await _deadlock(engine)
    slow = settings.db.model_copy(update={"statement_timeout_ms": 50})
    pool = await create_pool(slow)
    try:
        with pytest.raises(DatabaseTimeout):
            await fetch_all(pool, "SELECT pg_sleep(2)", {})
    finally:
        await pool.close()
    gone = settings.db.model_copy(
        update={"url": "postgresql+psycopg://nobody@127.0.0.1:1/none", "connect_timeout_s": 1}
    )
    pool = await create_pool(gone)
    try:
        with pytest.raises(DatabaseUnavailable):
            await fetch_all(pool, "SELECT 1", {})
    finally:
        await pool.close()
