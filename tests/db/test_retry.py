"""db.retry: a transaction PostgreSQL aborts to break a deadlock is run again, whole."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from responders.db.retry import in_transaction, is_retryable
from responders.errors import Collided, DatabaseUnavailable

_SETUP = text(
    """
    CREATE TABLE IF NOT EXISTS retry_probe (id int PRIMARY KEY, n int NOT NULL);
    TRUNCATE retry_probe;
    INSERT INTO retry_probe VALUES (1, 0), (2, 0);
    """
)
_BUMP = text("UPDATE retry_probe SET n = n + 1 WHERE id = :id")


async def _locking(conn: AsyncConnection, first: int, second: int, both: asyncio.Barrier) -> None:
    await conn.execute(_BUMP, {"id": first})
    await both.wait()  # each holds its first row: the second lock closes the cycle
    await conn.execute(_BUMP, {"id": second})


async def test_a_real_deadlock_is_retried_and_both_transactions_commit(
    clean_db: AsyncEngine,
) -> None:
    async with clean_db.begin() as conn:
        for statement in str(_SETUP).split(";"):
            if statement.strip():
                await conn.execute(text(statement))
    tries: list[str] = []
    barrier = asyncio.Barrier(2)

    def work(first: int, second: int) -> Callable[[AsyncConnection], Awaitable[None]]:
        async def run(conn: AsyncConnection) -> None:
            tries.append(f"{first}->{second}")
            # Only the first try of each meets at the barrier; a retry runs alone.
            if tries.count(f"{first}->{second}") == 1:
                await _locking(conn, first, second, barrier)
            else:
                await conn.execute(_BUMP, {"id": first})
                await conn.execute(_BUMP, {"id": second})

        return run

    await asyncio.wait_for(
        asyncio.gather(in_transaction(clean_db, work(1, 2)), in_transaction(clean_db, work(2, 1))),
        30,
    )
    assert len(tries) == 3, f"one of the two was aborted and run again: {tries}"
    async with clean_db.connect() as conn:
        counts: dict[int, int] = dict(
            (await conn.execute(text("SELECT id, n FROM retry_probe"))).all()
        )
        await conn.execute(text("DROP TABLE retry_probe"))
        await conn.commit()
    assert counts == {1: 2, 2: 2}, "both transactions committed exactly once"


async def test_giving_up_says_retry_never_unreachable(clean_db: AsyncEngine) -> None:
    import psycopg.errors

    async def always_deadlocks(conn: AsyncConnection) -> None:
        raise psycopg.errors.DeadlockDetected("deadlock detected")

    with pytest.raises(Collided) as raised:
        await in_transaction(clean_db, always_deadlocks, attempts=2)
    assert not isinstance(raised.value, DatabaseUnavailable)
    assert is_retryable(raised.value.__cause__ or raised.value)


async def test_other_errors_are_not_retried(clean_db: AsyncEngine) -> None:
    calls = 0

    async def broken(conn: AsyncConnection) -> None:
        nonlocal calls
        calls += 1
        await conn.execute(text("SELECT 1/0"))

    with pytest.raises(Exception) as raised:
        await in_transaction(clean_db, broken)
    assert calls == 1 and not is_retryable(raised.value)
