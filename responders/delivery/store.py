"""The outbox's SQL, every statement of the push worker: lease rows, and record what
happened to them.

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
from dataclasses import dataclass

from responders.db.gateway import Conn, Database, Row
from responders.delivery.messages import Claimed, Device
from responders.push import WebPushKeys
from responders.states import AlertStatus, IncidentStatus

__all__ = [
    "Sent",
    "claim",
    "devices_of",
    "drop_device",
    "fail_alert",
    "lock_incidents_then_alerts",
    "next_due_in",
    "record_sent",
    "release",
    "reschedule",
    "retry_now",
    "withdraw",
]

# The claimed rows come back with what the push needs of their alert and incident.
_CLAIM_DUE = """
    WITH picked AS (
        SELECT id FROM outbox
        WHERE available_at <= now()
        ORDER BY available_at, id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    ), leased AS (
        UPDATE outbox o
        SET leased_until = now() + make_interval(secs => %(lease)s),
            available_at = now() + make_interval(secs => %(lease)s)
        FROM picked WHERE o.id = picked.id
        RETURNING o.*
    )
    SELECT l.id AS outbox_id, l.kind, l.attempts, l.unconfirmed, l.leased_until AS lease,
           EXTRACT(EPOCH FROM l.expires_at - now())::float8 AS seconds_left,
           a.id AS alert_id, a.status AS alert_status, a.incident_id, i.kind AS incident_kind,
           a.responder_id, a.role, a.walk_seconds, a.stand_down_reason, i.end_reason
    FROM leased l
    JOIN alerts a ON a.id = l.alert_id
    JOIN incidents i ON i.id = a.incident_id
    ORDER BY l.id
"""
_LOCK_INCIDENTS = """
    SELECT id FROM incidents WHERE id = ANY(%(ids)s::bigint[]) ORDER BY id FOR NO KEY UPDATE
"""
_LOCK_ALERTS = """
    SELECT id FROM alerts WHERE id = ANY(%(ids)s::bigint[]) ORDER BY id FOR UPDATE
"""
_DEVICES_OF_RESPONDERS = """
    SELECT id, responder_id, kind, fcm_token, platform, endpoint, p256dh, auth FROM devices
    WHERE responder_id = ANY(%(ids)s::bigint[]) ORDER BY id
"""
_DELETE_LEASED = "DELETE FROM outbox WHERE id = %(id)s AND leased_until = %(lease)s"
# Every push of a batch that reached its push service (or was given up as unconfirmed, with
# its error), recorded at once: the rows leave the outbox, the alerts become `sent`, and
# each gets its timeline event. One statement per batch instead of three per alert
# (bench/bench_push.py).
_RECORD_SENT = f"""
    WITH done AS (
        SELECT * FROM unnest(%(outbox)s::bigint[], %(leases)s::timestamptz[],
                             %(alerts)s::bigint[], %(incidents)s::bigint[],
                             %(kinds)s::text[], %(mids)s::text[],
                             %(attempts)s::integer[], %(errors)s::text[])
               AS d(outbox_id, lease, alert_id, incident_id, kind, mid, attempt, error)
    ), gone AS (
        DELETE FROM outbox o USING done
        WHERE o.id = done.outbox_id AND o.leased_until = done.lease
    ), marked AS (
        UPDATE alerts a SET fcm_message_id = done.mid, push_error = done.error,
               updated_at = now(),
               status = CASE WHEN a.status = '{AlertStatus.QUEUED}' THEN '{AlertStatus.SENT}'
                             ELSE a.status END
        FROM done WHERE a.id = done.alert_id AND done.kind = 'alert'
    )
    INSERT INTO incident_events (incident_id, alert_id, kind, detail)
    SELECT incident_id, alert_id, 'push_sent:' || kind,
           jsonb_strip_nulls(jsonb_build_object('message_id', mid, 'attempt', attempt,
                                                'unconfirmed', error))
    FROM done ORDER BY outbox_id
"""  # noqa: S608 - the statuses are the state machine's names, never input
# A failed alert is replaced like a decline: its active incident owes one more alert.
_FAIL_QUEUED_ALERT = f"""
    WITH failed AS (
        UPDATE alerts SET status = '{AlertStatus.FAILED}', push_error = %(reason)s,
               updated_at = now()
        WHERE id = %(id)s AND status = '{AlertStatus.QUEUED}'
        RETURNING incident_id
    )
    UPDATE incidents i SET replacements_due = replacements_due + 1
    FROM failed WHERE i.id = failed.incident_id AND i.status = '{IncidentStatus.ACTIVE}'
"""  # noqa: S608 - the statuses are the state machine's names, never input
_RESCHEDULE_LEASED = """
    UPDATE outbox SET attempts = attempts + 1, last_error = %(error)s,
           unconfirmed = unconfirmed + %(unconfirmed)s, leased_until = NULL,
           available_at = now() + make_interval(secs => %(delay)s)
    WHERE id = %(id)s AND leased_until = %(lease)s
"""
_NOTE_PUSH_ERROR = "UPDATE alerts SET push_error = %(error)s WHERE id = %(id)s"
_RELEASE_LEASED = """
    UPDATE outbox o SET leased_until = NULL, available_at = now()
    FROM unnest(%(ids)s::bigint[], %(leases)s::timestamptz[]) AS r(id, lease)
    WHERE o.id = r.id AND o.leased_until = r.lease
