"""The incident timeline: every transition stored with its time (the audit trail).

Inserting an event also notifies `incident_events` (a trigger), which feeds live views.
"""

from __future__ import annotations

from typing import Any

from responders.db.gateway import Conn
from responders.dispatch import store

__all__ = ["record", "record_alerts"]


async def record(
    conn: Conn, incident_id: int, kind: str, alert_id: int | None = None, **detail: Any
) -> None:
    await store.add_event(
        conn, incident_id=incident_id, kind=kind, alert_id=alert_id, detail=detail
    )


async def record_alerts(conn: Conn, alert_ids: list[int], kind: str) -> None:
    """One event per alert, in one statement."""
    if alert_ids:
        await store.add_alert_events(conn, alert_ids=alert_ids, kind=kind)
