"""The incident timeline: every transition stored with its time (the audit trail).

Inserting an event also notifies `incident_events` (a trigger), which feeds live views.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["record", "record_alerts"]

_ONE = text(
    "INSERT INTO incident_events (incident_id, alert_id, kind, detail) "
    "VALUES (:incident, :alert, :kind, CAST(:detail AS jsonb))"
)
_MANY = text(
    """
    INSERT INTO incident_events (incident_id, alert_id, kind, detail)
    SELECT a.incident_id, a.id, :kind, jsonb_build_object('status', a.status, 'role', a.role)
    FROM alerts a WHERE a.id = ANY(:ids) ORDER BY a.id
    """
)


async def record(
    conn: AsyncConnection, incident_id: int, kind: str, alert_id: int | None = None, **detail: Any
) -> None:
    params = {
        "incident": incident_id,
        "alert": alert_id,
        "kind": kind,
        "detail": orjson.dumps(detail).decode(),
    }
    await conn.execute(_ONE, params)


async def record_alerts(conn: AsyncConnection, alert_ids: list[int], kind: str) -> None:
    """One event per alert, in one statement."""
    if alert_ids:
        await conn.execute(_MANY, {"ids": alert_ids, "kind": kind})
