"""`/demo/...`: the demo phone's helpers. Every route answers 404 unless the app runs with
`settings.api.demo_credentials` (only `ehbo demo` sets it).

The credentials file holds the demo tokens. The list route hands out no token; a token
leaves the server only for one volunteer (or the demo operator) the person at the demo
picked, so the page can open that volunteer's alert screen.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from responders.demo_tokens import volunteer_token
from responders.errors import NotFound
from responders.settings import Settings

__all__ = ["demo_credentials", "router"]

router = APIRouter(prefix="/demo", include_in_schema=False)


class _DemoVolunteer(BaseModel):
    id: int
    name: str
    devices: list[str]


class DemoToken(BaseModel):
    token: str


def demo_credentials(request: Request) -> dict[str, Any]:
    """The demo's tokens; NotFound (404) when this is not the demo."""
    settings: Settings = request.app.state.settings
    path: Path | None = settings.api.demo_credentials
    if path is None:
        raise NotFound("not found")
    return _read_credentials(path)


# The demo writes the file once, before it serves: read it once per path. A failed read is
# not cached (an exception is no result), so a file that appears later is still found.
@cache
def _read_credentials(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotFound("the demo credentials file is not readable") from exc
    if not isinstance(data, dict):
        raise NotFound("the demo credentials file is not readable")
    return data


def _volunteer_tokens(request: Request) -> dict[int, str]:
    raw = demo_credentials(request).get("volunteers") or {}
    tokens = {str(k): volunteer_token(v) for k, v in raw.items()}
    return {int(k): token for k, token in tokens.items() if k.isdigit() and token}


_VOLUNTEERS = text(
    """
    SELECT r.id, r.name,
           coalesce(array_agg(d.fcm_token ORDER BY d.id)
                    FILTER (WHERE d.fcm_token IS NOT NULL), '{}') AS devices
    FROM responders r LEFT JOIN devices d ON d.responder_id = r.id
    WHERE r.id = ANY(:ids) GROUP BY r.id, r.name ORDER BY r.name, r.id
    """
)


@router.get("/volunteers")
async def volunteers(request: Request) -> list[_DemoVolunteer]:
    """The demo volunteers (names and device tokens; no bearer tokens)."""
    ids = list(_volunteer_tokens(request))
    async with request.app.state.engine.connect() as conn:
        rows = await conn.execute(_VOLUNTEERS, {"ids": ids})
        return [_DemoVolunteer(id=r.id, name=r.name, devices=list(r.devices)) for r in rows]


@router.post("/volunteers/{responder_id}/session")
async def volunteer_session(responder_id: int, request: Request) -> DemoToken:
    """One demo volunteer's bearer token, for the alert screen the demo phone opens."""
    token = _volunteer_tokens(request).get(responder_id)
    if token is None:
        raise NotFound("no such demo volunteer")
    return DemoToken(token=token)


@router.post("/operator/session")
async def operator_session(request: Request) -> DemoToken:
    """The demo operator's bearer token, to sign the console in with one click."""
    token = demo_credentials(request).get("operator")
    if not isinstance(token, str):
        raise NotFound("the demo has no operator token")
    return DemoToken(token=token)
