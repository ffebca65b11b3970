"""One async engine per app (created in the lifespan), and driver-error translation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, LiteralString

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from responders.db.faults import domain_error, is_connection_lost
from responders.db.listen import libpq_dsn
from responders.db.liveness import KEEPALIVES, pool_check, watch_engine
from responders.errors import Conflict, DatabaseUnavailable
from responders.settings import DatabaseSettings

__all__ = [
    "create_engine",
    "create_pool",
    "create_sessionmaker",
    "fetch_all",
    "translate_db_errors",
    "write_one",
]


_RECONNECT_TIMEOUT_S = 1.0


def _url(settings: DatabaseSettings) -> str:
    if not settings.url:
        raise DatabaseUnavailable("no database configured: set DATABASE_URL or EHBO_DB_URL")
    return settings.url


def _connect_args(settings: DatabaseSettings) -> dict[str, Any]:
    """Both pools' connections: fail fast on a sick server, never hang a request."""
    return {
        "connect_timeout": max(1, int(settings.connect_timeout_s)),
        "options": f"-c statement_timeout={settings.statement_timeout_ms}",
        **KEEPALIVES,
    }


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    engine = create_async_engine(
        _url(settings),
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=False,
        # Reuse the warmest connection: its prepared statements and caches are hot. FIFO
        # cycled all ten and cost dispatch a few milliseconds (bench/bench_dispatch.py).
        pool_use_lifo=True,
        # Errors must not carry bound values (tokens' digests, phones, positions) into logs.
        hide_parameters=True,
        connect_args=_connect_args(settings),
    )
    # Instead of pool_pre_ping's round trip on every checkout: see responders.db.liveness.
    watch_engine(engine)
    return engine


async def create_pool(settings: DatabaseSettings, min_size: int = 1) -> AsyncConnectionPool:
    """A driver-level autocommit pool beside the engine, for one-statement hot paths: it
    saves the transaction round trips and the ORM pool's bookkeeping (see `bench/`)."""
    pool: AsyncConnectionPool = AsyncConnectionPool(
        libpq_dsn(_url(settings)),
        min_size=min_size,
        max_size=settings.pool_size,
        timeout=settings.connect_timeout_s,
        kwargs={"autocommit": True, **_connect_args(settings)},
        # Connections the server closed are dropped before a request sees them.
        check=pool_check(lambda: pool.check()),
        # While the server is down the pool retries a connection after 1 s, 2 s, 4 s …: a
        # request arriving after the server is back could wait out its timeout behind that
        # backoff. Giving up after a second instead, the next request that needs a
        # connection asks for one at once (and waits at most a second for one in flight).
        reconnect_timeout=_RECONNECT_TIMEOUT_S,
        open=False,
    )
    await pool.open(wait=False)
    return pool


async def fetch_all(
    pool: AsyncConnectionPool,
    sql: LiteralString,
    params: Mapping[str, Any],
    *,
    binary: bool = False,
) -> list[tuple[Any, ...]]:
    """One idempotent statement on the autocommit pool, its rows as tuples (`binary`: sent
    by the server in binary, cheaper to read for numbers).

    A connection lost under the statement (the server went away between the pool's check
    and the query) is retried once on a fresh one, which is safe only because the statement
    may run twice; a pool timeout (no connection came) or any other error is not."""
    with _driver_errors():
        try:
            return await _fetch_all(pool, sql, params, binary)
        except psycopg.OperationalError as exc:
            if isinstance(exc, PoolTimeout) or not is_connection_lost(exc):
                raise
            return await _fetch_all(pool, sql, params, binary)


async def _fetch_all(
    pool: AsyncConnectionPool, sql: LiteralString, params: Mapping[str, Any], binary: bool
) -> list[tuple[Any, ...]]:
    async with pool.connection() as conn:
        cursor = conn.cursor(binary=binary)
        return await (await cursor.execute(sql, params)).fetchall()


async def write_one(
    pool: AsyncConnectionPool, sql: LiteralString, params: Mapping[str, Any], conflict: str
) -> dict[str, Any]:
    """One statement that writes, on the autocommit pool (so it commits as it returns), and
    its one row by column name. Never retried: it may have committed before a failure."""
    with _driver_errors(conflict):
        async with pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            row = await (await cursor.execute(sql, params)).fetchone()
    if row is None:
        raise AssertionError("the statement returned no row")
    return row


@contextlib.contextmanager
def _driver_errors(conflict: str | None = None) -> Iterator[None]:
    """The driver's errors as domain errors, as `translate_db_errors` does SQLAlchemy's;
    integrity errors only where the caller names the conflict."""
    try:
        yield
    except psycopg.IntegrityError as exc:
        if conflict is None:
            raise
        raise Conflict(conflict) from exc
    except psycopg.Error as exc:  # a PoolTimeout too
        _raise_domain_error(exc)
        raise


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def translate_db_errors(conflict: str = "conflicts with existing data") -> Iterator[None]:
    """Driver errors become domain errors here, at the data boundary."""
    try:
        yield
    except sa_exc.IntegrityError as exc:
        raise Conflict(conflict) from exc
    except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
        _raise_domain_error(exc)
        raise


def _raise_domain_error(exc: Exception) -> None:
    """Raise what `exc` means to a caller (see `responders.db.faults`); return when it means
    nothing but a fault, for the caller to re-raise as it is."""
    domain = domain_error(exc)
    if domain is not None:
        raise domain from exc
