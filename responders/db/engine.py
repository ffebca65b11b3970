"""One async engine per app (created in the lifespan), and driver-error translation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from psycopg_pool import AsyncConnectionPool
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from responders.db.listen import libpq_dsn
from responders.errors import Conflict, DatabaseUnavailable
from responders.settings import DatabaseSettings

__all__ = ["create_engine", "create_pool", "create_sessionmaker", "translate_db_errors"]


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    if not settings.url:
        raise DatabaseUnavailable("no database configured: set DATABASE_URL or EHBO_DB_URL")
    return create_async_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=False,
        # Errors must not carry bound values (tokens' digests, phones, positions) into logs.
        hide_parameters=True,
        connect_args={
            "connect_timeout": max(1, int(settings.connect_timeout_s)),
            "options": f"-c statement_timeout={settings.statement_timeout_ms}",
        },
    )


async def create_pool(settings: DatabaseSettings) -> AsyncConnectionPool:
    """A driver-level autocommit pool beside the engine, for one-statement hot paths: it
    saves the transaction round trips and the ORM pool's bookkeeping (see `bench/`)."""
    if not settings.url:
        raise DatabaseUnavailable("no database configured: set DATABASE_URL or EHBO_DB_URL")
    pool = AsyncConnectionPool(
        libpq_dsn(settings.url),
        min_size=1,
        max_size=settings.pool_size,
        timeout=settings.connect_timeout_s,
        kwargs={
            "autocommit": True,
            "connect_timeout": max(1, int(settings.connect_timeout_s)),
            "options": f"-c statement_timeout={settings.statement_timeout_ms}",
        },
        open=False,
    )
    await pool.open(wait=False)
    return pool


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def translate_db_errors(conflict: str = "conflicts with existing data") -> Iterator[None]:
    """Driver errors become domain errors here, at the data boundary."""
    try:
        yield
    except sa_exc.IntegrityError as exc:
        raise Conflict(conflict) from exc
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        raise DatabaseUnavailable("the database is not reachable") from exc
