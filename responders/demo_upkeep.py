"""Keeps the demo usable while people try it: its incidents close themselves after a while,
and every start gives the demo volunteers a fresh day.

Without this, ten test incidents left open in ten minutes kept half of the 300 demo
volunteers busy and some at their daily alert cap, so the next incident reached only
volunteers minutes away. Nothing here rewrites history: an incident is closed the way an
operator closes it (stand-downs go out, the timeline says the demo closed it), and the cap
restarts from a time stored on each volunteer (`responders.alert_cap_since`) while their
past alerts stay as they were.
"""

from __future__ import annotations

import logging

from responders.background import pause
from responders.db.gateway import Database
from responders.dispatch import store, timeline
from responders.dispatch.lifecycle import close_incident
from responders.dispatch.waves import DispatchContext
from responders.errors import IllegalTransition, Unavailable
from responders.states import IncidentStatus

__all__ = ["DEMO_DOMAIN", "close_old_incidents", "fresh_day", "upkeep_loop"]

log = logging.getLogger(__name__)

# The note of the demo's own endings (reason "other"), by why the demo ended it.
_DEMO_NOTES = {"age": "Ended by the demo: it was old.", "restart": "Ended by the demo's restart."}

# Demo volunteers are the ones registered with an e-mail address of this domain.
DEMO_DOMAIN = "demo.ehbo.example"


async def close_old_incidents(
    db: Database, context: DispatchContext, max_age_s: float, *, reason: str = "age"
) -> list[int]:
    """Ends every open incident reported at least `max_age_s` ago, as an operator would: an
    active one is closed, a citizen report still in triage is cancelled; everyone alerted
    who has not declined stands down. The timeline says the demo did it, and why (`reason`:
    `age`, or `restart`). Returns the ids ended."""
    ended = []
    for old in await store.old_open_incidents(db, max_age_s):
        active = old.status == IncidentStatus.ACTIVE
        ending = IncidentStatus.CLOSED if active else IncidentStatus.CANCELLED
        incident_id = old.id
        try:
            async with db.transaction() as conn:
                await timeline.record(
                    conn, incident_id, "demo_ended", reason=reason, after_s=max_age_s
                )
                await close_incident(
                    conn,
                    context,
                    incident_id,
                    ending,
                    "other",
                    _DEMO_NOTES.get(reason, "Ended by the demo."),
                )
        except IllegalTransition:
            continue  # an operator ended it (or confirmed it) meanwhile: theirs to decide
        except Unavailable:
            # One incident the database could not end now (it is tried again next round)
            # does not keep the others open.
            log.warning("demo: incident %s could not be ended now", incident_id, exc_info=True)
            continue
        ended.append(incident_id)
    return ended


async def fresh_day(db: Database, context: DispatchContext) -> list[int]:
    """Nobody busy, nobody capped: ends the incidents a previous run left open and restarts
    the demo volunteers' daily alert cap. Returns the incidents ended."""
    ended = await close_old_incidents(db, context, 0, reason="restart")
    await store.restart_alert_caps(db, DEMO_DOMAIN)
    return ended


async def upkeep_loop(db: Database, context: DispatchContext, max_age_s: float) -> None:
    """Runs until cancelled; ends demo incidents once they are `max_age_s` old (checked a
    few times per that age, at least every 30 s). A failing round is logged and retried."""
    interval_s = min(30.0, max(1.0, max_age_s / 4))
    while True:
        try:
            ended = await close_old_incidents(db, context, max_age_s)
            if ended:
                log.info("demo: ended incidents %s after %.0f s", ended, max_age_s)
        except Exception:
            log.warning("demo upkeep round failed; retrying", exc_info=True)
        await pause(interval_s)
