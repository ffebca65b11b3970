"""Read models: incidents for operators, alerts for their volunteer, routes filled lazily."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from responders.errors import NotFound
from responders.routes import RouteDrawer
from responders.schemas.common import GeoPoint
from responders.schemas.incidents import (
    AlertAed,
    AlertIncident,
    AlertPublic,
    EventPublic,
    IncidentDetail,
    IncidentPublic,
)
from responders.states import COMMITTED, OPEN
from routing import Point, RoutingError

__all__ = [
    "alert_for_responder",
    "alerts_for_responder",
    "detail_of",
    "detail_sql",
    "events_after",
    "fill_routes",
    "incident_detail",
    "list_incidents",
    "shows_cabinet_code",
    "shows_location",
]


def _point(lon: float | None, lat: float | None) -> GeoPoint | None:
    return None if lon is None or lat is None else GeoPoint(coordinates=(lon, lat))


_INCIDENT_COLUMNS = """
    i.id, i.kind, ST_X(i.location::geometry) AS lon, ST_Y(i.location::geometry) AS lat,
    i.address, i.notes, i.source, i.status, i.callback_phone, i.wave, i.radius_m,
    i.next_wave_at, i.created_at, i.updated_at, i.ended_at, i.flood_group
"""


def _incident(row: Mapping[Any, Any]) -> dict[str, Any]:
    data = dict(row)
    data["location"] = _point(data.pop("lon"), data.pop("lat"))
    data["flood_suspected"] = data["flood_group"] is not None
    return data


async def list_incidents(
    conn: AsyncConnection, statuses: Sequence[str], limit: int
) -> list[IncidentPublic]:
    rows = await conn.execute(
        text(
            f"SELECT {_INCIDENT_COLUMNS} FROM incidents i WHERE i.status = ANY(:statuses) "  # noqa: S608
            "ORDER BY i.created_at DESC LIMIT :limit"
        ),
        {"statuses": list(statuses), "limit": limit},
    )
    return [IncidentPublic(**_incident(r._mapping)) for r in rows]


def _geojson_point(column: str) -> str:
    return (
        f"CASE WHEN {column} IS NOT NULL THEN json_build_object('type', 'Point', 'coordinates', "
        f"json_build_array(ST_X({column}::geometry), ST_Y({column}::geometry))) END"
    )


def detail_sql(incident: str, alerts: str, events: str) -> str:
    """The whole operator view as one SELECT over three row sources (tables, subqueries or
    a statement's own CTEs): the incident (one row), its alerts and its timeline events.
    The alerts, their AEDs and the timeline come back as JSON arrays."""
    return f"""
    SELECT {_INCIDENT_COLUMNS},
      (SELECT coalesce(json_agg(x ORDER BY x.walk_seconds, x.id), '[]') FROM (
          SELECT a.id, a.responder_id, r.name AS responder_name, a.wave, a.role, a.aed_id,
                 a.walk_seconds, a.straight_m, a.status, a.stand_down_reason,
                 a.fcm_message_id, a.push_error, {_geojson_point("a.origin")} AS origin,
                 a.route, a.expires_at, a.created_at, a.updated_at
          FROM {alerts} a LEFT JOIN responders r ON r.id = a.responder_id) x) AS alerts,
      (SELECT coalesce(json_agg(y ORDER BY y.id), '[]') FROM (
          SELECT ae.id, {_geojson_point("ae.location")} AS location, ae.address,
                 ae.description, ae.access
          FROM aeds ae WHERE ae.id IN (SELECT a.aed_id FROM {alerts} a)) y) AS aeds,
      (SELECT coalesce(json_agg(e ORDER BY e.id), '[]') FROM (
          SELECT ev.id, ev.kind, ev.alert_id, ev.detail, ev.created_at
          FROM {events} ev) e) AS timeline
    FROM {incident} i
    """  # noqa: S608 - assembled from constants only; every value is a bound parameter


# One round trip: a console polls it. (A dispatch answers with the same view, written by
# its own statement: see `waves`.)
_DETAIL = text(
    detail_sql(
        "(SELECT * FROM incidents WHERE id = :id)",
        "(SELECT * FROM alerts WHERE incident_id = :id)",
        "(SELECT * FROM incident_events WHERE incident_id = :id)",
    )
)


async def incident_detail(conn: AsyncConnection, incident_id: int) -> IncidentDetail:
    row = (await conn.execute(_DETAIL, {"id": incident_id})).one_or_none()
    if row is None:
        raise NotFound("no such incident")
    return detail_of(row._mapping)


def detail_of(row: Mapping[Any, Any]) -> IncidentDetail:
    """The view from a row of a `detail_sql` statement, by column name."""
    return IncidentDetail(**_incident(row))


async def events_after(conn: AsyncConnection, incident_id: int, after_id: int) -> list[EventPublic]:
    rows = await conn.execute(
        text(
            "SELECT id, kind, alert_id, detail, created_at FROM incident_events "
            "WHERE incident_id = :id AND id > :after ORDER BY id"
        ),
        {"id": incident_id, "after": after_id},
    )
    return [EventPublic(**r._mapping) for r in rows]


_MY_ALERTS = text(
    """
    SELECT a.id, a.status, a.role, a.wave, a.walk_seconds, a.stand_down_reason, a.expires_at,
           a.created_at, a.route, a.aed_id,
           i.id AS incident_id, i.kind, i.status AS incident_status, i.address, i.notes,
           ST_X(i.location::geometry) AS lon, ST_Y(i.location::geometry) AS lat,
           ST_X(ae.location::geometry) AS aed_lon, ST_Y(ae.location::geometry) AS aed_lat,
           ae.address AS aed_address, ae.description AS aed_description, ae.cabinet_code
    FROM alerts a JOIN incidents i ON i.id = a.incident_id
    LEFT JOIN aeds ae ON ae.id = a.aed_id
    WHERE a.responder_id = :responder AND (CAST(:alert AS bigint) IS NULL OR a.id = :alert)
    ORDER BY a.created_at DESC LIMIT 50
    """
)


async def alerts_for_responder(
    conn: AsyncConnection, responder_id: int, *, address_after_accept: bool
) -> list[AlertPublic]:
    """The caller's own alerts, newest first: for `GET /alerts` and the data export alike,
    so both show exactly what `_my_alert` lets through."""
    rows = await conn.execute(_MY_ALERTS, {"responder": responder_id, "alert": None})
    return [_my_alert(r, address_after_accept) for r in rows]


async def alert_for_responder(
    conn: AsyncConnection,
    drawer: RouteDrawer,
    responder_id: int,
    alert_id: int,
    *,
    address_after_accept: bool,
) -> AlertPublic:
    """One alert of the caller's own (another's is "not found", never "forbidden")."""
    await fill_routes(conn, drawer, [alert_id])
    row = (await conn.execute(_MY_ALERTS, {"responder": responder_id, "alert": alert_id})).first()
    if row is None:
        raise NotFound("no such alert")
    return _my_alert(row, address_after_accept)


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


def _my_alert(row: Row[Any], address_after_accept: bool) -> AlertPublic:
    located = shows_location(alert_status=row.status, address_after_accept=address_after_accept)
    incident = AlertIncident(
        id=row.incident_id,
        kind=row.kind,
        status=row.incident_status,
        notes=row.notes,
        location=_point(row.lon, row.lat) if located else None,
        address=row.address if located else None,
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


_MISSING_ROUTES = text(
    """
    SELECT a.id, ST_Y(a.origin::geometry) AS lat, ST_X(a.origin::geometry) AS lon,
           ST_Y(i.location::geometry) AS i_lat, ST_X(i.location::geometry) AS i_lon,
           ST_Y(ae.location::geometry) AS v_lat, ST_X(ae.location::geometry) AS v_lon
    FROM alerts a JOIN incidents i ON i.id = a.incident_id
    LEFT JOIN aeds ae ON ae.id = a.aed_id AND a.role = 'via_aed'
    WHERE a.id = ANY(:ids) AND a.route IS NULL AND a.origin IS NOT NULL
    """
)
_SET_ROUTE = text("UPDATE alerts SET route = CAST(:route AS jsonb) WHERE id = :id")


async def fill_routes(conn: AsyncConnection, drawer: RouteDrawer, alert_ids: Sequence[int]) -> None:
    """Draw and store the routes of these alerts that have none yet, where they are read:
    thirty routes cost more CPU than a whole dispatch, so no wave draws them up front.

    Each route is its own one-row transaction: the worker updates the same alerts at the
    same time, and one transaction over many rows would deadlock against it."""
    rows = (await conn.execute(_MISSING_ROUTES, {"ids": list(alert_ids)})).all()
    await conn.commit()
    for row in rows:
        via = None if row.v_lat is None else Point(row.v_lat, row.v_lon)
        try:
            # CPU work: on the drawer's own threads, queued behind other routes, never
            # in the way of a dispatch.
            route = await drawer.route(Point(row.lat, row.lon), Point(row.i_lat, row.i_lon), via)
        except RoutingError:
            continue
        await conn.execute(_SET_ROUTE, {"id": row.id, "route": json.dumps(route.to_geojson())})
        await conn.commit()
