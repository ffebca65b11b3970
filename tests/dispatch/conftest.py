"""Dispatch fixtures: an app whose timers the tests drive by hand, volunteers placed on purpose."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.api import create_app
from responders.dispatch.timers import run_due_timers
from responders.settings import DispatchSettings, Settings

FUTURE = (dt.date.today() + dt.timedelta(days=365)).isoformat()
_numbers = itertools.count()


def dispatch_settings(**overrides: Any) -> DispatchSettings:
    return DispatchSettings(run_timers=False, **overrides)


def _overrides(request: pytest.FixtureRequest, name: str) -> Mapping[str, Any]:
    marker = request.node.get_closest_marker(name)
    return marker.kwargs if marker else {}


@pytest_asyncio.fixture(loop_scope="session")
async def app(
    settings: Settings,
    helsinki_router,
    clean_db: AsyncEngine,  # type: ignore[no-untyped-def]
    request: pytest.FixtureRequest,
) -> AsyncIterator[FastAPI]:
    configured = settings.model_copy(
        update={
            "api": settings.api.model_copy(update=_overrides(request, "api")),
            "dispatch": dispatch_settings(**_overrides(request, "dispatch")),
        }
    )
    application = create_app(configured, router=helsinki_router)
    async with application.router.lifespan_context(application):
        yield application


async def place_volunteer(
    client: httpx.AsyncClient,
    lat: float,
    lon: float,
    *,
    qualifications: tuple[str, ...] = ("cpr_aed",),
    live: bool = True,
    windows: list[dict[str, Any]] | None = None,
    name: str | None = None,
) -> tuple[int, dict[str, str]]:
    number = next(_numbers)
    body: dict[str, Any] = {
        "name": name or f"Volunteer {number}",
        "phone": "+358 40 000 0000",
        "email": f"v{number}@example.org",
        "qualifications": [{"kind": k, "expires_on": FUTURE} for k in qualifications],
        "device": {"fcm_token": f"token-{number}", "platform": "android"},
    }
    if not live:
        body["places"] = [
            {"kind": "home", "location": {"lat": lat, "lon": lon}, "windows": windows or []}
        ]
    response = await client.post("/responders", json=body)
    assert response.status_code == 201, response.text
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    if live:
        located = await client.put(
            "/responders/me/location",
            headers=headers,
            json={"lat": lat, "lon": lon, "accuracy_m": 10},
        )
        assert located.status_code == 204
    return response.json()["responder"]["id"], headers


async def report(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    lat: float,
    lon: float,
    kind: str = "cardiac_arrest",
) -> dict[str, Any]:
    response = await client.post(
        "/incidents",
        headers=headers,
        json={"kind": kind, "location": {"lat": lat, "lon": lon}, "address": "Testikatu 1"},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def alerted(incident: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {a["responder_id"]: a for a in incident["alerts"]}


async def fire_timers_now(app: FastAPI) -> int:
    engine = app.state.engine
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE incidents SET next_wave_at = now() WHERE next_wave_at IS NOT NULL")
        )
    return await run_due_timers(app.state.db, app.state.dispatch_context)