"""
_END_BACKOFFS = """
    UPDATE outbox SET available_at = now()
    WHERE leased_until IS NULL AND attempts > 0 AND available_at > now()
"""
_SECONDS_TO_NEXT_DUE = "SELECT EXTRACT(EPOCH FROM min(available_at) - now())::float8 FROM outbox"
_DELETE_DEVICE = "DELETE FROM devices WHERE id = %(id)s"


@dataclass(frozen=True, slots=True)
class Sent:
    """A claimed row that reached its push service (`message_id`: FCM's id for it, or the
    Web Push service's `Location`; both go in the alert's `fcm_message_id`), or that is
    given up unconfirmed (no message id; `error` says why the push may not have arrived)."""

    item: Claimed
    message_id: str | None
    error: str | None = None


async def claim(conn: Conn, *, limit: int, lease_s: float) -> list[Claimed]:
    """Lease up to `limit` due rows; commit right after, nothing stays locked."""
    rows = await conn.rows(_CLAIM_DUE, {"limit": limit, "lease": lease_s})
    return [Claimed(**row) for row in rows]


async def lock_incidents_then_alerts(conn: Conn, items: Sequence[Claimed]) -> None:
    """The record step's locks, taken first and in the stand-down's order: incidents, then
    alerts, each by id. Writing the timeline needs the incident (its foreign key), which a
    cancel holds `FOR UPDATE` while it locks the alerts: taking the alert first deadlocked."""
    await conn.execute(_LOCK_INCIDENTS, {"ids": sorted({item.incident_id for item in items})})
    await conn.execute(_LOCK_ALERTS, {"ids": sorted({item.alert_id for item in items})})


async def devices_of(conn: Conn, responder_ids: Sequence[int]) -> dict[int, list[Device]]:
    """Each responder's registered devices, by responder id (absent: none)."""
    found: dict[int, list[Device]] = {}
    for row in await conn.rows(_DEVICES_OF_RESPONDERS, {"ids": list(responder_ids)}):
        found.setdefault(row["responder_id"], []).append(_device(row))
    return found


def _device(row: Row) -> Device:
    if row["kind"] == "webpush":
        keys = WebPushKeys(p256dh=row["p256dh"], auth=row["auth"])
        return Device(row["id"], row["endpoint"], row["platform"], "webpush", keys)
    return Device(row["id"], row["fcm_token"], row["platform"])


def _fenced(item: Claimed) -> dict[str, object]:
    return {"id": item.outbox_id, "lease": item.lease}


async def withdraw(conn: Conn, item: Claimed) -> None:
    """The row leaves the outbox unsent (its push is moot, or given up)."""
    await conn.execute(_DELETE_LEASED, _fenced(item))


async def record_sent(conn: Conn, done: Sequence[Sent]) -> None:
    """The rows leave the outbox, their alerts become `sent`, each gets its timeline event."""
    if not done:
        return
    params = {
        "outbox": [sent.item.outbox_id for sent in done],
        "leases": [sent.item.lease for sent in done],
        "alerts": [sent.item.alert_id for sent in done],
        "incidents": [sent.item.incident_id for sent in done],
        "kinds": [sent.item.kind for sent in done],
        "mids": [sent.message_id for sent in done],
        "attempts": [sent.item.attempts + 1 for sent in done],
        "errors": [sent.error for sent in done],
    }
    await conn.execute(_RECORD_SENT, params)


async def fail_alert(conn: Conn, alert_id: int, reason: str) -> None:
    """A queued alert whose push is given up becomes `failed`, and its active incident
    owes a replacement; an alert already answered or stood down stays as it is."""
    await conn.execute(_FAIL_QUEUED_ALERT, {"id": alert_id, "reason": reason})


async def reschedule(
    conn: Conn, item: Claimed, *, delay_s: float, error: str, unconfirmed: bool
) -> None:
    """Try again after `delay_s`; `unconfirmed`: this try may have reached the phone. An
    alert shows the error meanwhile."""
    params = {**_fenced(item), "delay": delay_s, "error": error, "unconfirmed": int(unconfirmed)}
    await conn.execute(_RESCHEDULE_LEASED, params)
    if item.kind == "alert":
        await conn.execute(_NOTE_PUSH_ERROR, {"id": item.alert_id, "error": error})


async def release(conn: Conn, items: Sequence[Claimed]) -> None:
    """Hands back leased rows, due again at once."""
    if items:
        params = {"ids": [i.outbox_id for i in items], "leases": [i.lease for i in items]}
        await conn.execute(_RELEASE_LEASED, params)


async def retry_now(conn: Conn) -> int:
    """Every row waiting out a backoff is due now; how many were."""
    return await conn.execute(_END_BACKOFFS)


async def next_due_in(db: Database) -> float:
    """Seconds until the next row comes due (infinite when the outbox is empty)."""
    seconds = await db.scalar(_SECONDS_TO_NEXT_DUE)
    return float("inf") if seconds is None else float(seconds)


async def drop_device(conn: Conn, device: Device) -> None:
    """Forget a device its push service no longer knows (FCM's UNREGISTERED; a Web Push
    subscription's 404 or 410)."""
    await conn.execute(_DELETE_DEVICE, {"id": device.id})
