"""The one way to the database: `Database` (a pool) and `Conn` (one of its connections).

Every store (`dispatch/store.py`, `registry/store.py`, …) talks to PostgreSQL through these
two classes and nothing else: psycopg 3 underneath, one parameter style (`%(name)s`), rows
as dicts (or tuples where a hot path reads numbers), and the driver's errors turned into
domain errors here, in `_mapped`, once (what an error *means* is `db.faults`' decision).

Connections are autocommit: a statement on its own commits as it returns, with no
BEGIN/COMMIT round trips (the dispatch path's one-statement writes rely on that); several
statements that must commit together go in `Database.transaction()`, or in
`Database.run(work)` when PostgreSQL may abort them to break a lock cycle and the whole
transaction should run again (`db.retry`).

One pool per process, sized by one setting (`EHBO_DB_CONNECTIONS`); a LISTEN connection
(`db.listen`) is the only other one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping
from typing import Any, LiteralString, Protocol, TypeVar

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from responders.db.faults import domain_error, is_connection_lost
from responders.db.listen import libpq_dsn
from responders.db.liveness import KEEPALIVES, pool_check
from responders.db.retry import retrying
from responders.errors import Conflict, DatabaseUnavailable
from responders.settings import DatabaseSettings

__all__ = ["Conn", "Database", "Params", "Reader", "Row"]

log = logging.getLogger(__name__)

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")

Params = Mapping[str, Any] | None
Row = dict[str, Any]

# While the server is down the pool retries a connection after 1 s, 2 s, 4 s …: a request
# arriving after the server is back could wait out its timeout behind that backoff. Giving
# up after a second instead, the next request that needs a connection asks at once.
_RECONNECT_TIMEOUT_S = 1.0


@contextlib.contextmanager
def _mapped(conflict: str | None = None) -> Iterator[None]:
    """The only place a driver error becomes a domain error. An integrity error is a
    `Conflict` only where the caller names it (a taken e-mail, a taken reference); elsewhere
    it is a fault of ours and stays what it is, to be logged as one."""
    try:
        yield
    except psycopg.IntegrityError as exc:
        if conflict is None:
            raise
        raise Conflict(conflict) from exc
    except psycopg.Error as exc:  # a PoolTimeout too
        domain = domain_error(exc)
        if domain is None:
            raise
        # Never the message: it may quote the values (a phone, a position).
        log.info("%s: %s", domain.code, type(exc).__name__)
        raise domain from exc


class Conn:
    """One connection of the pool. Each statement commits on its own, unless the connection
    came from `Database.transaction()`."""

    __slots__ = ("raw",)

    def __init__(self, raw: psycopg.AsyncConnection[Any]) -> None:
        self.raw = raw

    async def rows(
        self, sql: LiteralString, params: Params = None, *, conflict: str | None = None
    ) -> list[Row]:
        with _mapped(conflict):
            cursor = self.raw.cursor(row_factory=dict_row)
            await cursor.execute(sql, params)
            return await cursor.fetchall() if cursor.description else []

    async def tuples(
        self, sql: LiteralString, params: Params = None, *, binary: bool = False
    ) -> list[tuple[Any, ...]]:
        """Rows as tuples; `binary`: numbers sent by the server in binary, cheaper to read."""
        with _mapped():
            cursor = self.raw.cursor(row_factory=tuple_row, binary=binary)
            await cursor.execute(sql, params)
            return await cursor.fetchall()

    async def first(
        self, sql: LiteralString, params: Params = None, *, conflict: str | None = None
    ) -> Row | None:
        """The first row, or None when there is none."""
        with _mapped(conflict):
            cursor = self.raw.cursor(row_factory=dict_row)
            await cursor.execute(sql, params)
            return await cursor.fetchone() if cursor.description else None

    async def one(
        self, sql: LiteralString, params: Params = None, *, conflict: str | None = None
    ) -> Row:
        """The one row a statement must return (an INSERT … RETURNING, a row known to be
        there); none is a fault of ours."""
        row = await self.first(sql, params, conflict=conflict)
        if row is None:
            raise AssertionError("the statement returned no row")
        return row

    async def scalar(
        self, sql: LiteralString, params: Params = None, *, conflict: str | None = None
    ) -> Any:
        """The first column of the first row, or None when there is no row."""
        with _mapped(conflict):
            cursor = self.raw.cursor(row_factory=tuple_row)
            await cursor.execute(sql, params)
            row = await cursor.fetchone() if cursor.description else None
        return None if row is None else row[0]

    async def column(self, sql: LiteralString, params: Params = None) -> list[Any]:
        """The first column of every row."""
        return [row[0] for row in await self.tuples(sql, params)]

    async def execute(
        self, sql: LiteralString, params: Params = None, *, conflict: str | None = None
    ) -> int:
        """A statement run for its effect; the number of rows it touched."""
        with _mapped(conflict):
            cursor = await self.raw.execute(sql, params)
            return cursor.rowcount

    async def both(self, a: Coroutine[Any, Any, A], b: Coroutine[Any, Any, B]) -> tuple[A, B]:
        """Two reads on this one connection, which runs one statement at a time: in turn."""
        return await a, await b


class Reader(Protocol):
    """Where reads can run: a `Conn` (in turn, inside its transaction) or the `Database`
    (autocommit, two reads at once on two connections)."""

    async def rows(self, sql: LiteralString, params: Params = None) -> list[Row]: ...

    async def tuples(
        self, sql: LiteralString, params: Params = None, *, binary: bool = False
    ) -> list[tuple[Any, ...]]: ...

    async def both(self, a: Coroutine[Any, Any, A], b: Coroutine[Any, Any, B]) -> tuple[A, B]: ...


class Database:
    """The process's pool of autocommit connections; created in the app's lifespan (or a
    worker's, a CLI command's), closed with it."""

    def __init__(self, pool: AsyncConnectionPool, dsn: str) -> None:
        self._pool = pool
        self.dsn = dsn  # libpq form, for the LISTEN connection (`db.listen`)

    @classmethod
    async def open(cls, settings: DatabaseSettings, *, min_size: int = 2) -> Database:
        """A pool of `settings.connections` connections at most; `min_size` kept warm (a
        first dispatch wave reads two halves at once). Returns before any connects: a
        database that is down answers 503 per request, it does not stop the start."""
        if not settings.url:
            raise DatabaseUnavailable("no database configured: set DATABASE_URL or EHBO_DB_URL")
        dsn = libpq_dsn(settings.url)
        pool: AsyncConnectionPool = AsyncConnectionPool(
            dsn,
            min_size=min(min_size, settings.connections),
            max_size=settings.connections,
            timeout=settings.connect_timeout_s,
            kwargs={
                "autocommit": True,
                # Fail fast on a sick server, never hang a request.
                "connect_timeout": max(1, int(settings.connect_timeout_s)),
                "options": f"-c statement_timeout={settings.statement_timeout_ms}",
                **KEEPALIVES,
            },
            # Connections the server closed are dropped before a request sees them.
            check=pool_check(lambda: pool.check()),
            reconnect_timeout=_RECONNECT_TIMEOUT_S,
            open=False,
        )
        await pool.open(wait=False)
        return cls(pool, dsn)

    async def close(self) -> None:
        await self._pool.close()

    @property
    def size(self) -> int:
        """The most connections this pool opens."""
        return self._pool.max_size

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Conn]:
        """A connection of its own for a few statements, each committing as it returns."""
        with _mapped():
            async with self._pool.connection() as raw:
                yield Conn(raw)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        """Statements that commit together when the block ends, or not at all when it raises."""
        with _mapped():
            async with self._pool.connection() as raw, raw.transaction():
                yield Conn(raw)

    async def run(self, work: Callable[[Conn], Awaitable[T]]) -> T:
        """`work(conn)` in one transaction, run again whole when PostgreSQL aborts it for a
        deadlock or a serialization failure (`db.retry`); use it for every transaction that
        locks rows others may lock in another order."""

        async def once() -> T:
            async with self.transaction() as conn:
                return await work(conn)

        return await retrying(once)

    # One-statement shortcuts, each on a pooled connection of its own. Reads are retried once
    # on a fresh connection when theirs was lost under them (the server went away between
    # the pool's check and the query), which only a statement that may run twice allows;
    # writes never are, as they may have committed before the failure.

    async def rows(self, sql: LiteralString, params: Params = None) -> list[Row]:
        return await self._read(lambda conn: conn.rows(sql, params))

    async def tuples(
        self, sql: LiteralString, params: Params = None, *, binary: bool = False
    ) -> list[tuple[Any, ...]]:
        return await self._read(lambda conn: conn.tuples(sql, params, binary=binary))

    async def first(self, sql: LiteralString, params: Params = None) -> Row | None:
        return await self._read(lambda conn: conn.first(sql, params))

    async def scalar(self, sql: LiteralString, params: Params = None) -> Any:
        return await self._read(lambda conn: conn.scalar(sql, params))

    async def upsert(self, sql: LiteralString, params: Params = None) -> list[Row]:
        """An idempotent write (the same upsert twice leaves what once does): retried as a
        read is."""
        return await self._read(lambda conn: conn.rows(sql, params))

    async def write(
        self, sql: LiteralString, params: Params = None, *, conflict: str | None = None
    ) -> Row | None:
        """One writing statement, committed as it returns; its first row, if any."""
        async with self.connection() as conn:
            return await conn.first(sql, params, conflict=conflict)

    async def execute(
        self, sql: LiteralString, params: Params = None, *, conflict: str | None = None
    ) -> int:
        """One writing statement, committed as it returns; the number of rows it touched."""
        async with self.connection() as conn:
            return await conn.execute(sql, params, conflict=conflict)

    async def both(self, a: Coroutine[Any, Any, A], b: Coroutine[Any, Any, B]) -> tuple[A, B]:
        """Two reads at once, a connection each. When one fails the other is cancelled (and
        waited for, so a connection is never used by two at once) and the first failure is
        raised as it is."""
        try:
            async with asyncio.TaskGroup() as group:
                task_a, task_b = group.create_task(a), group.create_task(b)
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from failed
        return task_a.result(), task_b.result()

    async def _read(self, read: Callable[[Conn], Awaitable[T]]) -> T:
        try:
            async with self.connection() as conn:
                return await read(conn)
        except DatabaseUnavailable as exc:
            cause = exc.__cause__
            if cause is None or isinstance(cause, PoolTimeout) or not is_connection_lost(cause):
                raise
        async with self.connection() as conn:
            return await read(conn)
