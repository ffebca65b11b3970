"""Keeping as little as we can: retention purges, export, and scrubbing on erase."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from responders.background import pause
from responders.db.gateway import Conn, Database
from responders.privacy import store
from responders.settings import PrivacySettings

__all__ = ["Purged", "purge", "purge_loop", "scrub_responder"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    live_locations: int
    alerts: int
    incidents: int


async def purge(conn: Conn, settings: PrivacySettings) -> Purged:
    live = await store.delete_stale_live_locations(conn, settings.live_location_retention_s)
    keep_s = settings.incident_retention_days * 86_400
    ended = await store.purge_ended_incidents(conn, keep_s)
    return Purged(live, ended.alerts, ended.incidents)


async def purge_loop(db: Database, settings: PrivacySettings) -> None:
    while True:
        try:
            async with db.transaction() as conn:
                purged = await purge(conn, settings)
            log.info("privacy purge: %s", purged)
        except Exception:  # retried next round
            log.warning("privacy purge failed; retrying", exc_info=True)
        await pause(settings.purge_interval_s)


async def scrub_responder(conn: Conn, responder_id: int) -> None:
    """Before an erase: positions and routes in alerts, and the id in timelines, go too."""
    await store.scrub_alerts_of(conn, responder_id)
    await store.scrub_timelines_of(conn, responder_id)
