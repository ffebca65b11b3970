"""Timers that live in the database: wave timeouts and alert expiry.

Any number of service processes may run `run_due_timers`; `SKIP LOCKED` hands each due
incident to one of them, and a restart loses nothing because the deadline is a column.
"""

from __future__ import annotations

import logging

from responders.background import pause
from responders.db.gateway import Conn, Database
from responders.dispatch import store, timeline
from responders.dispatch.lifecycle import enough_accepted
from responders.dispatch.waves import DispatchContext, run_wave

__all__ = ["run_due_timers", "timer_loop"]

log = logging.getLogger(__name__)


async def run_due_timers(db: Database, context: DispatchContext) -> int:
    """Expire unanswered alerts, then fire every due wave; returns the waves fired."""
    await db.run(_expire)
    fired = 0
    while await _fire_one(db, context):
        fired += 1
    while await _replace_one(db, context):
        fired += 1
    return fired


# Each timer transaction may meet a cancel or an answer in a lock cycle (expiry locks many
# alerts, then needs their incidents for the timeline): retried whole (`Database.run`).


async def _expire(conn: Conn) -> None:
    expired = await store.expire_unanswered_alerts(conn)
    await timeline.record_alerts(conn, expired, "alert_expired")


async def _fire_one(db: Database, context: DispatchContext) -> bool:
    async def fire(conn: Conn) -> bool:
        incident_id = await store.lock_due_wave(conn)
        if incident_id is None:
            return False
        if await enough_accepted(conn, context, incident_id):
            await store.stop_waves(conn, incident_id)
        else:
            await run_wave(conn, context, incident_id)
        return True

    return await db.run(fire)


async def _replace_one(db: Database, context: DispatchContext) -> bool:
    """Alerts whose push failed (marked by the worker) are replaced like declines."""

    async def replace(conn: Conn) -> bool:
        due = await store.lock_replacements_due(conn)
        if due is None:
            return False
        await store.clear_replacements_due(conn, due.incident_id)
        if not await enough_accepted(conn, context, due.incident_id):
            await run_wave(conn, context, due.incident_id, widen=False, size=due.due)
        return True

    return await db.run(replace)


async def timer_loop(db: Database, context: DispatchContext, interval_s: float) -> None:
    """Runs until cancelled; a failing round (database down) is logged and retried."""
    while True:
        try:
            await run_due_timers(db, context)
        except Exception:
            log.warning("timer round failed; retrying", exc_info=True)
        await pause(interval_s)
