"""AED registry: create, list near a point, update, bulk import (all-or-nothing).
The SQL is in `registry.store`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from responders.db.gateway import Database
from responders.errors import IllegalTransition, InvalidInput, NotFound
from responders.registry import store
from responders.registry.store import AedRow
from responders.schemas.aeds import AedCreate, AedPublic, AedUpdate
from responders.schemas.common import GeoPoint, LatLon
from responders.schemas.problems import field_path, human_message

__all__ = ["aed_public", "create_aed", "import_aeds", "list_aeds", "update_aed"]

_REF_TAKEN = "an AED with this external_ref already exists"
_RETIRED = "this AED is retired: it is kept for history and is not changed again"


async def create_aed(db: Database, data: AedCreate) -> AedRow:
    return await store.insert_aed(db, data, conflict=_REF_TAKEN)


async def update_aed(db: Database, aed_id: int, data: AedUpdate) -> AedRow:
    async with db.transaction() as conn:
        aed = await store.aed(conn, aed_id)
        if aed is None:
            raise NotFound("no such AED")
        if aed.status == "retired":
            raise IllegalTransition(_RETIRED, state="retired")
        return await store.update_aed(conn, aed_id, _merge(aed, data))


def _merge(aed: AedRow, data: AedUpdate) -> AedCreate:
    """The stored AED with the change applied, checked as a whole (a change of `access` to
    restricted needs opening hours, stored or sent)."""
    try:
        return AedCreate.model_validate({**_current(aed), **data.model_dump(exclude_unset=True)})
    except ValidationError as exc:
        error = exc.errors()[0]
        message = human_message(error)
        raise InvalidInput(message, field=field_path(("body", *error["loc"]))) from exc


def _current(aed: AedRow) -> dict[str, Any]:
    return {
        "location": {"lat": aed.lat, "lon": aed.lon},
        "address": aed.address,
        "description": aed.description,
        "access": aed.access,
        "opening_hours": aed.opening_hours,
        "cabinet_code": aed.cabinet_code,
        "status": aed.status,
        "external_ref": aed.external_ref,
    }


async def list_aeds(
    db: Database, near: LatLon | None, radius_m: float, limit: int, offset: int
) -> list[AedRow]:
    """In the order they were added; near a point: nearest first, with their distance."""
    if near is None:
        return await store.aeds_page(db, limit=limit, offset=offset)
    return await store.aeds_near(db, near, radius_m=radius_m, limit=limit, offset=offset)


async def import_aeds(db: Database, rows: Sequence[AedCreate]) -> int:
    """Insert or update (by `external_ref`) every row in one transaction; a row naming a
    retired AED refuses the file, since a retired AED is never brought back."""
    async with db.transaction() as conn:
        refs = [data.external_ref for data in rows if data.external_ref]
        if refs and (ref := await store.retired_ref(conn, refs)) is not None:
            raise InvalidInput(
                f"external_ref {ref!r} names a retired AED: {_RETIRED}; nothing was imported",
                field="file",
            )
        for data in rows:
            await store.save_aed(conn, data, conflict=_REF_TAKEN)
    return len(rows)


def aed_public(aed: AedRow, *, show_code: bool) -> AedPublic:
    return AedPublic(
        id=aed.id,
        location=GeoPoint(coordinates=(aed.lon, aed.lat)),
        address=aed.address,
        description=aed.description,
        access=aed.access,
        opening_hours=aed.opening_hours,
        status=aed.status,
        external_ref=aed.external_ref,
        cabinet_code=aed.cabinet_code if show_code else None,
        distance_m=None if aed.distance_m is None else round(aed.distance_m, 1),
        updated_at=aed.updated_at,
    )
