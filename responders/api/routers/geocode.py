"""`GET /geocode` and `GET /geocode/reverse`: addresses, streets and places by text or by
a point (`responders.geocode`), as GeoJSON FeatureCollections."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from responders.api.deps import (
    AnyCaller,
    DbDep,
    LimitsDep,
    SettingsDep,
    bearer_token,
    client_address,
)
from responders.auth import OperatorPrincipal, authenticate_any
from responders.errors import InvalidInput
from responders.geocode import reverse, search
from responders.schemas.common import LatLon
from responders.schemas.geocode import GeocodeCollection

__all__ = ["router"]

router = APIRouter(tags=["geocoding"])

_LAT_LON = r"^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$"


class GeoJsonResponse(JSONResponse):
    media_type = "application/geo+json"


async def _caller_or_anonymous(request: Request, db: DbDep) -> OperatorPrincipal | int | None:
    """An operator or a volunteer when a token is sent (a wrong one is refused, never taken
    for anonymous); None without one (the citizen page)."""
    if "authorization" not in request.headers:
        return None
    return await authenticate_any(db, bearer_token(request))


def _near(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    lat, lon = (float(part) for part in value.split(","))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput(
            "near must be a latitude within ±90 and a longitude within ±180", field="query.near"
        )
    return lat, lon


@router.get("/geocode", response_model=GeocodeCollection, response_class=GeoJsonResponse)
async def geocode(
    caller: AnyCaller,
    db: DbDep,
    settings: SettingsDep,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["Aleksanterinkatu 52"])],
    near: Annotated[
        str | None, Query(pattern=_LAT_LON, description="lat,lon: the map's centre")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=20)] = None,
) -> GeocodeCollection:
    """Addresses, streets and places matching `q`, best first (operators and volunteers)."""
    if not q.strip():
        raise InvalidInput("type an address or a place to search for", field="query.q")
    wanted = min(limit or settings.geocode.default_limit, settings.geocode.max_limit)
    hits = await search(db, q, near=_near(near), limit=wanted)
    return GeocodeCollection.of(hits)


@router.get("/geocode/reverse", response_model=GeocodeCollection, response_class=GeoJsonResponse)
async def geocode_reverse(
    request: Request,
    caller: Annotated[OperatorPrincipal | int | None, Depends(_caller_or_anonymous)],
    db: DbDep,
    settings: SettingsDep,
    limits: LimitsDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
) -> GeocodeCollection:
    """The nearest address (within EHBO_GEOCODE_REVERSE_MAX_M), else the nearest named
    street (within EHBO_GEOCODE_STREET_MAX_M), else no feature. Without a token it answers
    too, a limited number of times per client and minute."""
    if caller is None:
        limits.reverse_geocode(client_address(request))
    point = LatLon(lat=lat, lon=lon)
    hit = await reverse(
        db,
        point.lat,
        point.lon,
        address_max_m=settings.geocode.reverse_max_m,
        street_max_m=settings.geocode.street_max_m,
    )
    return GeocodeCollection.of([hit] if hit else [])
