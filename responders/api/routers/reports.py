"""Citizens: report an emergency; it waits in triage for an operator. The reporter follows
it through a status link only they hold (`responders.reports.status`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from responders.api.deps import (
    DbDep,
    LimitsDep,
    RouteDrawerDep,
    RouterDep,
    SettingsDep,
    client_address,
)
from responders.coverage import require_walkable
from responders.dispatch import lifecycle
from responders.floods import flag_flood
from responders.reports import status
from responders.reports.aed import AedSearch, nearest_aed
from responders.schemas.incidents import ReportCreate, ReportReceived
from responders.schemas.reports import CitizenAed, ReportStatus
from responders.states import IncidentStatus

__all__ = ["router"]

router = APIRouter(prefix="/reports", tags=["citizens"])

# The status token comes in a header, never in the path or query: those are what access
# logs, proxies and browser histories keep.
StatusToken = Annotated[
    str,
    Header(
        alias="X-Report-Token",
        min_length=16,
        max_length=128,
        description="the token of the status link (`status_token` of the report's answer)",
    ),
]
# The answer is for its reporter only: never kept by a shared cache or the browser's.
_PRIVATE = "no-store"


@router.post("", status_code=201)
async def report(
    data: ReportCreate,
    request: Request,
    db: DbDep,
    graph: RouterDep,
    limits: LimitsDep,
    response: Response,
) -> ReportReceived:
    # Refused only for this client's own excess; a busy area is flagged, not refused.
    flood = limits.citizen_report(client_address(request), data.location.lat, data.location.lon)
    require_walkable(graph, data.location, "body.location", "the place of the emergency")
    token, digest = status.new_status_token()
    new = lifecycle.NewIncident(
        kind=data.kind,
        lat=data.location.lat,
        lon=data.location.lon,
        address=None,
        notes=data.notes,
        source="citizen",
        callback_phone=data.callback_phone,
        status_digest=digest,
    )
    async with limits.report_slot(), db.transaction() as conn:
        incident_id = await lifecycle.create_incident(conn, new)
        if flood is not None:
            await flag_flood(conn, incident_id, flood)
    response.headers["Cache-Control"] = _PRIVATE
    return ReportReceived(
        id=incident_id,
        status=IncidentStatus.TRIAGE,
        message=status.RECEIVED,
        status_token=token,
        status_url=status.status_url(token),
    )


@router.get("/status", responses={404: {"description": "no report has this status token"}})
async def report_status(
    token: StatusToken, request: Request, db: DbDep, limits: LimitsDep, response: Response
) -> ReportStatus:
    """How the report goes, in the reporter's words: received → a dispatcher is looking →
    help is on the way (volunteers alerted, coming, arrived) → closed. Counts only."""
    limits.report_status(client_address(request))
    async with limits.status_slot():
        answer = await status.report_status(db, token)
    response.headers["Cache-Control"] = _PRIVATE
    return answer


@router.get("/status/aed", responses={404: {"description": "no report has this status token"}})
async def report_aed(
    token: StatusToken,
    request: Request,
    db: DbDep,
    drawer: RouteDrawerDep,
    limits: LimitsDep,
    settings: SettingsDep,
    response: Response,
) -> CitizenAed:
    """The nearest AED usable now (in service; public or open), by walking time from the
    report's place, with its walking route from there."""
    limits.report_aed(client_address(request))
    search = AedSearch(
        timezone=settings.region.timezone,
        radius_m=settings.dispatch.aed_search_radius_m,
        max_walk_s=settings.dispatch.max_walk_s,
        sites=settings.dispatch.aed_count * 3,
    )
    # In the status pages' own slots, the whole of it: its reads are anonymous too. The
    # search and the route run on the route drawer's threads, never dispatch's.
    async with limits.status_slot():
        reported = await status.report_status(db, token)
        lon, lat = reported.location.coordinates
        found = await nearest_aed(db, drawer, lat, lon, search)
    response.headers["Cache-Control"] = _PRIVATE
    return found
