"""Driver errors say what they are: "the database is not reachable" only when it is not; a
deadlock asks for a retry; a statement timeout says so; a value the database rejects is
invalid input; any other fault is a logged 500.

The database errors here are real ones, provoked in the test database through the gateway
(`responders.db.gateway`), the one place that translates them; the small app below gives
them a route to the web layer's error table."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from responders.api.errors import install_error_handlers
from responders.db.gateway import Database
from responders.settings import DatabaseSettings


async def _deadlock(db: Database) -> None:
    """Two transactions take two advisory locks in opposite orders: PostgreSQL's deadlock
    detector undoes one of them (after `deadlock_timeout`, 1 s) with DeadlockDetected."""
    both_hold_one = asyncio.Barrier(2)

    async def take(first: int, second: int) -> None:
        async with db.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%(k)s)", {"k": first})
            await both_hold_one.wait()
            await conn.execute("SELECT pg_advisory_xact_lock(%(k)s)", {"k": second})

    await asyncio.gather(take(912_001, 912_002), take(912_002, 912_001))


def _errors_app(db: Database, unreachable: Database) -> FastAPI:
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
        await _deadlock(db)

    @app.get("/statement-timeout")
    async def statement_timeout() -> None:
        async with db.transaction() as conn:
            await conn.execute("SET LOCAL statement_timeout = 50")
            await conn.execute("SELECT pg_sleep(2)")

    @app.get("/unreachable")
    async def unreachable_database() -> None:
        await unreachable.scalar("SELECT 1")

    @app.get("/broken-sql")
    async def broken_sql() -> None:
        await db.rows("SELECT * FROM no_such_table")

    @app.get("/rejected-value")
    async def rejected_value() -> None:
        await db.scalar("SELECT %(n)s::smallint", {"n": 10**9})

    return app


@pytest_asyncio.fixture(loop_scope="session")
async def http(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    # Nothing listens on port 1 of loopback: every connection attempt is refused.
    nowhere = DatabaseSettings(
        url="postgresql://nobody@127.0.0.1:1/none", connect_timeout_s=1, connections=2
    )
    unreachable = await Database.open(nowhere, min_size=0)
    app = _errors_app(db, unreachable)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client
    await unreachable.close()


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


async def test_a_value_the_database_rejects_is_invalid_input(http: httpx.AsyncClient) -> None:
    response = await http.get("/rejected-value")
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid",
        "detail": "a value is malformed or out of range",
    }
