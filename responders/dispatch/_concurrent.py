"""Two reads of a wave at once where its reader allows it, failing as one would."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["Reader", "together"]

A = TypeVar("A")
B = TypeVar("B")

# Where a wave reads: its transaction's connection (later waves), or autocommit connections
# of the dispatch pool (a first wave: nothing can have been written for its incident yet).
Reader = AsyncConnection | AsyncConnectionPool


async def together(
    reader: Reader, a: Coroutine[Any, Any, A], b: Coroutine[Any, Any, B]
) -> tuple[A, B]:
    """Both: at once from a pool (a connection each), one after the other on a connection,
    which runs one statement at a time."""
    if isinstance(reader, AsyncConnection):
        return await a, await b
    return await _both(a, b)


async def _both(a: Coroutine[Any, Any, A], b: Coroutine[Any, Any, B]) -> tuple[A, B]:
    """When one fails the other is cancelled (and waited for, so a connection is never
    used by two at once) and the first failure is raised as it is."""
    try:
        async with asyncio.TaskGroup() as group:
            task_a, task_b = group.create_task(a), group.create_task(b)
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from failed
    return task_a.result(), task_b.result()
