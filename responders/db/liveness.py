"""Pooled connections the server has closed never reach a request.

After PostgreSQL restarts, every pool still holds connections to the old server. Pinging each
connection on every checkout would find them, at a round trip (~0.3 ms) on every statement of
the dispatch path. This looks first at the connection's socket instead (a `poll` with no wait,
a few microseconds): an idle connection has nothing to read, so a readable socket means the
server spoke or hung up — a restarted, crashed or stopped server closes every connection it
had, and the end of the stream is readable at once. Only then is the connection pinged; it is
kept if the ping passes and dropped if not. A connection silently cut on the network
(no FIN, no RST) shows nothing here; TCP keepalives (see `KEEPALIVES`) cover that case.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg.pq import ConnStatus
from psycopg_pool import AsyncConnectionPool

__all__ = ["KEEPALIVES", "hung_up", "pool_check"]

log = logging.getLogger(__name__)

# libpq connection parameters: the kernel probes an idle connection after 30 s and gives up
# on it after 3 unanswered probes 5 s apart, so a connection cut without a word dies too.
KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}

_READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def hung_up(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether this idle connection may be dead: closed, broken, or its socket readable
    (the server sent something unasked: the end of the stream, a FATAL goodbye)."""
    if conn.closed or conn.pgconn.status != ConnStatus.OK:
        return True
    poller = select.poll()
    poller.register(conn.pgconn.socket, _READABLE)
    return bool(poller.poll(0))


def pool_check(
    sweep: Callable[[], Awaitable[None]],
) -> Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]:
    """A `check` callback for an `AsyncConnectionPool`: raises for a dead connection so the
    pool drops it. A dead one means the server restarted and the pool's other idle connections
    are dead too: `sweep` (the pool's `check()`) drops them all at once, as the pool would
    otherwise find them one by one, sleeping 1 s, 2 s, … between them."""

    async def check(conn: psycopg.AsyncConnection[Any]) -> None:
        if not hung_up(conn):
            return
        try:
            await AsyncConnectionPool.check_connection(conn)
        except psycopg.Error:
            log.info("dropping a pooled connection the server closed; sweeping the pool")
            await conn.close()
            await sweep()
            raise

    return check
