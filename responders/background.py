"""Background loops (timers, purges, demo upkeep, the push worker) stop when cancelled.

A loop that catches `Exception` to survive a bad round relies on cancellation arriving as
`CancelledError`. Python 3.11's `asyncio.wait_for`, which psycopg's pool uses to wait for a
connection, can swallow a cancel that lands just as what it waits for completes; the loop
would then run on after its app closed its pool (seen in the tests: a timer loop logging
"pool closed" every second, its transactions deadlocking the next test's TRUNCATE). The task
still counts the request (`Task.cancelling()`), so the loop's pause raises it.
"""

from __future__ import annotations

import asyncio

__all__ = ["pause"]


async def pause(seconds: float) -> None:
    """`asyncio.sleep(seconds)` between two rounds, raising `CancelledError` at once if this
    task was asked to stop, even when an await in the round swallowed the request."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
    await asyncio.sleep(seconds)
