"""`GET /health`: is the service up, and can it reach its database?"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

__all__ = ["router"]

router = APIRouter(tags=["health"])

_PROBE_TIMEOUT_S = 2.0


@router.get("/health", responses={503: {"description": "the database is down"}})
async def health(request: Request) -> JSONResponse:
    database = "ok" if await _database_ok(request) else "down"
    status = "ok" if database == "ok" else "degraded"
    return JSONResponse({"status": status, "database": database}, 200 if status == "ok" else 503)


async def _database_ok(request: Request) -> bool:
    try:
        async with asyncio.timeout(_PROBE_TIMEOUT_S), request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure at all means "down" to a health probe
        return False
    return True
