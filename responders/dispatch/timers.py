"""Timers that live in the database: wave timeouts and alert expiry.

Any number of service processes may run `run_due_timers`; `SKIP LOCKED` hands each due
incident to one of them, and a restart loses nothing because the deadline is a column.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from responders.db.retry import in_transaction
from responders.dispatch import timeline
from responders.dispatch.lifecycle import enough_accepted
from responders.dispatch.waves import DispatchContext, run_wave
from responders.states import EXPIRABLE, AlertStatus, sql_list

__all__ = ["run_due_timers", "timer_loop"]

log = logging.getLogger(__name__)

# The list is a literal (made from the set) so that every plan can read the partial index
# of pending alerts, whose predicate is `EXPIRABLE` (alerts_pending_idx, migration 0002).
_EXPIRE = text(
    f"""
    UPDATE alerts SET status = :expired, updated_at = now()
    WHERE status IN ({sql_list(EXPIRABLE)}) AND expires_at <= now()
    RETURNING id
    """  # noqa: S608 - the list is made from the state names, never from input
)
_DUE = text(
    """
    SELECT id FROM incidents
    WHERE status = 'active' AND next_wave_at <= now()
    ORDER BY next_wave_at LIMIT 1
    FOR UPDATE SKIP LOCKED
    """
)
_CLEAR = text("UPDATE incidents SET next_wave_at = NULL WHERE id = :id")
_REPLACEMENTS = text(
    """
    SELECT id, replacements_due FROM incidents
    WHERE status = 'active' AND replacements_due > 0
    LIMIT 1 FOR UPDATE SKIP LOCKED
    """
)
_REPLACED = text("UPDATE incidents SET replacements_due = 0 WHERE id = :id")


async def run_due_timers(engine: AsyncEngine, context: DispatchContext) -> int:
    """Expire unanswered alerts, then fire every due wave; returns the waves fired."""
    await in_transaction(engine, _expire)
    fired = 0
    while await _fire_one(engine, context):
        fired += 1
    while await _replace_one(engine, context):
        fired += 1
    return fired


# Each timer transaction may meet a cancel or an answer in a lock cycle (expiry locks many
# alerts, then needs their incidents for the timeline): retried whole (db.retry).


async def _expire(conn: AsyncConnection) -> None:
    params = {"expired": AlertStatus.EXPIRED.value}
    expired = list((await conn.execute(_EXPIRE, params)).scalars())
    await timeline.record_alerts(conn, expired, "alert_expired")


async def _fire_one(engine: AsyncEngine, context: DispatchContext) -> bool:
    async def fire(conn: AsyncConnection) -> bool:
        incident_id = (await conn.execute(_DUE)).scalar_one_or_none()
        if incident_id is None:
            return False
        if await enough_accepted(conn, context, incident_id):
            await conn.execute(_CLEAR, {"id": incident_id})
        else:
            await run_wave(conn, context, incident_id)
        return True

    return await in_transaction(engine, fire)


async def _replace_one(engine: AsyncEngine, context: DispatchContext) -> bool:
    """Alerts whose push failed (marked by the worker) are replaced like declines."""

    async def replace(conn: AsyncConnection) -> bool:
        row = (await conn.execute(_REPLACEMENTS)).one_or_none()
        if row is None:
            return False
        await conn.execute(_REPLACED, {"id": row.id})
        if not await enough_accepted(conn, context, row.id):
            await run_wave(conn, context, row.id, widen=False, size=row.replacements_due)
        return True

    return await in_transaction(engine, replace)


async def timer_loop(engine: AsyncEngine, context: DispatchContext, interval_s: float) -> None:
    """Runs until cancelled; a failing round (database down) is logged and retried."""
    while True:
        try:
            await run_due_timers(engine, context)
        except Exception:
            log.warning("timer round failed; retrying", exc_info=True)
        await asyncio.sleep(interval_s)
