"""The SQL of dispatch, whole and named for what it does; the rest of `dispatch/` (and the
demo upkeep, the flood flags) calls these functions and holds no SQL.

Statements are psycopg's (`%(name)s`; a literal `%` is `%%`) and run on the gateway
(`responders.db.gateway`): a `Conn` where they belong to the caller's transaction, the
`Database` or any `Reader` where a read stands alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from responders.db.gateway import Conn, Database, Reader
from responders.states import EXPIRABLE, OPEN, AlertStatus, sql_list

__all__: list[str] = []

# ---- timers, stand-downs, the timeline, floods, demo upkeep (D2)

__all__ += [
    "OpenIncident",
    "Replacements",
    "StoodDown",
    "add_alert_events",
    "add_event",
    "clear_replacements_due",
    "enqueue_stand_down_pushes",
    "expire_unanswered_alerts",
    "flag_flood_area",
    "lock_due_wave",
    "lock_replacements_due",
    "mark_stood_down",
    "old_open_incidents",
    "restart_alert_caps",
    "stop_wave_timer",
    "withdraw_unsent_pushes",
]

# --- timers (`dispatch.timers`) --------------------------------------------------------

# The list is a literal (made from the set) so that every plan can read the partial index
# of pending alerts, whose predicate is `EXPIRABLE` (alerts_pending_idx, migration 0002).
_EXPIRE_UNANSWERED_ALERTS = f"""
    UPDATE alerts SET status = %(expired)s, updated_at = now()
    WHERE status IN ({sql_list(EXPIRABLE)}) AND expires_at <= now()
    RETURNING id
    """  # noqa: S608 - the list is made from the state names, never from input
# Any number of processes run the timers: SKIP LOCKED hands each due incident to one.
_LOCK_DUE_WAVE = """
    SELECT id FROM incidents
    WHERE status = 'active' AND next_wave_at <= now()
    ORDER BY next_wave_at LIMIT 1
    FOR UPDATE SKIP LOCKED
    """
_STOP_WAVE_TIMER = "UPDATE incidents SET next_wave_at = NULL WHERE id = %(id)s"
_LOCK_REPLACEMENTS_DUE = """
    SELECT id, replacements_due FROM incidents
    WHERE status = 'active' AND replacements_due > 0
    LIMIT 1 FOR UPDATE SKIP LOCKED
    """
_CLEAR_REPLACEMENTS_DUE = "UPDATE incidents SET replacements_due = 0 WHERE id = %(id)s"


@dataclass(frozen=True, slots=True)
class Replacements:
    """An active incident owed `due` volunteers for alerts whose push failed."""

    incident_id: int
    due: int


async def expire_unanswered_alerts(conn: Conn) -> list[int]:
    """Alerts unanswered past their deadline become `expired`; their ids."""
    return await conn.column(_EXPIRE_UNANSWERED_ALERTS, {"expired": AlertStatus.EXPIRED.value})


async def lock_due_wave(conn: Conn) -> int | None:
    """The active incident whose next wave is due longest, locked; None when none is due
    (or every due one is being handled by another process)."""
    incident_id = await conn.scalar(_LOCK_DUE_WAVE)
    return None if incident_id is None else int(incident_id)


async def stop_wave_timer(conn: Conn, incident_id: int) -> None:
    await conn.execute(_STOP_WAVE_TIMER, {"id": incident_id})


async def lock_replacements_due(conn: Conn) -> Replacements | None:
    """An active incident owed replacements, locked; None when none is (or free)."""
    row = await conn.first(_LOCK_REPLACEMENTS_DUE)
    return None if row is None else Replacements(row["id"], row["replacements_due"])


async def clear_replacements_due(conn: Conn, incident_id: int) -> None:
    await conn.execute(_CLEAR_REPLACEMENTS_DUE, {"id": incident_id})


# --- stand-downs (`dispatch.standdown`) ------------------------------------------------

_MARK_STOOD_DOWN = """
    WITH target AS (
        SELECT id, status FROM alerts
        WHERE incident_id = %(incident)s AND status = ANY(%(states)s) FOR UPDATE
    )
    UPDATE alerts a SET status = %(stood_down)s, stand_down_reason = %(reason)s,
           updated_at = now()
    FROM target t WHERE a.id = t.id
    RETURNING a.id, t.status AS before
    """
# A queued alert whose push never left is simply withdrawn. If the row is gone (sent), leased
# by a worker (on the wire right now) or was sent once without FCM confirming it, the phone
# may show the alert: its row goes too, and the volunteer is stood down. Locks: the incident
# (lifecycle), then these alerts (`_MARK_STOOD_DOWN`), then their outbox rows, the worker's
# order too.
_WITHDRAW_ALERT_PUSHES = """
    DELETE FROM outbox WHERE alert_id = ANY(%(ids)s) AND kind = 'alert'
    RETURNING alert_id, leased_until IS NULL AND unconfirmed = 0 AS never_left
    """
_ENQUEUE_STAND_DOWN_PUSHES = """
    INSERT INTO outbox (alert_id, kind, expires_at)
    SELECT id, %(kind)s, now() + make_interval(secs => %(ttl)s)
    FROM alerts WHERE id = ANY(%(ids)s)
    """


@dataclass(frozen=True, slots=True)
class StoodDown:
    """An alert just stood down, and the state it was in before."""

    alert_id: int
    before: AlertStatus


async def mark_stood_down(
    conn: Conn, *, incident_id: int, states: frozenset[AlertStatus], reason: str
) -> list[StoodDown]:
    """The incident's alerts in `states` become `stood_down` for `reason` (locked first)."""
    params = {
        "incident": incident_id,
        "states": sorted(s.value for s in states),
        "reason": reason,
        "stood_down": AlertStatus.STOOD_DOWN.value,
    }
    rows = await conn.rows(_MARK_STOOD_DOWN, params)
    return [StoodDown(row["id"], AlertStatus(row["before"])) for row in rows]


