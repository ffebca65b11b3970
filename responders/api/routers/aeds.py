"""AED registry: coordinators maintain it; operators may look."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, UploadFile

from responders.api.deps import (
    CurrentCoordinator,
    CurrentOperator,
    DbDep,
    PathId,
    RouterDep,
)
from responders.coverage import require_walkable, require_walkable_all
from responders.errors import InvalidInput
from responders.registry import aeds as registry
from responders.registry.aed_files import parse_aed_file
from responders.schemas.aeds import AedCreate, AedImportResult, AedPublic, AedUpdate
from responders.schemas.common import LatLon

__all__ = ["router"]

router = APIRouter(prefix="/aeds", tags=["AEDs"])

_MAX_IMPORT_BYTES = 20_000_000


@router.post("", status_code=201)
async def create(data: AedCreate, _: CurrentCoordinator, db: DbDep, graph: RouterDep) -> AedPublic:
    require_walkable(graph, data.location, "body.location", "this AED")
    return registry.aed_public(await registry.create_aed(db, data), show_code=True)


@router.get("")
async def list_near(
    operator: CurrentOperator,
    db: DbDep,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_m: Annotated[float, Query(gt=0, le=50_000)] = 2_000,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AedPublic]:
    if (lat is None) != (lon is None):
        raise InvalidInput("give both lat and lon, or neither", field="query.lat")
    near = None if lat is None or lon is None else LatLon(lat=lat, lon=lon)
    found = await registry.list_aeds(db, near, radius_m, limit, offset)
    show = operator.role == "coordinator"
    return [registry.aed_public(aed, show_code=show) for aed in found]


@router.patch("/{aed_id}")
async def update(
    aed_id: PathId, data: AedUpdate, _: CurrentCoordinator, db: DbDep, graph: RouterDep
) -> AedPublic:
    if data.location is not None:
        require_walkable(graph, data.location, "body.location", "this AED")
    return registry.aed_public(await registry.update_aed(db, aed_id, data), show_code=True)


@router.post("/import")
async def import_file(
    file: UploadFile, _: CurrentCoordinator, db: DbDep, graph: RouterDep
) -> AedImportResult:
    content = await file.read(_MAX_IMPORT_BYTES + 1)
    if len(content) > _MAX_IMPORT_BYTES:
        raise InvalidInput("the file is larger than 20 MB", field="file")
    rows = parse_aed_file(content, file.filename, file.content_type)
    # All or nothing, as for any bad row: the first AED off the network is named.
    located = ((f"file.aeds.{n}.location", row.location) for n, row in enumerate(rows, start=1))
    require_walkable_all(graph, located, "an AED of the file (numbered from 1)")
    return AedImportResult(imported=await registry.import_aeds(db, rows))
