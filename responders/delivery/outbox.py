"""The outbox in SQL: claim rows (`FOR UPDATE SKIP LOCKED`), and record what happened.

A claim holds its row locks for the whole send, inside one transaction: two workers never
send the same row at once, and a worker that dies mid-send releases its rows the moment
its connection drops, so they go out again — at most one duplicate per crash, which the
per-incident collapse key folds into one notification on the phone.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from responders.delivery.messages import Claimed, Device
from responders.dispatch import timeline

__all__ = ["claim", "devices_of", "drop_device", "fail", "reschedule", "sent", "withdraw"]

_CLAIM = text(
    """
    SELECT o.id AS outbox_id, o.kind, o.attempts,
           EXTRACT(EPOCH FROM o.expires_at - now())::float8 AS seconds_left,
           a.id AS alert_id, a.status AS alert_status, a.incident_id, i.kind AS incident_kind,
           a.responder_id, a.role, a.walk_seconds, a.stand_down_reason
    FROM outbox o
    JOIN alerts a ON a.id = o.alert_id
    JOIN incidents i ON i.id = a.incident_id
    WHERE o.available_at <= now()
    ORDER BY o.available_at, o.id
    LIMIT :limit
    FOR UPDATE OF o SKIP LOCKED
    """
)


async def claim(conn: AsyncConnection, limit: int) -> list[Claimed]:
    return [Claimed(**r._mapping) for r in await conn.execute(_CLAIM, {"limit": limit})]


async def devices_of(
    conn: AsyncConnection, responder_ids: Sequence[int]
) -> dict[int, list[Device]]:
    rows = await conn.execute(
        text(
            "SELECT id, responder_id, fcm_token, platform FROM devices "
            "WHERE responder_id = ANY(:ids) ORDER BY id"
        ),
        {"ids": list(responder_ids)},
    )
    found: dict[int, list[Device]] = {}
    for r in rows:
        found.setdefault(r.responder_id, []).append(Device(r.id, r.fcm_token, r.platform))
    return found


async def withdraw(conn: AsyncConnection, item: Claimed) -> None:
    """The push is moot (alert answered or stood down before it went out)."""
    await conn.execute(text("DELETE FROM outbox WHERE id = :id"), {"id": item.outbox_id})


# Every push of a batch that reached FCM, recorded at once: the rows leave the outbox, the
# alerts become `sent`, and each gets its timeline event. One statement per batch instead
# of three per alert (bench/bench_push.py).
_SENT = text(
    """
    WITH done AS (
        SELECT * FROM unnest(CAST(:outbox AS bigint[]), CAST(:alerts AS bigint[]),
                             CAST(:incidents AS bigint[]), CAST(:kinds AS text[]),
                             CAST(:mids AS text[]), CAST(:attempts AS integer[]))
               AS d(outbox_id, alert_id, incident_id, kind, mid, attempt)
    ), gone AS (
        DELETE FROM outbox o USING done WHERE o.id = done.outbox_id
    ), marked AS (
        UPDATE alerts a SET fcm_message_id = done.mid, push_error = NULL, updated_at = now(),
               status = CASE WHEN a.status = 'queued' THEN 'sent' ELSE a.status END
        FROM done WHERE a.id = done.alert_id AND done.kind = 'alert'
    )
    INSERT INTO incident_events (incident_id, alert_id, kind, detail)
    SELECT incident_id, alert_id, 'push_sent:' || kind,
           jsonb_build_object('message_id', mid, 'attempt', attempt)
    FROM done ORDER BY outbox_id
    """
)


async def sent(conn: AsyncConnection, done: Sequence[tuple[Claimed, str]]) -> None:
    """`done`: each claimed row that reached FCM, with FCM's message id."""
    if not done:
        return
    params = {
        "outbox": [item.outbox_id for item, _ in done],
        "alerts": [item.alert_id for item, _ in done],
        "incidents": [item.incident_id for item, _ in done],
        "kinds": [item.kind for item, _ in done],
        "mids": [message_id for _, message_id in done],
        "attempts": [item.attempts + 1 for item, _ in done],
    }
    await conn.execute(_SENT, params)


async def fail(conn: AsyncConnection, item: Claimed, reason: str) -> None:
    """Give up: the operator sees it, and a failed alert is replaced like a decline."""
    await withdraw(conn, item)
    await timeline.record(
        conn,
        item.incident_id,
        f"push_failed:{item.kind}",
        item.alert_id,
        reason=reason,
        attempts=item.attempts + 1,
    )
    if item.kind != "alert":
        return
    changed = (
        await conn.execute(
            text(
                "UPDATE alerts SET status = 'failed', push_error = :reason, updated_at = now() "
                "WHERE id = :id AND status = 'queued' RETURNING incident_id"
            ),
            {"id": item.alert_id, "reason": reason},
        )
    ).scalar_one_or_none()
    if changed is not None:
        await conn.execute(
            text(
                "UPDATE incidents SET replacements_due = replacements_due + 1 "
                "WHERE id = :id AND status = 'active'"
            ),
            {"id": changed},
        )


async def reschedule(conn: AsyncConnection, item: Claimed, delay_s: float, error: str) -> None:
    await conn.execute(
        text(
            "UPDATE outbox SET attempts = attempts + 1, last_error = :error, "
            "available_at = now() + make_interval(secs => :delay) WHERE id = :id"
        ),
        {"id": item.outbox_id, "delay": delay_s, "error": error},
    )
    if item.kind == "alert":
        await conn.execute(
            text("UPDATE alerts SET push_error = :error WHERE id = :id"),
            {"id": item.alert_id, "error": error},
        )


async def drop_device(conn: AsyncConnection, device: Device) -> None:
    """FCM said UNREGISTERED: the app was removed or its token rotated."""
    await conn.execute(text("DELETE FROM devices WHERE id = :id"), {"id": device.id})
