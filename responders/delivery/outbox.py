"""The outbox in SQL: lease rows, and record what happened to them.

Nothing is locked while a push is on the wire. A claim is a transaction of its own that
commits at once: it leases its rows (`leased_until` = `available_at` = now + the claim lease,
`EHBO_FCM_CLAIM_LEASE_S`), so other workers skip them, and a worker that dies mid-send leaves
them due again when the lease runs out. After the send, the outcome is written in a second
short transaction that takes its locks in the order every stand-down does (the incident,
then its alerts, then their outbox rows; see `responders.dispatch.standdown`), so a cancel and
the worker may wait for each other briefly but never deadlock. Each write to a leased row is
fenced by the lease it was claimed with: a worker whose lease ran out (and whose row another
worker took) changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from responders.delivery.messages import Claimed, Device
from responders.dispatch import timeline

__all__ = [
    "claim",
    "devices_of",
    "drop_device",
    "fail",
    "lock",
    "next_due_in",
    "release",
    "reschedule",
    "retry_now",
    "sent",
    "withdraw",
]

_CLAIM = text(
    """
    WITH picked AS (
        SELECT id FROM outbox
        WHERE available_at <= now()
        ORDER BY available_at, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ), leased AS (
        UPDATE outbox o
        SET leased_until = now() + make_interval(secs => :lease),
            available_at = now() + make_interval(secs => :lease)
        FROM picked WHERE o.id = picked.id
        RETURNING o.*
    )
    SELECT l.id AS outbox_id, l.kind, l.attempts, l.unconfirmed, l.leased_until AS lease,
           EXTRACT(EPOCH FROM l.expires_at - now())::float8 AS seconds_left,
           a.id AS alert_id, a.status AS alert_status, a.incident_id, i.kind AS incident_kind,
           a.responder_id, a.role, a.walk_seconds, a.stand_down_reason
    FROM leased l
    JOIN alerts a ON a.id = l.alert_id
    JOIN incidents i ON i.id = a.incident_id
    ORDER BY l.id
    """
)


async def claim(conn: AsyncConnection, limit: int, lease_s: float) -> list[Claimed]:
    """Lease up to `limit` due rows; commit right after, nothing stays locked."""
    params = {"limit": limit, "lease": lease_s}
    return [Claimed(**r._mapping) for r in await conn.execute(_CLAIM, params)]


async def lock(conn: AsyncConnection, items: Sequence[Claimed]) -> None:
    """The record step's locks, taken first and in the stand-down's order: incidents, then
    alerts, each by id. Writing the timeline needs the incident (its foreign key), which a
    cancel holds `FOR UPDATE` while it locks the alerts: taking the alert first deadlocked."""
    await conn.execute(
        text("SELECT id FROM incidents WHERE id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE"),
        {"ids": sorted({item.incident_id for item in items})},
    )
    await conn.execute(
        text("SELECT id FROM alerts WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"),
        {"ids": sorted({item.alert_id for item in items})},
    )


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


def _fenced(item: Claimed) -> dict[str, object]:
    return {"id": item.outbox_id, "lease": item.lease}


async def withdraw(conn: AsyncConnection, item: Claimed) -> None:
    """The push is moot (alert answered or stood down before it went out)."""
    await conn.execute(
        text("DELETE FROM outbox WHERE id = :id AND leased_until = :lease"), _fenced(item)
    )


# Every push of a batch that reached FCM (or was given up as unconfirmed, with its error),
# recorded at once: the rows leave the outbox, the alerts become `sent`, and each gets its
# timeline event. One statement per batch instead of three per alert (bench/bench_push.py).
_SENT = text(
    """
    WITH done AS (
        SELECT * FROM unnest(CAST(:outbox AS bigint[]), CAST(:leases AS timestamptz[]),
                             CAST(:alerts AS bigint[]), CAST(:incidents AS bigint[]),
                             CAST(:kinds AS text[]), CAST(:mids AS text[]),
                             CAST(:attempts AS integer[]), CAST(:errors AS text[]))
               AS d(outbox_id, lease, alert_id, incident_id, kind, mid, attempt, error)
    ), gone AS (
        DELETE FROM outbox o USING done
        WHERE o.id = done.outbox_id AND o.leased_until = done.lease
    ), marked AS (
        UPDATE alerts a SET fcm_message_id = done.mid, push_error = done.error,
               updated_at = now(),
               status = CASE WHEN a.status = 'queued' THEN 'sent' ELSE a.status END
        FROM done WHERE a.id = done.alert_id AND done.kind = 'alert'
    )
    INSERT INTO incident_events (incident_id, alert_id, kind, detail)
    SELECT incident_id, alert_id, 'push_sent:' || kind,
           jsonb_strip_nulls(jsonb_build_object('message_id', mid, 'attempt', attempt,
                                                'unconfirmed', error))
    FROM done ORDER BY outbox_id
    """
)


async def sent(
    conn: AsyncConnection, done: Sequence[tuple[Claimed, str | None, str | None]]
) -> None:
    """`done`: each claimed row that reached FCM, with FCM's message id; or that is given up
    unconfirmed (no message id), with why the push may not have arrived."""
    if not done:
        return
    params = {
        "outbox": [item.outbox_id for item, _, _ in done],
        "leases": [item.lease for item, _, _ in done],
        "alerts": [item.alert_id for item, _, _ in done],
        "incidents": [item.incident_id for item, _, _ in done],
        "kinds": [item.kind for item, _, _ in done],
        "mids": [message_id for _, message_id, _ in done],
        "attempts": [item.attempts + 1 for item, _, _ in done],
        "errors": [error for _, _, error in done],
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


async def reschedule(
    conn: AsyncConnection, item: Claimed, delay_s: float, error: str, *, unconfirmed: bool
) -> None:
    """Try again after `delay_s`; `unconfirmed`: this try may have reached the phone."""
    await conn.execute(
        text(
            "UPDATE outbox SET attempts = attempts + 1, last_error = :error, "
            "unconfirmed = unconfirmed + :unconfirmed, leased_until = NULL, "
            "available_at = now() + make_interval(secs => :delay) "
            "WHERE id = :id AND leased_until = :lease"
        ),
        {**_fenced(item), "delay": delay_s, "error": error, "unconfirmed": int(unconfirmed)},
    )
    if item.kind == "alert":
        await conn.execute(
            text("UPDATE alerts SET push_error = :error WHERE id = :id"),
            {"id": item.alert_id, "error": error},
        )


async def release(conn: AsyncConnection, items: Sequence[Claimed]) -> None:
    """A stopping worker hands back what it leased and did not finish: due again at once."""
    if items:
        await conn.execute(
            text(
                """
                UPDATE outbox o SET leased_until = NULL, available_at = now()
                FROM unnest(CAST(:ids AS bigint[]), CAST(:leases AS timestamptz[]))
                     AS r(id, lease)
                WHERE o.id = r.id AND o.leased_until = r.lease
                """
            ),
            {"ids": [i.outbox_id for i in items], "leases": [i.lease for i in items]},
        )


async def retry_now(conn: AsyncConnection) -> int:
    """FCM answers again: every row waiting out a backoff is due now, so the backlog drains
    at once instead of each row sleeping out its own delay."""
    result = await conn.execute(
        text(
            "UPDATE outbox SET available_at = now() "
            "WHERE leased_until IS NULL AND attempts > 0 AND available_at > now()"
        )
    )
    return int(result.rowcount)


async def next_due_in(conn: AsyncConnection) -> float:
    """Seconds until the next row comes due (infinite when the outbox is empty)."""
    seconds = (
        await conn.execute(
            text("SELECT EXTRACT(EPOCH FROM min(available_at) - now())::float8 FROM outbox")
        )
    ).scalar_one()
    return float("inf") if seconds is None else float(seconds)


async def drop_device(conn: AsyncConnection, device: Device) -> None:
    """FCM said UNREGISTERED: the app was removed or its token rotated."""
    await conn.execute(text("DELETE FROM devices WHERE id = :id"), {"id": device.id})
