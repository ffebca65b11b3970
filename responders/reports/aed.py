"""The nearest usable AED for a citizen waiting with the person, with its walking route.

"Usable" is what dispatch uses (`dispatch.candidates.find_aeds`): in service, and public or
open at this minute of the week in the region's time zone. The nearest is by walking time
from the report's place (one bounded search), never by straight line alone; its route is
drawn from the person to the AED. All CPU work runs on the route drawer's threads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from responders.availability import minute_of_week
from responders.coverage import walk_target
from responders.db.gateway import Database
from responders.dispatch.candidates import find_aeds
from responders.registry import store as registry
from responders.routes import RouteDrawer
from responders.schemas.common import GeoPoint
from responders.schemas.reports import CitizenAed, NearestAed
from routing import Point, RoutingError

__all__ = ["AedSearch", "nearest_aed"]

NONE_NEAR = (
    "No AED that is open now is within walking distance. Stay with the person: "
    "volunteers and the ambulance may bring one."
)


@dataclass(frozen=True, slots=True)
class AedSearch:
    """Where and how far to look (the dispatch settings' AED radius and walking bound)."""

    timezone: str
    radius_m: float
    max_walk_s: float
    sites: int  # how many of the nearest by straight line are timed on foot


async def nearest_aed(
    db: Database, drawer: RouteDrawer, lat: float, lon: float, search: AedSearch
) -> CitizenAed:
    minute = minute_of_week(dt.datetime.now(dt.UTC), search.timezone)
    sites = await find_aeds(db, lat, lon, search.radius_m, minute, search.sites)
    if not sites:
        return _none()
    here = walk_target(drawer.router, lat, lon)
    times = await drawer.times_to(here, [Point(s.lat, s.lon) for s in sites], search.max_walk_s)
    reachable = sorted((t, s.id, s) for s, t in zip(sites, times, strict=True) if t is not None)
    if not reachable:
        return _none()
    walk_s, _, site = reachable[0]
    async with db.connection() as conn:
        row = await registry.aed(conn, site.id)
    if row is None:  # retired or removed a moment ago
        return _none()
    aed = NearestAed(
        location=GeoPoint(coordinates=(row.lon, row.lat)),
        address=row.address,
        description=row.description,
        access="restricted" if row.access == "restricted" else "public",
    )
    try:
        route = await drawer.route(Point(lat, lon), Point(row.lat, row.lon))
    except RoutingError:
        return CitizenAed(
            aed=aed,
            walk_seconds=round(walk_s, 1),
            distance_m=None,
            route=None,
            message=_found(walk_s),
        )
    return CitizenAed(
        aed=aed,
        walk_seconds=round(route.duration_s, 1),
        distance_m=round(route.distance_m, 1),
        route=route.to_geojson(),
        message=_found(route.duration_s),
    )


def _found(walk_s: float) -> str:
    minutes = max(1, round(walk_s / 60))
    return (
        f"The nearest AED open now is about {minutes} min away on foot. If someone else is "
        "with you, send them to fetch it; you stay with the person."
    )


def _none() -> CitizenAed:
    return CitizenAed(aed=None, walk_seconds=None, distance_m=None, route=None, message=NONE_NEAR)
