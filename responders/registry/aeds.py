"""AED registry: create, list near a point, update, bulk import (all-or-nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from responders.availability import windows_to_multirange
from responders.db.engine import translate_db_errors
from responders.db.geo import point_lonlat, point_value
from responders.db.tables import Aed
from responders.errors import NotFound
from responders.schemas.aeds import AedCreate, AedPublic, AedUpdate
from responders.schemas.common import GeoPoint, LatLon

__all__ = ["aed_public", "create_aed", "import_aeds", "list_aeds", "update_aed"]

_REF_TAKEN = "an AED with this external_ref already exists"


def _columns(data: AedCreate) -> dict[str, Any]:
    return {
        "location": point_value(data.location.lat, data.location.lon),
        "address": data.address,
        "description": data.description,
        "access": data.access,
        "opening_hours": [w.model_dump() for w in data.opening_hours],
        "open_minutes": windows_to_multirange(data.opening_hours),
        "cabinet_code": data.cabinet_code,
        "status": data.status,
        "external_ref": data.external_ref,
    }


async def create_aed(session: AsyncSession, data: AedCreate) -> Aed:
    aed = Aed(**_columns(data))
    with translate_db_errors(_REF_TAKEN):
        session.add(aed)
        await session.commit()
    await session.refresh(aed)
    return aed


async def update_aed(session: AsyncSession, aed_id: int, data: AedUpdate) -> Aed:
    aed = await session.get(Aed, aed_id)
    if aed is None:
        raise NotFound("no such AED")
    merged = AedCreate.model_validate({**_current(aed), **data.model_dump(exclude_unset=True)})
    for key, value in _columns(merged).items():
        setattr(aed, key, value)
    aed.updated_at = func.now()
    await session.commit()
    await session.refresh(aed)
    return aed


def _current(aed: Aed) -> dict[str, Any]:
    lon, lat = point_lonlat(aed.location)
    return {
        "location": {"lat": lat, "lon": lon},
        "address": aed.address,
        "description": aed.description,
        "access": aed.access,
        "opening_hours": aed.opening_hours,
        "cabinet_code": aed.cabinet_code,
        "status": aed.status,
        "external_ref": aed.external_ref,
    }


async def list_aeds(
    session: AsyncSession, near: LatLon | None, radius_m: float, limit: int, offset: int
) -> Sequence[tuple[Aed, float | None]]:
    if near is None:
        rows = await session.execute(
            select(Aed, None).order_by(Aed.id).limit(limit).offset(offset)  # type: ignore[call-overload]
        )
        return [(aed, None) for aed, _ in rows]
    here = point_value(near.lat, near.lon)
    distance = func.ST_Distance(Aed.location, here)
    statement = (
        select(Aed, distance)
        .where(func.ST_DWithin(Aed.location, here, radius_m))
        .order_by(Aed.location.op("<->")(here))
        .limit(limit)
        .offset(offset)
    )
    return [(aed, float(d)) for aed, d in await session.execute(statement)]


async def import_aeds(session: AsyncSession, rows: Sequence[AedCreate]) -> int:
    """Insert or update (by `external_ref`) every row in one transaction."""
    with translate_db_errors(_REF_TAKEN):
        for data in rows:
            await session.execute(_upsert(data))
        await session.commit()
    return len(rows)


def _upsert(data: AedCreate) -> Any:
    columns = _columns(data)
    statement = insert(Aed).values(**columns)
    if data.external_ref is None:
        return statement
    return statement.on_conflict_do_update(
        index_elements=[Aed.external_ref], set_={**columns, "updated_at": func.now()}
    )


def aed_public(aed: Aed, distance_m: float | None, *, show_code: bool) -> AedPublic:
    return AedPublic(
        id=aed.id,
        location=GeoPoint(coordinates=point_lonlat(aed.location)),
        address=aed.address,
        description=aed.description,
        access=aed.access,
        opening_hours=aed.opening_hours,
        status=aed.status,
        external_ref=aed.external_ref,
        cabinet_code=aed.cabinet_code if show_code else None,
        distance_m=None if distance_m is None else round(distance_m, 1),
        updated_at=aed.updated_at,
    )
