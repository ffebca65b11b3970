"""Incident and alert lifecycles: every transition checked, stored, and acted upon."""

from __future__ import annotations

from responders.db.gateway import Conn
from responders.dispatch import store, timeline
from responders.dispatch.standdown import stand_down
from responders.dispatch.store import NewIncident
from responders.dispatch.waves import DispatchContext, WaveOutcome, run_first_wave, run_wave
from responders.endings import CANCEL_REASONS, CLOSE_REASONS, NOTE_REQUIRED
from responders.errors import IllegalTransition, InvalidInput, NotFound
from responders.schemas.incidents import IncidentDetail
from responders.states import (
    ALERT_ACTIONS,
    INCIDENT_ENDINGS,
    NEEDS_STAND_DOWN,
    NO_LONGER_NEEDED,
    AlertAction,
    AlertStatus,
    IncidentStatus,
    answer,
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


async def create_incident(conn: Conn, new: NewIncident) -> int:
    """Store a citizen's report in triage (in `conn`'s transaction): it alerts nobody until
    an operator confirms it."""
    return await store.create_report(conn, new)


async def dispatch_incident(
    context: DispatchContext, new: NewIncident
) -> tuple[WaveOutcome, IncidentDetail]:
    """Store an operator's incident and alert its first wave, committed together (see
    `run_first_wave`); the operator view as committed."""
    return await run_first_wave(context, new)


async def _incident_status(conn: Conn, incident_id: int) -> str:
    status = await store.lock_incident_status(conn, incident_id)
    if status is None:
        raise NotFound("no such incident")
    return status


async def confirm_incident(conn: Conn, context: DispatchContext, incident_id: int) -> WaveOutcome:
    status = await _incident_status(conn, incident_id)
    if status == IncidentStatus.ACTIVE:
        return WaveOutcome()
    if status != IncidentStatus.TRIAGE:
        raise IllegalTransition(f"a {status} incident cannot be confirmed", state=status)
    await store.set_incident_status(conn, incident_id, IncidentStatus.ACTIVE)
    await timeline.record(conn, incident_id, "confirmed")
    return await run_wave(conn, context, incident_id)


async def close_incident(
    conn: Conn,
    context: DispatchContext,
    incident_id: int,
    ending: str,
    reason: str,
    note: str | None = None,
) -> list[int]:
    """`ending` is `closed` or `cancelled`, for `reason` (`responders.endings`, with the
    operator's `note`); everyone alerted who has not declined stands down, and their
    stand-down push says why."""
    final = IncidentStatus(ending)
    ending = final.value  # a plain name for the timeline
    _check_reason(final, reason, note)
    status = await _incident_status(conn, incident_id)
    if status == ending:
        return []
    if status not in INCIDENT_ENDINGS[final]:
        raise IllegalTransition(f"a {status} incident cannot be {ending}", state=status)
    await store.set_incident_status(conn, incident_id, final)
    # Before the stand-downs: their pushes read the reason from the incident.
    await store.set_end_reason(conn, incident_id, reason, note)
    await timeline.record(conn, incident_id, ending, reason=reason, note=note)
    return await stand_down(
        conn, incident_id, ending, NEEDS_STAND_DOWN, context.settings.alert_ttl_s
    )


def _check_reason(ending: IncidentStatus, reason: str, note: str | None) -> None:
    """The request's schema checks this for the API; the demo and scripts come here too."""
    known = CLOSE_REASONS if ending == IncidentStatus.CLOSED else CANCEL_REASONS
    if reason not in known:
        raise InvalidInput(
            f"Choose why it is {ending.value}: one of {', '.join(known)}.", field="body.reason"
        )
    if reason == NOTE_REQUIRED and not note:
        raise InvalidInput(
            'Write what happened: the reason "other" needs a note.', field="body.note"
        )


# The actions' allowed states are data (`states.ALERT_ACTIONS`). A `failed` alert (its
# push never arrived: e.g. a volunteer registered in /app has no device) can still be
# answered by a volunteer who sees it in the app, but only while help is still wanted:
# the incident is active and fewer than the wanted number have accepted
# (`enough_accepted`). Once enough have, a failed alert is stood down with the unanswered
# ones (`_after`), so the app stops offering it.
_UNDELIVERED = AlertStatus.FAILED


async def alert_action(
    conn: Conn, context: DispatchContext, responder_id: int, alert_id: int, action: str
) -> str:
    """Apply a volunteer's answer to their own alert; returns the alert's new status."""
    row = await store.lock_own_alert(conn, alert_id=alert_id, responder_id=responder_id)
    if row is None:
        raise NotFound("no such alert")
    target = answer(AlertAction(action), row.status, row.incident_status)
    if target is None:
        return str(row.status)
    if row.status == _UNDELIVERED:
        await _check_help_wanted(conn, context, row.incident_id, row.incident_status, action)
    await store.set_alert_status(conn, alert_id, target.value)
    await timeline.record(conn, row.incident_id, f"alert_{target.value}", alert_id)
    await _after(conn, context, row.incident_id, action, row.status)
    return target.value


async def _check_help_wanted(
    conn: Conn,
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
    conn: Conn, context: DispatchContext, incident_id: int, action: str, before: str
) -> None:
    if action == "accept" and await enough_accepted(conn, context, incident_id):
        await store.stop_waves(conn, incident_id)
        await timeline.record(conn, incident_id, "enough_accepted")
        await stand_down(
            conn, incident_id, "no_longer_needed", NO_LONGER_NEEDED, context.settings.alert_ttl_s
        )
        # Failed alerts are stood down without a push: theirs never arrived. A volunteer
        # with the app open sees "no longer needed" there instead of an answer that would
        # be refused.
        failed = await store.stand_down_failed(conn, incident_id)
        await timeline.record_alerts(conn, failed, "alert_stood_down:no_longer_needed")
    elif action == "decline" and before != _UNDELIVERED:
        # A failed alert was counted as a decline when its push failed (its incident's
        # `replacements_due`): declining it now must not replace that volunteer twice.
        await replace(conn, context, incident_id)


async def replace(conn: Conn, context: DispatchContext, incident_id: int) -> None:
    if not await enough_accepted(conn, context, incident_id):
        await run_wave(conn, context, incident_id, widen=False, size=1)


async def enough_accepted(conn: Conn, context: DispatchContext, incident_id: int) -> bool:
    """Enough: the wanted number accepted and, when any AED was in play, one is fetching."""
    counts = await store.accepted_counts(conn, incident_id)
    aed_covered = counts.via_alerted == 0 or counts.via > 0
    return counts.accepted >= context.settings.wanted_accepts and aed_covered