async def withdraw_unsent_pushes(conn: Conn, alert_ids: list[int]) -> set[int]:
    """Drops these alerts' pushes from the outbox; the alerts whose push never left."""
    rows = await conn.rows(_WITHDRAW_ALERT_PUSHES, {"ids": alert_ids})
    return {row["alert_id"] for row in rows if row["never_left"]}


async def enqueue_stand_down_pushes(
    conn: Conn, *, alert_ids: list[int], kind: str, ttl_s: int
) -> None:
    """A push of `kind` (`stand_down` or `no_longer_needed`) for each of these alerts."""
    await conn.execute(_ENQUEUE_STAND_DOWN_PUSHES, {"ids": alert_ids, "kind": kind, "ttl": ttl_s})


# --- the timeline (`dispatch.timeline`) ------------------------------------------------

# Inserting an event also notifies `incident_events` (a trigger), which feeds live views.
_ADD_EVENT = """
    INSERT INTO incident_events (incident_id, alert_id, kind, detail)
    VALUES (%(incident)s, %(alert)s, %(kind)s, CAST(%(detail)s AS jsonb))
    """
_ADD_ALERT_EVENTS = """
    INSERT INTO incident_events (incident_id, alert_id, kind, detail)
    SELECT a.incident_id, a.id, %(kind)s, jsonb_build_object('status', a.status, 'role', a.role)
    FROM alerts a WHERE a.id = ANY(%(ids)s) ORDER BY a.id
    """


async def add_event(
    conn: Conn, *, incident_id: int, kind: str, alert_id: int | None, detail: Mapping[str, Any]
) -> None:
    params = {
        "incident": incident_id,
        "alert": alert_id,
        "kind": kind,
        "detail": orjson.dumps(detail).decode(),
    }
    await conn.execute(_ADD_EVENT, params)


async def add_alert_events(conn: Conn, *, alert_ids: list[int], kind: str) -> None:
    """One event per alert (its status and role now), in one statement."""
    await conn.execute(_ADD_ALERT_EVENTS, {"ids": alert_ids, "kind": kind})


# --- floods of citizen reports (`responders.floods`) -----------------------------------

# Reports of one area come in at once and each flags the others: rows another report (or
# an operator) holds are skipped, not waited for, so two flags never deadlock; whoever holds
# them flags them with the same key, or is confirming them.
_FLAG_FLOOD_AREA = """
    UPDATE incidents SET flood_group = %(group)s
    WHERE id IN (
        SELECT id FROM incidents
        WHERE source = 'citizen' AND status = 'triage' AND flood_group IS NULL
          AND (id = %(id)s OR (created_at > now() - make_interval(secs => %(window)s)
               AND floor(ST_Y(location::geometry) / %(cell)s) = %(row)s
               AND floor(ST_X(location::geometry) / %(cell)s) = %(col)s))
        FOR UPDATE SKIP LOCKED)
    """


async def flag_flood_area(
    conn: Conn,
    *,
    incident_id: int,
    group: str,
    cell_deg: float,
    row: int,
    col: int,
    window_s: int,
) -> None:
    """Report `incident_id`, and the citizen reports in triage from the last `window_s` in
    grid cell (`row`, `col`) of `cell_deg` degrees, join flood group `group`."""
    params = {
        "group": group,
        "id": incident_id,
        "window": window_s,
        "cell": cell_deg,
        "row": row,
        "col": col,
    }
    await conn.execute(_FLAG_FLOOD_AREA, params)


# --- demo upkeep (`responders.demo_upkeep`) --------------------------------------------

# A literal list, the predicate of `incidents_open_idx` (status, created_at; migration 0002).
_OLD_OPEN_INCIDENTS = f"""
    SELECT id, status FROM incidents
    WHERE status IN ({sql_list(OPEN)})
      AND created_at <= now() - make_interval(secs => %(age)s)
    ORDER BY id
    """  # noqa: S608 - the list is made from the state names, never from input
_RESTART_ALERT_CAPS = """
    UPDATE responders SET alert_cap_since = now(), updated_at = now()
    WHERE email LIKE '%%@' || %(domain)s
    """


@dataclass(frozen=True, slots=True)
class OpenIncident:
    id: int
    status: str


async def old_open_incidents(reader: Reader, max_age_s: float) -> list[OpenIncident]:
    """Open incidents reported at least `max_age_s` ago, oldest id first."""
    rows = await reader.rows(_OLD_OPEN_INCIDENTS, {"age": max_age_s})
    return [OpenIncident(row["id"], row["status"]) for row in rows]


async def restart_alert_caps(db: Database, domain: str) -> int:
    """The daily alert cap of every volunteer with an e-mail address at `domain` counts
    from now; how many volunteers."""
    return await db.execute(_RESTART_ALERT_CAPS, {"domain": domain})
