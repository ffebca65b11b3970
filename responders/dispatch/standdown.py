"""Stand-downs: tell alerted volunteers they are no longer needed, or that it is over."""

from __future__ import annotations

from responders.db.gateway import Conn
from responders.dispatch import store, timeline
from responders.states import AlertStatus

__all__ = ["stand_down"]

# Who stands down is the caller's set: `states.NEEDS_STAND_DOWN` when an incident ends,
# `states.NO_LONGER_NEEDED` when enough have accepted.


async def stand_down(
    conn: Conn,
    incident_id: int,
    reason: str,
    states: frozenset[AlertStatus],
    ttl_s: int,
) -> list[int]:
    marked = await store.mark_stood_down(
        conn, incident_id=incident_id, states=states, reason=reason
    )
    ids = [m.alert_id for m in marked]
    # A queued alert whose push never left is withdrawn without a stand-down push (see
    # `store.withdraw_unsent_pushes`); every other one may be on the phone.
    queued = [m.alert_id for m in marked if m.before == AlertStatus.QUEUED]
    withdrawn = await store.withdraw_unsent_pushes(conn, queued) if queued else set()
    to_notify = [i for i in ids if i not in withdrawn]
    kind = "no_longer_needed" if reason == "no_longer_needed" else "stand_down"
    if to_notify:
        await store.enqueue_stand_down_pushes(conn, alert_ids=to_notify, kind=kind, ttl_s=ttl_s)
    await timeline.record_alerts(conn, ids, f"alert_stood_down:{reason}")
    return ids
