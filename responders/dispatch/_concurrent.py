"""Two awaitables at once, failing as one would."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["both"]

A = TypeVar("A")
B = TypeVar("B")


async def both(a: Coroutine[Any, Any, A], b: Coroutine[Any, Any, B]) -> tuple[A, B]:
    """Both at once. When one fails the other is cancelled (and waited for, so a connection
    is never used by two at once) and the first failure is raised as it is."""
    try:
        async with asyncio.TaskGroup() as group:
            task_a, task_b = group.create_task(a), group.create_task(b)
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from failed
    return task_a.result(), task_b.result()
