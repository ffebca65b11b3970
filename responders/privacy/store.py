"""The SQL of privacy: retention purges and scrubbing a volunteer's traces on erase."""

from __future__ import annotations

from dataclasses import dataclass

from responders.db.gateway import Conn
from responders.states import ENDED, sql_list

__all__ = [
    "PurgedIncidents",
    "delete_stale_live_locations",
    "purge_ended_incidents",
    "scrub_alerts_of",
    "scrub_timelines_of",
]

_DELETE_STALE_LIVE_LOCATIONS = """
    DELETE FROM live_locations WHERE updated_at < now() - make_interval(secs => %(keep)s)
    """
# One statement: pick the due incidents once, then strip each table of what it holds.
# The ended states are a literal list so that every plan can read `incidents_unpurged_idx`,
# whose predicate they are (migration 0003).
_PURGE_ENDED_INCIDENTS = f"""
    WITH due AS (
        SELECT id FROM incidents
        WHERE purged_at IS NULL AND status IN ({sql_list(ENDED)})
          AND ended_at < now() - make_interval(secs => %(keep)s)
        FOR UPDATE
    ), alerts_done AS (
        UPDATE alerts SET route = NULL, origin = NULL, responder_id = NULL
        WHERE incident_id IN (SELECT id FROM due) RETURNING id
    ), events_done AS (
        -- The timeline stays; who was unreachable (volunteer ids), an ending's note and a
        -- correction's old and new texts go (a correction keeps the names of what changed).
        UPDATE incident_events SET detail = detail - 'unreachable' - 'note' - 'changes'
               || CASE WHEN detail ? 'changes' THEN jsonb_build_object('changed', (
                      SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(detail -> 'changes') k))
                  ELSE jsonb_build_object() END
        WHERE incident_id IN (SELECT id FROM due)
          AND detail ?| ARRAY['unreachable', 'note', 'changes']
        RETURNING id
    ), incidents_done AS (
        UPDATE incidents SET address = NULL, notes = NULL, callback_phone = NULL,
               end_note = NULL, status_token_hash = NULL, purged_at = now()
        WHERE id IN (SELECT id FROM due) RETURNING id
    )
    SELECT (SELECT count(*) FROM incidents_done) AS incidents,
           (SELECT count(*) FROM alerts_done) AS alerts
    """  # noqa: S608 - the list is made from the state names, never from input
_SCRUB_ALERTS_OF = "UPDATE alerts SET route = NULL, origin = NULL WHERE responder_id = %(id)s"
_SCRUB_TIMELINES_OF = """
    UPDATE incident_events SET detail = jsonb_set(detail, '{unreachable}', coalesce(
        (SELECT jsonb_agg(e) FROM jsonb_array_elements(detail -> 'unreachable') e
         WHERE (e ->> 'responder_id')::bigint <> %(id)s), '[]'))
    WHERE detail -> 'unreachable' @> jsonb_build_array(jsonb_build_object('responder_id', %(id)s))
    """


@dataclass(frozen=True, slots=True)
class PurgedIncidents:
    """How many ended incidents were stripped, and how many of their alerts."""

    incidents: int
    alerts: int


async def delete_stale_live_locations(conn: Conn, keep_s: int) -> int:
    """Live positions not updated for `keep_s`; how many went."""
    return await conn.execute(_DELETE_STALE_LIVE_LOCATIONS, {"keep": keep_s})


async def purge_ended_incidents(conn: Conn, keep_s: float) -> PurgedIncidents:
    """Incidents ended more than `keep_s` ago lose their address, notes, phone and ending
    note, their alerts their routes, positions and volunteer, their timeline who was
    unreachable, the ending's note and the corrections' texts."""
    row = await conn.one(_PURGE_ENDED_INCIDENTS, {"keep": keep_s})
    return PurgedIncidents(incidents=row["incidents"], alerts=row["alerts"])


async def scrub_alerts_of(conn: Conn, responder_id: int) -> None:
    """The volunteer's positions and routes in every alert they had."""
    await conn.execute(_SCRUB_ALERTS_OF, {"id": responder_id})


async def scrub_timelines_of(conn: Conn, responder_id: int) -> None:
    """The volunteer's id in every timeline's list of who was unreachable."""
    await conn.execute(_SCRUB_TIMELINES_OF, {"id": responder_id})
