"""An operator corrects an open incident: the pin, the address, the notes.

The change is stored with the old and new values in the timeline ("corrected"), the alerts'
stored routes are forgotten when the pin moved (they are drawn again, to the new pin, when
read), and every volunteer who may be on the way gets an `update` push: the app then reads
the alert again, which shows the incident as it is now. Like every push, it carries no
address or location (`responders.delivery.messages`).
"""

from __future__ import annotations

import dataclasses
import math

from responders.db.gateway import Conn
from responders.dispatch import store, timeline
from responders.dispatch.store import IncidentFacts
from responders.dispatch.waves import DispatchContext
from responders.errors import IllegalTransition, InvalidInput, NotFound
from responders.schemas.incidents import IncidentCorrection
from responders.states import BUSY, OPEN, AlertStatus

__all__ = ["TOLD_OF_CORRECTIONS", "correct_incident"]

# Who hears of a correction: everyone whose alert reached the phone and who has not said no
# or been stood down (busy: on the way, or still deciding). A queued alert's push has not
# left yet: the alert it opens is read after the correction anyway.
TOLD_OF_CORRECTIONS = BUSY - {AlertStatus.QUEUED}
# A pin moved by less than this is where it was (coordinates are rounded to a centimetre).
_SAME_PLACE_M = 0.5
_EARTH_RADIUS_M = 6_371_008.8


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine): what the timeline says the pin moved."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _changes(old: IncidentFacts, new: IncidentFacts) -> dict[str, dict[str, object]]:
    """What changed, old → new, for the timeline."""
    changes: dict[str, dict[str, object]] = {}
    moved = _distance_m(old.lat, old.lon, new.lat, new.lon)
    if moved >= _SAME_PLACE_M:
        changes["location"] = {
            "old": [old.lat, old.lon],
            "new": [new.lat, new.lon],
            "moved_m": round(moved, 1),
        }
    for name in ("address", "notes"):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes[name] = {"old": before, "new": after}
    return changes


def _corrected(old: IncidentFacts, correction: IncidentCorrection) -> IncidentFacts:
    """The facts with the correction's fields applied (a blank text clears it)."""
    sent = correction.model_fields_set - {"confirm_off_network"}
    if not sent:
        raise InvalidInput(
            "Nothing to correct: send a new location, address or notes.", field="body"
        )
    new = old
    if "location" in sent:
        if correction.location is None:
            raise InvalidInput("An incident needs a location.", field="body.location")
        new = dataclasses.replace(new, lat=correction.location.lat, lon=correction.location.lon)
    if "address" in sent:
        new = dataclasses.replace(new, address=correction.address or None)
    if "notes" in sent:
        new = dataclasses.replace(new, notes=correction.notes or None)
    return new


async def correct_incident(
    conn: Conn, context: DispatchContext, incident_id: int, correction: IncidentCorrection
) -> list[int]:
    """Apply an operator's correction to an open incident (in `conn`'s transaction); the
    alerts an update push goes to. An ended incident is history: 409."""
    old = await store.lock_incident_facts(conn, incident_id)
    if old is None:
        raise NotFound("no such incident")
    new = _corrected(old, correction)
    if old.status not in OPEN:
        raise IllegalTransition(
            f"a {old.status} incident cannot be corrected: it has ended", state=old.status
        )
    changes = _changes(old, new)
    if not changes:
        return []
    await store.correct_incident(conn, incident_id, new)
    if "location" in changes:
        await store.forget_routes(conn, incident_id)
    await timeline.record(conn, incident_id, "corrected", changes=changes)
    return await store.enqueue_update_pushes(
        conn, incident_id, TOLD_OF_CORRECTIONS, context.settings.alert_ttl_s
    )
