"""`GET /route`: a walking route, for operators and volunteers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from responders.api.deps import AnyCaller, LimitsDep, RouteDrawerDep
from responders.errors import InvalidInput
from routing import Point, RoutingError

__all__ = ["router"]

router = APIRouter(tags=["routing"])

_LAT_LON = r"^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$"


def _point(value: str, field: str) -> Point:
    lat, lon = (float(part) for part in value.split(","))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput(
            "latitude must be within ±90 and longitude within ±180", field=f"query.{field}"
        )
    return Point(lat, lon)


@router.get("/route")
async def walking_route(
    caller: AnyCaller,
    drawer: RouteDrawerDep,
    limits: LimitsDep,
    from_: Annotated[str, Query(alias="from", pattern=_LAT_LON, examples=["60.1699,24.9384"])],
    to: Annotated[str, Query(pattern=_LAT_LON, examples=["60.1720,24.9410"])],
    via: Annotated[str | None, Query(pattern=_LAT_LON)] = None,
) -> dict[str, Any]:
    """A GeoJSON Feature: LineString along the streets, with distance, duration and steps."""
    if isinstance(caller, int):
        limits.route("volunteer", caller)
    else:
        limits.route("operator", caller.id)
    start, end = _point(from_, "from"), _point(to, "to")
    middle = _point(via, "via") if via else None
    try:
        # CPU work: on the drawer's threads, queued behind other routes so that a caller
        # asking in a loop never takes the CPU dispatch needs.
        route = await drawer.route(start, end, middle)
    except RoutingError as exc:
        raise InvalidInput(str(exc), field="query") from exc
    return route.to_geojson()
