"""db.gateway: one way to the database, and the driver's errors mapped there once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.db.gateway import Conn, Database
from responders.errors import Collided, Conflict, DatabaseTimeout, DatabaseUnavailable
from responders.settings import DatabaseSettings, Settings

_SETUP = (
    "CREATE TABLE IF NOT EXISTS gateway_probe (id int PRIMARY KEY, n int NOT NULL)",
    "TRUNCATE gateway_probe",
    "INSERT INTO gateway_probe VALUES (1, 0), (2, 0)",
)


@pytest.fixture
async def probe(db: Database, clean_db: AsyncEngine) -> Database:
    async with db.connection() as conn:
        for statement in _SETUP:
            await conn.execute(statement)
    return db


async def test_reads_come_as_dicts_tuples_scalars_and_columns(probe: Database) -> None:
    rows = await probe.rows("SELECT id, n FROM gateway_probe ORDER BY id")
    assert rows == [{"id": 1, "n": 0}, {"id": 2, "n": 0}]
    assert await probe.tuples("SELECT id FROM gateway_probe ORDER BY id", binary=True) == [
        (1,),
        (2,),
    ]
    assert await probe.scalar("SELECT n FROM gateway_probe WHERE id = %(id)s", {"id": 2}) == 0
    assert await probe.scalar("SELECT n FROM gateway_probe WHERE id = 99") is None
    assert await probe.first("SELECT id FROM gateway_probe WHERE id = 99") is None
    async with probe.connection() as conn:
        assert await conn.column("SELECT id FROM gateway_probe ORDER BY id DESC") == [2, 1]


async def test_a_statement_on_its_own_commits_as_it_returns(probe: Database) -> None:
    touched = await probe.execute("UPDATE gateway_probe SET n = 5 WHERE id = 1")
    assert touched == 1
    # Seen from another connection at once: there was no transaction to commit.
    assert await probe.scalar("SELECT n FROM gateway_probe WHERE id = 1") == 5


async def test_a_transaction_commits_whole_or_not_at_all(probe: Database) -> None:
    async with probe.transaction() as conn:
        await conn.execute("UPDATE gateway_probe SET n = 1 WHERE id = 1")
        await conn.execute("UPDATE gateway_probe SET n = 1 WHERE id = 2")
    with pytest.raises(RuntimeError):
        async with probe.transaction() as conn:
            await conn.execute("UPDATE gateway_probe SET n = 9 WHERE id = 1")
            raise RuntimeError("the work failed half way")
    assert await probe.rows("SELECT n FROM gateway_probe ORDER BY id") == [{"n": 1}, {"n": 1}]


async def test_an_integrity_error_is_a_conflict_only_where_the_caller_names_it(
    probe: Database,
) -> None:
    with pytest.raises(Conflict, match="that id is taken"):
        await probe.write(
            "INSERT INTO gateway_probe VALUES (1, 0) RETURNING id", conflict="that id is taken"
        )
    # Unnamed, it is a fault of ours: the driver's error, to be logged as a 500.
    with pytest.raises(psycopg.errors.UniqueViolation):
        await probe.execute("INSERT INTO gateway_probe VALUES (1, 0)")


async def test_a_statement_timeout_says_so(settings: Settings, clean_db: AsyncEngine) -> None:
    impatient = settings.db.model_copy(update={"statement_timeout_ms": 50})
    db = await Database.open(impatient)
    try:
        with pytest.raises(DatabaseTimeout):
            await db.scalar("SELECT pg_sleep(1)")
    finally:
        await db.close()


async def test_no_server_is_unavailable_fast() -> None:
    nowhere = DatabaseSettings(
        url="postgresql://nobody@127.0.0.1:9/none", connect_timeout_s=0.5, connections=2
    )
    db = await Database.open(nowhere, min_size=0)
    try:
        with pytest.raises(DatabaseUnavailable):
            await asyncio.wait_for(db.scalar("SELECT 1"), 10)
    finally:
        await db.close()


async def test_the_pool_is_sized_by_one_setting(settings: Settings) -> None:
    db = await Database.open(settings.db.model_copy(update={"connections": 3}))
    try:
        assert db.size == 3
    finally:
        await db.close()


async def test_reads_together_run_at_once_on_the_pool_and_in_turn_on_a_connection(
    probe: Database,
) -> None:
    async def pid(reader: Database | Conn) -> int:
        return (await reader.tuples("SELECT pg_backend_pid()"))[0][0]

    a, b = await probe.both(pid(probe), pid(probe))
    assert a != b, "two connections at once"
    async with probe.connection() as conn:
        a, b = await conn.both(pid(conn), pid(conn))
    assert a == b, "one connection, in turn"


async def test_run_retries_a_deadlocked_transaction_whole(probe: Database) -> None:
    tries: list[str] = []
    barrier = asyncio.Barrier(2)

    def work(first: int, second: int) -> Callable[[Conn], Awaitable[None]]:
        async def run(conn: Conn) -> None:
            name = f"{first}->{second}"
            tries.append(name)
            bump = "UPDATE gateway_probe SET n = n + 1 WHERE id = %(id)s"
            await conn.execute(bump, {"id": first})
            if tries.count(name) == 1:
                await barrier.wait()  # each holds its first row: the second lock closes the cycle
            await conn.execute(bump, {"id": second})

        return run

    await asyncio.wait_for(asyncio.gather(probe.run(work(1, 2)), probe.run(work(2, 1))), 30)
    assert len(tries) == 3, f"one of the two was aborted and run again: {tries}"
    assert await probe.rows("SELECT n FROM gateway_probe ORDER BY id") == [{"n": 2}, {"n": 2}]


async def test_run_says_retry_when_every_try_collides(probe: Database) -> None:
    async def always_deadlocked(conn: Conn) -> None:
        await conn.execute(
            "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'deadlock_detected'; END $$"
        )

    with pytest.raises(Collided):
        await probe.run(always_deadlocked)
