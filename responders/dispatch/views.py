"""Read models: incidents for operators, alerts for their volunteer (what each may see).

The rows come from `dispatch.store`; here is what is shown of them. Routes an alert lacks
are drawn and stored before it is read (`responders.routes.fill_alert_routes`), not here:
a read model writes nothing."""

from __future__ import annotations

from collections.abc import Sequence

from responders.db.gateway import Reader
from responders.dispatch import store
from responders.dispatch.history import Window
from responders.dispatch.store import OwnAlert
from responders.endings import reason_sentence
from responders.errors import NotFound
from responders.schemas.common import GeoPoint
from responders.schemas.incidents import (
    AlertAed,
    AlertIncident,
    AlertPublic,
    EventPublic,
    IncidentDetail,
    IncidentPublic,
)
from responders.settings import DispatchSettings
from responders.states import COMMITTED, OPEN, IncidentStatus

__all__ = [
    "alert_for_responder",
    "alerts_for_responder",
    "events_after",
    "incident_detail",
    "list_incidents",
    "shows_cabinet_code",
    "shows_location",
]


async def list_incidents(
    reader: Reader,
    statuses: Sequence[str],
    limit: int,
    *,
    dispatch: DispatchSettings,
    span: Window = (None, None),
) -> list[IncidentPublic]:
    """Incidents in these statuses reported within `span` (`history.window`; open: all),
    newest first; reports in triage with the hints at their duplicates
    (`DispatchSettings.duplicate_*`), which the operator decides on."""
    incidents = await store.list_incidents(reader, statuses, limit, *span)
    triage = [i.id for i in incidents if i.status == IncidentStatus.TRIAGE]
    if not triage:
        return incidents
    hints = await store.duplicate_hints(
        reader,
        triage,
        radius_m=dispatch.duplicate_radius_m,
        window_s=dispatch.duplicate_window_s,
    )
    return [
        i.model_copy(update={"duplicate_hints": hints[i.id]}) if i.id in hints else i
        for i in incidents
    ]


async def incident_detail(reader: Reader, incident_id: int) -> IncidentDetail:
    """The operator view, in one round trip: a console polls it. (A dispatch answers with
    the same view, written by its own statement: `store.write_first_wave`.)"""
    detail = await store.incident_view(reader, incident_id)
    if detail is None:
        raise NotFound("no such incident")
    return detail


async def events_after(reader: Reader, incident_id: int, after_id: int) -> list[EventPublic]:
    return await store.events_after(reader, incident_id, after_id)


async def alerts_for_responder(
    reader: Reader, responder_id: int, *, address_after_accept: bool
) -> list[AlertPublic]:
    """The caller's own alerts, newest first: for `GET /alerts` and the data export alike,
    so both show exactly what `_my_alert` lets through."""
    rows = await store.own_alerts(reader, responder_id)
    return [_my_alert(r, address_after_accept) for r in rows]


async def alert_for_responder(
    reader: Reader, responder_id: int, alert_id: int, *, address_after_accept: bool
) -> AlertPublic:
    """One alert of the caller's own (another's is "not found", never "forbidden")."""
    rows = await store.own_alerts(reader, responder_id, alert_id)
    if not rows:
        raise NotFound("no such alert")
    return _my_alert(rows[0], address_after_accept)


def shows_cabinet_code(*, role: str, alert_status: str, incident_status: str) -> bool:
    """The one rule for a cabinet code: only to a fetcher of that AED (the alert's own, the
    only one joined) who has accepted, only while the incident is open. Before the answer
    it would reach everyone sent via the AED (often a dozen people), after a decline or
    the end it would reach people with no business at the cabinet."""
    return role == "via_aed" and alert_status in COMMITTED and incident_status in OPEN


def shows_location(*, alert_status: str, address_after_accept: bool) -> bool:
    """Where the incident is (location, address, route): to every alerted volunteer, or,
    where the network shows the address only after the answer, to those who accepted."""
    return not address_after_accept or alert_status in COMMITTED


def _point(lon: float | None, lat: float | None) -> GeoPoint | None:
    return None if lon is None or lat is None else GeoPoint(coordinates=(lon, lat))


def _my_alert(row: OwnAlert, address_after_accept: bool) -> AlertPublic:
    located = shows_location(alert_status=row.status, address_after_accept=address_after_accept)
    incident = AlertIncident(
        id=row.incident_id,
        kind=row.kind,
        status=row.incident_status,
        notes=row.notes,
        location=_point(row.lon, row.lat) if located else None,
        address=row.address if located else None,
        end_reason=row.end_reason,
        end_reason_text=reason_sentence(row.end_reason),
    )
    aed = None
    if row.aed_id is not None:
        code = shows_cabinet_code(
            role=row.role, alert_status=row.status, incident_status=row.incident_status
        )
        aed = AlertAed(
            id=row.aed_id,
            location=_point(row.aed_lon, row.aed_lat),
            address=row.aed_address,
            description=row.aed_description,
            cabinet_code=row.cabinet_code if code else None,
        )
    return AlertPublic(
        id=row.id,
        status=row.status,
        role=row.role,
        wave=row.wave,
        walk_seconds=row.walk_seconds,
        stand_down_reason=row.stand_down_reason,
        expires_at=row.expires_at,
        created_at=row.created_at,
        incident=incident,
        aed=aed,
        route=row.route if located else None,
    )
