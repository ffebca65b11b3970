"""AED registry: create, list near a point, update, bulk import (all-or-nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Text, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from responders.availability import windows_to_multirange
from responders.db.engine import translate_db_errors
from responders.db.geo import point_lonlat, point_value
from responders.db.tables import Aed
from responders.errors import IllegalTransition, InvalidInput, NotFound
from responders.schemas.aeds import AedCreate, AedPublic, AedUpdate
from responders.schemas.common import GeoPoint, LatLon
from responders.schemas.problems import field_path, human_message

__all__ = ["aed_public", "create_aed", "import_aeds", "list_aeds", "update_aed"]

_REF_TAKEN = "an AED with this external_ref already exists"
_RETIRED = "this AED is retired: it is kept for history and is not changed again"


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
    if aed.status == "retired":
        raise IllegalTransition(_RETIRED, state="retired")
    merged = _merge(aed, data)
    for key, value in _columns(merged).items():
        setattr(aed, key, value)
    aed.updated_at = func.now()
    await session.commit()
    await session.refresh(aed)
    return aed


def _merge(aed: Aed, data: AedUpdate) -> AedCreate:
    """The stored AED with the change applied, checked as a whole (a change of `access` to
    restricted needs opening hours, stored or sent)."""
    try:
        return AedCreate.model_validate({**_current(aed), **data.model_dump(exclude_unset=True)})
    except ValidationError as exc:
        error = exc.errors()[0]
        message = human_message(error)
        raise InvalidInput(message, field=field_path(("body", *error["loc"]))) from exc


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
    """Insert or update (by `external_ref`) every row in one transaction; a row naming a
    retired AED refuses the file, since a retired AED is never brought back."""
    await _refuse_retired(session, [data.external_ref for data in rows if data.external_ref])
    with translate_db_errors(_REF_TAKEN):
        for data in rows:
            await session.execute(_upsert(data))
        await session.commit()
    return len(rows)


async def _refuse_retired(session: AsyncSession, refs: list[str]) -> None:
    if not refs:
        return
    retired = await session.scalars(
        select(Aed.external_ref)
        # One array parameter, however many rows the file has.
        .where(Aed.external_ref == any_(bindparam("refs", refs, type_=ARRAY(Text))))
        .where(Aed.status == "retired")
        .order_by(Aed.external_ref)
        .limit(1)
    )
    if (ref := retired.first()) is not None:
        raise InvalidInput(
            f"external_ref {ref!r} names a retired AED: {_RETIRED}; nothing was imported",
            field="file",
        )


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
