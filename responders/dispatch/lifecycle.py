"""Incident and alert lifecycles: every transition checked, stored, and acted upon."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from responders.dispatch import timeline
from responders.dispatch.standdown import stand_down
from responders.dispatch.waves import (
    INSERT_INCIDENT,
    DispatchContext,
    WaveIncident,
    WaveOutcome,
    run_first_wave,
    run_wave,
)
from responders.errors import IllegalTransition, NotFound
from responders.schemas.incidents import IncidentDetail
from responders.states import (
    ALERT_ACTIONS,
    COMMITTED,
    ENDED,
    INCIDENT_ENDINGS,
    NEEDS_STAND_DOWN,
    NO_LONGER_NEEDED,
    AlertAction,
    AlertStatus,
    IncidentStatus,
    answer,
    sql_list,
)

__all__ = [
    "NewIncident",
    "alert_action",
    "close_incident",
    "confirm_incident",
    "create_incident",
    "dispatch_incident",
    "enough_accepted",
    "replace",
]


@dataclass(frozen=True)
class NewIncident:
    kind: str
    lat: float
    lon: float
    address: str | None
    notes: str | None
    source: str
    callback_phone: str | None = None
    reported_by: int | None = None


# A citizen's report and its first timeline event in one round trip: no wave, no timer.
_CREATE = f"""
    WITH {INSERT_INCIDENT}, reported AS (
        INSERT INTO incident_events (incident_id, kind, detail)
        SELECT id, 'reported', CAST(%(reported)s AS jsonb) FROM made
    )
    SELECT id FROM made
"""  # noqa: S608 - constants only
_TRIAGE = {"wave": 0, "radius": 0.0, "more": False, "timeout": 0}


async def create_incident(conn: AsyncConnection, new: NewIncident) -> int:
    """Store a citizen's report in triage (in `conn`'s transaction): it alerts nobody until
    an operator confirms it."""
    params = {**_columns(new, IncidentStatus.TRIAGE), **_TRIAGE}
    return int((await conn.exec_driver_sql(_CREATE, params)).scalar_one())


async def dispatch_incident(
    context: DispatchContext, new: NewIncident
) -> tuple[WaveOutcome, IncidentDetail]:
    """Store an operator's incident and alert its first wave, committed together (see
    `run_first_wave`); the operator view as committed."""
    draft = WaveIncident(0, new.kind, IncidentStatus.ACTIVE, 0, 0.0, new.lat, new.lon)
    return await run_first_wave(context, draft, _columns(new, IncidentStatus.ACTIVE))


def _columns(new: NewIncident, status: str) -> dict[str, object]:
    """The incident's own columns (`INSERT_INCIDENT` but its wave), and its "reported"
    event's detail."""
    reported = orjson.dumps({"source": new.source, "status": str(status)}).decode()
    return {**new.__dict__, "status": str(status), "reported": reported}


_STATUS = text("SELECT status FROM incidents WHERE id = :id FOR UPDATE")
_SET_STATUS = text(
    f"""
    UPDATE incidents SET status = :status, updated_at = now(), next_wave_at = NULL,
           ended_at = CASE WHEN :status IN ({sql_list(ENDED)}) THEN now() END
    WHERE id = :id
    """  # noqa: S608 - the list is made from the state names, never from input
)


async def _incident_status(conn: AsyncConnection, incident_id: int) -> str:
    status = (await conn.execute(_STATUS, {"id": incident_id})).scalar_one_or_none()
    if status is None:
        raise NotFound("no such incident")
    return str(status)


async def confirm_incident(
    conn: AsyncConnection, context: DispatchContext, incident_id: int
) -> WaveOutcome:
    status = await _incident_status(conn, incident_id)
    if status == IncidentStatus.ACTIVE:
        return WaveOutcome()
    if status != IncidentStatus.TRIAGE:
        raise IllegalTransition(f"a {status} incident cannot be confirmed", state=status)
    await conn.execute(_SET_STATUS, {"status": IncidentStatus.ACTIVE.value, "id": incident_id})
    await timeline.record(conn, incident_id, "confirmed")
    return await run_wave(conn, context, incident_id)


async def close_incident(
    conn: AsyncConnection, context: DispatchContext, incident_id: int, ending: str
) -> list[int]:
    """`ending` is `closed` or `cancelled`; everyone alerted who has not declined stands down."""
    ending = IncidentStatus(ending).value  # a plain name for the driver and the timeline
    status = await _incident_status(conn, incident_id)
    if status == ending:
        return []
    if status not in INCIDENT_ENDINGS[IncidentStatus(ending)]:
        raise IllegalTransition(f"a {status} incident cannot be {ending}", state=status)
    await conn.execute(_SET_STATUS, {"status": ending, "id": incident_id})
    await timeline.record(conn, incident_id, ending)
    return await stand_down(
        conn, incident_id, ending, NEEDS_STAND_DOWN, context.settings.alert_ttl_s
    )


