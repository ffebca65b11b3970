"""LISTEN on a PostgreSQL channel for as long as the task lives, reconnecting after outages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from responders.db.liveness import KEEPALIVES

__all__ = ["libpq_dsn", "listen_forever"]

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT_S = 5


def libpq_dsn(url: str, database: str | None = None) -> str:
    """A SQLAlchemy URL (`postgresql+psycopg://`) as a plain libpq connection string,
    optionally naming another database on the same server."""
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def listen_forever(
    dsn: str,
    channel: str,
    on_notify: Callable[[str], None],
    on_connect: Callable[[], None] | None = None,
) -> None:
    """`on_connect` runs after each (re)connection: notifications sent meanwhile are lost,
    so a listener uses it to look for work it may have missed.

    A server that stops or restarts closes the connection, which ends `notifies()` with an
    error; one cut silently on the network is found by TCP keepalives. Either way the loop
    reconnects within a second of the server being back."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                dsn, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S, **KEEPALIVES
            ) as conn:
                await conn.execute(f"LISTEN {channel}")
                if on_connect:
                    on_connect()
                async for note in conn.notifies():
                    on_notify(note.payload)
        except (psycopg.Error, OSError):
            log.info("LISTEN %s lost its connection; reconnecting", channel)
        await asyncio.sleep(1.0)
