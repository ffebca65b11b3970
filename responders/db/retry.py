"""Transactions that PostgreSQL may abort to break a lock cycle, re-run from the start.

A deadlock or a serialization failure is not the database being down: PostgreSQL rolled one
transaction back so the others could go on, and running it again is the documented remedy.
`retrying` (what `db.gateway.Database.run` uses) re-runs the whole transaction (never a
single statement: the rolled-back work must be redone as a whole) a few times, and if every
try loses it says "retry" (`Collided`), never "the database is not reachable".
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from responders.db.faults import is_collision
from responders.errors import Collided

__all__ = ["ATTEMPTS", "is_retryable", "retrying"]

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 5
# Short and jittered: the other transaction of the cycle is already going on, and two
# retries in step would meet again.
_PAUSE_S = (0.01, 0.05)
_BUSY = "the database was busy with a conflicting change; try again"


def is_retryable(exc: BaseException) -> bool:
    """A collision (`db.faults.is_collision`), raw or the cause of the domain error the
    gateway translated it into."""
    seen: BaseException | None = exc
    while seen is not None:
        if is_collision(seen):
            return True
        seen = seen.__cause__
    return False


async def retrying(once: Callable[[], Awaitable[T]], *, attempts: int = ATTEMPTS) -> T:
    """`once()` (a whole transaction), run again when PostgreSQL aborted it for a deadlock or
    a serialization failure; "retry" (`Collided`) when every try lost."""
    for attempt in range(1, attempts + 1):
        try:
            return await once()
        except Exception as exc:
            if not is_retryable(exc):
                raise
            name = type(exc).__name__
            log.info("transaction aborted (%s), try %d of %d", name, attempt, attempts)
            if attempt == attempts:
                raise Collided(_BUSY) from exc
            await asyncio.sleep(random.uniform(*_PAUSE_S) * attempt)
    raise AssertionError("unreachable")
