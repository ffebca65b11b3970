"""Operators: report incidents, watch them live, confirm citizen reports, stand down."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from responders.api.deps import (
    CurrentOperator,
    DbDep,
    DispatchContextDep,
    EventHubDep,
    PathId,
    RouterDep,
    SettingsDep,
)
from responders.api.events import Subscription
from responders.api.streams import CredentialWatch, OperatorWatch
from responders.coverage import require_dispatchable
from responders.db.gateway import Conn, Database
from responders.dispatch import corrections, history, lifecycle, views
from responders.dispatch.waves import WaveOutcome
from responders.errors import InvalidInput
from responders.reports import status as report_status
from responders.schemas.incidents import (
    IncidentCancel,
    IncidentClose,
    IncidentCorrection,
    IncidentCreate,
    IncidentDetail,
    IncidentPublic,
)
from responders.states import INCIDENT_FILTERS, IncidentFilter, IncidentStatus

__all__ = ["router"]

router = APIRouter(prefix="/incidents", tags=["incidents"])


@router.post("", status_code=201)
async def report(
    data: IncidentCreate,
    operator: CurrentOperator,
    response: Response,
    context: DispatchContextDep,
    graph: RouterDep,
    settings: SettingsDep,
) -> IncidentDetail:
    """Dispatches at once: the incident and its first wave are committed together before
    the answer. Routes are drawn where they are read (the volunteer's alert, `GET /route`):
    30 of them cost more CPU than the whole dispatch."""
    # Off the network only once confirmed, and never beyond the widest wave's reach.
    reach_m = settings.dispatch.max_radius_m
    require_dispatchable(graph, data.location, data.confirm_off_network, reach_m)
    new = lifecycle.NewIncident(
        kind=data.kind,
        lat=data.location.lat,
        lon=data.location.lon,
        address=data.address,
        notes=data.notes,
        source="dispatch",
        reported_by=operator.id,
    )
    began = time.perf_counter()
    outcome, detail = await lifecycle.dispatch_incident(context, new)
    response.headers["Server-Timing"] = _server_timing(outcome, began)
    return detail


def _server_timing(outcome: WaveOutcome, began: float) -> str:
    """How the dispatch spent its time (W3C Server-Timing), for consoles and the bench:
    the wave's laps (its writes are committed with the last), then the whole, from the
    handler's start."""
    laps = {**outcome.timings_ms, "committed": (time.perf_counter() - began) * 1000}
    return ", ".join(f"{name};dur={ms:.2f}" for name, ms in laps.items())


@router.get("")
async def list_incidents(
    _: CurrentOperator,
    db: DbDep,
    settings: SettingsDep,
    status: IncidentFilter = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    since: Annotated[
        str | None,
        Query(description="reported since: `today`, `week` (since Monday) or a date"),
    ] = None,
    until: Annotated[dt.date | None, Query(description="reported until this day, included")] = None,
) -> list[IncidentPublic]:
    """Newest first. `since` and `until` are days in the region's time zone (the history)."""
    statuses = [s.value for s in INCIDENT_FILTERS[status]]
    span = history.window(since, until, settings.region.timezone, dt.datetime.now(dt.UTC))
    return await views.list_incidents(db, statuses, limit, dispatch=settings.dispatch, span=span)


@router.get("/{incident_id}")
async def read(incident_id: PathId, _: CurrentOperator, db: DbDep) -> IncidentDetail:
    await report_status.mark_seen(db, incident_id)  # a citizen's report: "a dispatcher is looking"
    return await views.incident_detail(db, incident_id)


@router.patch("/{incident_id}")
async def correct(
    incident_id: PathId,
    data: IncidentCorrection,
    _: CurrentOperator,
    db: DbDep,
    context: DispatchContextDep,
    graph: RouterDep,
    settings: SettingsDep,
) -> IncidentDetail:
    """Correct an open incident's location, address or notes; volunteers who may be on the
    way get an update push. A moved pin must be dispatchable, as a new incident's."""
    if data.location is not None:
        reach_m = settings.dispatch.max_radius_m
        require_dispatchable(graph, data.location, data.confirm_off_network, reach_m)

    async def change(conn: Conn) -> None:
        await corrections.correct_incident(conn, context, incident_id, data)

    await db.run(change)
    return await views.incident_detail(db, incident_id)


async def _transition(
    db: Database,
    context: DispatchContextDep,
    incident_id: int,
    action: str,
    ending: IncidentCancel | IncidentClose | None = None,
) -> IncidentDetail:
    async def change(conn: Conn) -> None:
        if action == "confirm":
            await lifecycle.confirm_incident(conn, context, incident_id)
        elif ending is None:
            raise InvalidInput(f"Choose why the incident is {action}.", field="body.reason")
        else:
            await lifecycle.close_incident(
                conn, context, incident_id, action, ending.reason, ending.note
            )

    # A deadlock with the push worker or a volunteer's answer is retried whole (db.retry).
    await db.run(change)
    # The transaction is over: read in autocommit, one round trip without BEGIN/ROLLBACK.
    return await views.incident_detail(db, incident_id)


@router.post("/{incident_id}/confirm")
async def confirm(
    incident_id: PathId,
    _: CurrentOperator,
    db: DbDep,
    context: DispatchContextDep,
) -> IncidentDetail:
    return await _transition(db, context, incident_id, "confirm")


# The body is optional to the framework only so that a missing one is refused in words
# naming the field (`reason`), like every other missing field.
@router.post("/{incident_id}/cancel")
async def cancel(
    incident_id: PathId,
    _: CurrentOperator,
    db: DbDep,
    context: DispatchContextDep,
    data: IncidentCancel | None = None,
) -> IncidentDetail:
    """Cancel an open incident, saying why; everyone alerted is stood down."""
    return await _transition(db, context, incident_id, IncidentStatus.CANCELLED, data)


@router.post("/{incident_id}/close")
async def close(
    incident_id: PathId,
    _: CurrentOperator,
    db: DbDep,
    context: DispatchContextDep,
    data: IncidentClose | None = None,
) -> IncidentDetail:
    """Close an active incident, saying how it ended; everyone on the way is stood down."""
    return await _transition(db, context, incident_id, IncidentStatus.CLOSED, data)


_KEEPALIVE_S = 15.0


@router.get(
    "/{incident_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    incident_id: PathId,
    watch: OperatorWatch,
    request: Request,
    db: DbDep,
    hub: EventHubDep,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**63 - 1)] = None,
) -> StreamingResponse:
    """Ends within `streams.RECHECK_S` seconds of the operator's token being revoked."""
    await views.incident_detail(db, incident_id)  # 404 before the stream starts
    return StreamingResponse(
        _stream(request, db, hub, watch, incident_id, last_event_id or 0),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(
    request: Request,
    db: Database,
    hub: EventHubDep,
    watch: CredentialWatch,
    incident_id: int,
    last: int,
) -> AsyncIterator[bytes]:
    """Reads the timeline on news, and at every keepalive too (a lost notification costs
    latency, never an event); wakes every `watch.every_s` to re-check the credential."""
    yield b"retry: 2000\n\n"
    with hub.subscribe(incident_id) as feed:
        async for chunk in _events(request, db, feed, watch, incident_id, last):
            yield chunk


async def _events(
    request: Request,
    db: Database,
    feed: Subscription,
    watch: CredentialWatch,
    incident_id: int,
    last: int,
) -> AsyncIterator[bytes]:
    news, quiet_since = True, time.monotonic()
    while not await request.is_disconnected() and await watch.still_valid():
        keepalive_due = time.monotonic() - quiet_since >= _KEEPALIVE_S
        if news or keepalive_due:
            fresh = await views.events_after(db, incident_id, last)
            for event in fresh:
                last = event.id
                data = orjson.dumps(event.model_dump(mode="json")).decode()
                yield f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n".encode()
            if fresh or keepalive_due:
                if not fresh:
                    yield b": keepalive\n\n"
                quiet_since = time.monotonic()
        news = await feed.wait(min(watch.every_s, _KEEPALIVE_S))
