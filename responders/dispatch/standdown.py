"""Stand-downs: tell alerted volunteers they are no longer needed, or that it is over."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from responders.dispatch import timeline
from responders.states import AlertStatus

__all__ = ["stand_down"]

# Who stands down is the caller's set: `states.NEEDS_STAND_DOWN` when an incident ends,
# `states.NO_LONGER_NEEDED` when enough have accepted.

_MARK = text(
    """
    WITH target AS (
        SELECT id, status FROM alerts
        WHERE incident_id = :incident AND status = ANY(:states) FOR UPDATE
    )
    UPDATE alerts a SET status = :stood_down, stand_down_reason = :reason, updated_at = now()
    FROM target t WHERE a.id = t.id
    RETURNING a.id, t.status AS before
    """
)
# A queued alert whose push never left is simply withdrawn. If the row is gone (sent), leased
# by a worker (on the wire right now) or was sent once without FCM confirming it, the phone
# may show the alert: its row goes too, and the volunteer is stood down. Locks: the incident
# (lifecycle), then these alerts (`_MARK`), then their outbox rows, the worker's order too.
_WITHDRAW = text(
    """
    DELETE FROM outbox WHERE alert_id = ANY(:ids) AND kind = 'alert'
    RETURNING alert_id, leased_until IS NULL AND unconfirmed = 0 AS never_left
    """
)
_ENQUEUE = text(
    """
    INSERT INTO outbox (alert_id, kind, expires_at)
    SELECT id, :kind, now() + make_interval(secs => :ttl) FROM alerts WHERE id = ANY(:ids)
    """
)


async def stand_down(
    conn: AsyncConnection,
    incident_id: int,
    reason: str,
    states: frozenset[AlertStatus],
    ttl_s: int,
) -> list[int]:
    params = {
        "incident": incident_id,
        "states": sorted(s.value for s in states),
        "reason": reason,
        "stood_down": AlertStatus.STOOD_DOWN.value,
    }
    rows = (await conn.execute(_MARK, params)).all()
    ids = [r.id for r in rows]
    queued = [r.id for r in rows if r.before == AlertStatus.QUEUED]
    withdrawn = (
        {r.alert_id for r in await conn.execute(_WITHDRAW, {"ids": queued}) if r.never_left}
        if queued
        else set()
    )
    to_notify = [i for i in ids if i not in withdrawn]
    kind = "no_longer_needed" if reason == "no_longer_needed" else "stand_down"
    if to_notify:
        await conn.execute(_ENQUEUE, {"ids": to_notify, "kind": kind, "ttl": ttl_s})
    await timeline.record_alerts(conn, ids, f"alert_stood_down:{reason}")
    return ids
