"""db.retry: a transaction PostgreSQL aborts to break a deadlock is run again, whole; giving up
says "retry", and nothing else is retried. (A real deadlock through `Database.run`:
tests/db/test_gateway.py.)"""

from __future__ import annotations

import psycopg.errors
import pytest

from responders.db.gateway import Conn, Database
from responders.db.retry import is_retryable, retrying
from responders.errors import Collided, DatabaseUnavailable


async def test_giving_up_says_retry_never_unreachable() -> None:
    tries = 0

    async def always_deadlocks() -> None:
        nonlocal tries
        tries += 1
        raise psycopg.errors.DeadlockDetected("deadlock detected")

    with pytest.raises(Collided) as raised:
        await retrying(always_deadlocks, attempts=2)
    assert tries == 2
    assert not isinstance(raised.value, DatabaseUnavailable)
    assert is_retryable(raised.value.__cause__ or raised.value)


async def test_other_errors_are_not_retried(db: Database) -> None:
    calls = 0

    async def broken(conn: Conn) -> None:
        nonlocal calls
        calls += 1
        await conn.execute("SELECT * FROM no_such_table")

    with pytest.raises(psycopg.errors.UndefinedTable) as raised:
        await db.run(broken)
    assert calls == 1 and not is_retryable(raised.value)


async def test_a_collision_the_gateway_translated_is_still_retried(db: Database) -> None:
    tries = 0

    async def collides_once(conn: Conn) -> int:
        nonlocal tries
        tries += 1
        if tries == 1:
            await conn.execute(
                "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'serialization_failure'; END $$"
            )
        return int(await conn.scalar("SELECT 7"))

    assert await db.run(collides_once) == 7
    assert tries == 2
