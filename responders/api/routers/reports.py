"""Citizens: report an emergency; it waits in triage for an operator."""

from __future__ import annotations

from fastapi import APIRouter, Request

from responders.api.deps import DbDep, LimitsDep, RouterDep, client_address
from responders.coverage import require_walkable
from responders.dispatch import lifecycle
from responders.floods import flag_flood
from responders.schemas.incidents import ReportCreate, ReportReceived
from responders.states import IncidentStatus

__all__ = ["router"]

router = APIRouter(prefix="/reports", tags=["citizens"])


@router.post("", status_code=201)
async def report(
    data: ReportCreate,
    request: Request,
    db: DbDep,
    graph: RouterDep,
    limits: LimitsDep,
) -> ReportReceived:
    # Refused only for this client's own excess; a busy area is flagged, not refused.
    flood = limits.citizen_report(client_address(request), data.location.lat, data.location.lon)
    require_walkable(graph, data.location, "body.location", "the place of the emergency")
    new = lifecycle.NewIncident(
        kind=data.kind,
        lat=data.location.lat,
        lon=data.location.lon,
        address=None,
        notes=data.notes,
        source="citizen",
        callback_phone=data.callback_phone,
    )
    async with limits.report_slot(), db.transaction() as conn:
        incident_id = await lifecycle.create_incident(conn, new)
        if flood is not None:
            await flag_flood(conn, incident_id, flood)
    return ReportReceived(
        id=incident_id,
        status=IncidentStatus.TRIAGE,
        message="Your report reached the dispatch centre. Call 112 as well if you have not.",
    )