# The actions' allowed states are data (`states.ALERT_ACTIONS`). A `failed` alert (its
# push never arrived: e.g. a volunteer registered in /app has no device) can still be
# answered by a volunteer who sees it in the app, but only while help is still wanted:
# the incident is active and fewer than the wanted number have accepted
# (`enough_accepted`). Once enough have, a failed alert is stood down with the unanswered
# ones (`_after`), so the app stops offering it.
_UNDELIVERED = AlertStatus.FAILED

_ALERT = text(
    """
    SELECT a.id, a.status, a.incident_id, i.status AS incident_status
    FROM alerts a JOIN incidents i ON i.id = a.incident_id
    WHERE a.id = :id AND a.responder_id = :responder
    FOR UPDATE OF a
    """
)
_SET_ALERT = text("UPDATE alerts SET status = :status, updated_at = now() WHERE id = :id")


async def alert_action(
    conn: AsyncConnection, context: DispatchContext, responder_id: int, alert_id: int, action: str
) -> str:
    """Apply a volunteer's answer to their own alert; returns the alert's new status."""
    row = (await conn.execute(_ALERT, {"id": alert_id, "responder": responder_id})).one_or_none()
    if row is None:
        raise NotFound("no such alert")
    target = answer(AlertAction(action), row.status, row.incident_status)
    if target is None:
        return str(row.status)
    if row.status == _UNDELIVERED:
        await _check_help_wanted(conn, context, row.incident_id, row.incident_status, action)
    await conn.execute(_SET_ALERT, {"status": target.value, "id": alert_id})
    await timeline.record(conn, row.incident_id, f"alert_{target.value}", alert_id)
    await _after(conn, context, row.incident_id, action, row.status)
    return target.value


async def _check_help_wanted(
    conn: AsyncConnection,
    context: DispatchContext,
    incident_id: int,
    incident_status: str,
    action: str,
) -> None:
    """An answer to a failed alert is taken only while help is still wanted: the incident
    is active and fewer than the wanted number have accepted."""
    if incident_status != IncidentStatus.ACTIVE:
        raise IllegalTransition(
            f"the incident is {incident_status}",
            state=_UNDELIVERED.value,
            incident_state=incident_status,
        )
    if await enough_accepted(conn, context, incident_id):
        raise IllegalTransition(
            f"cannot {ALERT_ACTIONS[AlertAction(action)].verb} this alert: "
            "enough volunteers have accepted",
            state=_UNDELIVERED.value,
        )


async def _after(
    conn: AsyncConnection, context: DispatchContext, incident_id: int, action: str, before: str
) -> None:
    if action == "accept" and await enough_accepted(conn, context, incident_id):
        await conn.execute(
            text("UPDATE incidents SET next_wave_at = NULL WHERE id = :id"), {"id": incident_id}
        )
        await timeline.record(conn, incident_id, "enough_accepted")
        await stand_down(
            conn, incident_id, "no_longer_needed", NO_LONGER_NEEDED, context.settings.alert_ttl_s
        )
        await _stand_down_failed(conn, incident_id)
    elif action == "decline" and before != _UNDELIVERED:
        # A failed alert was counted as a decline when its push failed (its incident's
        # `replacements_due`): declining it now must not replace that volunteer twice.
        await replace(conn, context, incident_id)


# Failed alerts are stood down without a push: theirs never arrived. A volunteer with the
# app open sees "no longer needed" there instead of an answer that would be refused.
_STAND_DOWN_FAILED = text(
    """
    UPDATE alerts SET status = :stood_down, stand_down_reason = 'no_longer_needed',
           updated_at = now()
    WHERE incident_id = :id AND status = :failed
    RETURNING id
    """
)


async def _stand_down_failed(conn: AsyncConnection, incident_id: int) -> None:
    params = {
        "id": incident_id,
        "stood_down": AlertStatus.STOOD_DOWN.value,
        "failed": _UNDELIVERED.value,
    }
    ids = list((await conn.execute(_STAND_DOWN_FAILED, params)).scalars())
    await timeline.record_alerts(conn, ids, "alert_stood_down:no_longer_needed")


async def replace(conn: AsyncConnection, context: DispatchContext, incident_id: int) -> None:
    if not await enough_accepted(conn, context, incident_id):
        await run_wave(conn, context, incident_id, widen=False, size=1)


_ACCEPTED = text(
    """
    SELECT count(*) FILTER (WHERE status = ANY(:committed)) AS accepted,
           count(*) FILTER (WHERE status = ANY(:committed) AND role = 'via_aed') AS via,
           count(*) FILTER (WHERE role = 'via_aed') AS via_alerted
    FROM alerts WHERE incident_id = :id
    """
)


async def enough_accepted(
    conn: AsyncConnection, context: DispatchContext, incident_id: int
) -> bool:
    """Enough: the wanted number accepted and, when any AED was in play, one is fetching."""
    params = {"id": incident_id, "committed": [s.value for s in COMMITTED]}
    row = (await conn.execute(_ACCEPTED, params)).one()
    aed_covered = row.via_alerted == 0 or row.via > 0
    return bool(row.accepted >= context.settings.wanted_accepts and aed_covered)
