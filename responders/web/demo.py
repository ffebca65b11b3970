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

from responders.db.gateway import Database
from responders.demo_tokens import volunteer_token
from responders.errors import NotFound
from responders.registry.store import demo_volunteers
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


@router.get("/volunteers")
async def volunteers(request: Request) -> list[_DemoVolunteer]:
    """The demo volunteers (names and device tokens; no bearer tokens)."""
    # The app's gateway as the pages read their settings: from the app's state (the web
    # package does not import the API's dependencies).
    db: Database = request.app.state.db
    found = await demo_volunteers(db, list(_volunteer_tokens(request)))
    return [_DemoVolunteer(id=v.id, name=v.name, devices=v.devices) for v in found]


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
