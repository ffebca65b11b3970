"""`GET /health`: is the service up, and can it reach its database?"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from responders.api.deps import DbDep
from responders.db.gateway import Database
from responders.registry.store import ping

__all__ = ["router"]

router = APIRouter(tags=["health"])

_PROBE_TIMEOUT_S = 2.0


@router.get("/health", responses={503: {"description": "the database is down"}})
async def health(db: DbDep) -> JSONResponse:
    database = "ok" if await _database_ok(db) else "down"
    status = "ok" if database == "ok" else "degraded"
    return JSONResponse({"status": status, "database": database}, 200 if status == "ok" else 503)


async def _database_ok(db: Database) -> bool:
    try:
        async with asyncio.timeout(_PROBE_TIMEOUT_S):
            await ping(db)
    except Exception:  # noqa: BLE001 - any failure at all means "down" to a health probe
        return False
    return True
