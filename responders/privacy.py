"""Keeping as little as we can: retention purges, export, and scrubbing on erase."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from responders.db.gateway import Conn
from responders.settings import PrivacySettings
from responders.states import ENDED, sql_list

__all__ = ["Purged", "purge", "purge_loop", "scrub_responder"]

log = logging.getLogger(__name__)

_LIVE = text("DELETE FROM live_locations WHERE updated_at < now() - make_interval(secs => :keep)")
# One statement: pick the due incidents once, then strip each table of what it holds.
# The ended states are a literal list so that every plan can read `incidents_unpurged_idx`,
# whose predicate they are (migration 0003).
_PURGE_INCIDENTS = text(
    f"""
    WITH due AS (
        SELECT id FROM incidents
        WHERE purged_at IS NULL AND status IN ({sql_list(ENDED)})
          AND ended_at < now() - make_interval(secs => :keep)
        FOR UPDATE
    ), alerts_done AS (
        UPDATE alerts SET route = NULL, origin = NULL, responder_id = NULL
        WHERE incident_id IN (SELECT id FROM due) RETURNING id
    ), events_done AS (
        -- The timeline stays; only who was unreachable (volunteer ids) goes.
        UPDATE incident_events SET detail = detail - 'unreachable'
        WHERE incident_id IN (SELECT id FROM due) AND detail ? 'unreachable' RETURNING id
    ), incidents_done AS (
        UPDATE incidents SET address = NULL, notes = NULL, callback_phone = NULL,
               purged_at = now()
        WHERE id IN (SELECT id FROM due) RETURNING id
    )
    SELECT (SELECT count(*) FROM incidents_done) AS incidents,
           (SELECT count(*) FROM alerts_done) AS alerts
    """  # noqa: S608 - the list is made from the state names, never from input
)


@dataclass(frozen=True)
class Purged:
    live_locations: int
    alerts: int
    incidents: int


async def purge(conn: AsyncConnection, settings: PrivacySettings) -> Purged:
    live = await conn.execute(_LIVE, {"keep": settings.live_location_retention_s})
    keep = {"keep": settings.incident_retention_days * 86_400}
    ended = (await conn.execute(_PURGE_INCIDENTS, keep)).one()
    return Purged(live.rowcount, ended.alerts, ended.incidents)


async def purge_loop(engine: AsyncEngine, settings: PrivacySettings) -> None:
    while True:
        try:
            async with engine.begin() as conn:
                purged = await purge(conn, settings)
            log.info("privacy purge: %s", purged)
        except Exception:  # retried next round
            log.warning("privacy purge failed; retrying", exc_info=True)
        await asyncio.sleep(settings.purge_interval_s)


# TEMP bridge, drop at merge: helper D2 moves these into privacy's store with this signature.
_SCRUB_ALERTS = "UPDATE alerts SET route = NULL, origin = NULL WHERE responder_id = %(id)s"
_SCRUB_EVENTS = """
    UPDATE incident_events SET detail = jsonb_set(detail, '{unreachable}', coalesce(
        (SELECT jsonb_agg(e) FROM jsonb_array_elements(detail -> 'unreachable') e
         WHERE (e ->> 'responder_id')::bigint <> %(id)s), '[]'))
    WHERE detail -> 'unreachable'
          @> jsonb_build_array(jsonb_build_object('responder_id', %(id)s::bigint))
"""


async def scrub_responder(conn: Conn, responder_id: int) -> None:
    """Before an erase: positions and routes in alerts, and the id in timelines, go too."""
    await conn.execute(_SCRUB_ALERTS, {"id": responder_id})
    await conn.execute(_SCRUB_EVENTS, {"id": responder_id})
