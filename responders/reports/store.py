"""The SQL of a citizen's status link: the token's digest on the report, the report's
status as its reporter may see it (counts only: never a volunteer's name, phone or
position), and the "seen" mark an operator's first look leaves on a report in triage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from responders.db.gateway import Database, Reader
from responders.states import AlertStatus, IncidentStatus

__all__ = ["ReportRow", "mark_seen", "report_by_token"]

# The report its link names, and its alerts counted: every alert whose push went out or is
# going (a failed one never reached a phone), those on their way, those there.
_REPORT_BY_DIGEST = """
    SELECT i.id, i.kind, i.status, i.seen_at, i.created_at, i.ended_at,
           ST_Y(i.location::geometry) AS lat, ST_X(i.location::geometry) AS lon,
           count(a.id) FILTER (WHERE a.status <> %(failed)s) AS alerted,
           count(a.id) FILTER (WHERE a.status = %(accepted)s) AS coming,
           count(a.id) FILTER (WHERE a.status = %(arrived)s) AS arrived
    FROM incidents i LEFT JOIN alerts a ON a.incident_id = i.id
    WHERE i.status_token_hash = %(digest)s
    GROUP BY i.id
"""

# Once: only a report still in triage that no operator opened before. The UPDATE takes the
# row's lock, so two operators opening it at the same moment write one event, not two.
# Inserting the event notifies live views (a trigger), as every timeline event does.
_MARK_SEEN = f"""
    WITH seen AS (
        UPDATE incidents SET seen_at = now()
        WHERE id = %(id)s AND status = '{IncidentStatus.TRIAGE}' AND seen_at IS NULL
        RETURNING id
    )
    INSERT INTO incident_events (incident_id, kind, detail)
    SELECT id, 'seen', '{{}}'::jsonb FROM seen
"""  # noqa: S608 - the status is the state machine's name


@dataclass(frozen=True, slots=True)
class ReportRow:
    id: int
    kind: str
    status: str
    seen_at: dt.datetime | None
    created_at: dt.datetime
    ended_at: dt.datetime | None
    lat: float
    lon: float
    alerted: int
    coming: int
    arrived: int


async def report_by_token(reader: Reader, digest: bytes) -> ReportRow | None:
    """The report whose status token has this digest, with its alerts counted; None: none."""
    params = {
        "digest": digest,
        "failed": AlertStatus.FAILED.value,
        "accepted": AlertStatus.ACCEPTED.value,
        "arrived": AlertStatus.ARRIVED.value,
    }
    rows = await reader.rows(_REPORT_BY_DIGEST, params)
    return ReportRow(**rows[0]) if rows else None


async def mark_seen(db: Database, incident_id: int) -> bool:
    """Note that an operator opened this report, if it is in triage and nobody had; whether
    this call was the first."""
    return await db.execute(_MARK_SEEN, {"id": incident_id}) > 0
