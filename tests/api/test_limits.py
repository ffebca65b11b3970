"""Abuse limits: 429 with Retry-After, and operators keep working through a report flood."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from fastapi import FastAPI

from responders.api import create_app
from responders.api.limits import TokenBuckets
from responders.settings import LimitSettings, Settings
from tests.api.test_responders import register, volunteer

HELSINKI = {"lat": 60.1699, "lon": 24.9384}


@pytest_asyncio.fixture(loop_scope="session")
async def app(
    settings: Settings,
    helsinki_router,
    clean_db,  # type: ignore[no-untyped-def]
) -> AsyncIterator[FastAPI]:
    """The limited app under the shared fixture's name, so `operator_headers` comes from it
    instead of starting an unlimited app beside it."""
    limits = LimitSettings(
        reports_per_client_per_minute=2,
        reports_per_area_per_minute=5,
        registrations_per_client_per_hour=3,
        location_updates_per_volunteer_per_minute=4,
        anonymous_concurrency=2,
    )
    limited = create_app(settings.model_copy(update={"limits": limits}), router=helsinki_router)
    async with limited.router.lifespan_context(limited):
        yield limited


def _client(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def _report(**location: float) -> dict[str, object]:
    return {"kind": "unconscious", "location": {**HELSINKI, **location}}


async def test_reports_per_client(app: FastAPI) -> None:
    async with _client(app, "10.0.0.1") as http:
        codes = [(await http.post("/reports", json=_report())).status_code for _ in range(3)]
        assert codes == [201, 201, 429]
        refused = await http.post("/reports", json=_report())
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1


async def test_reports_per_area(app: FastAPI) -> None:
    codes = []
    for n in range(7):
        async with _client(app, f"10.0.1.{n}") as http:
            codes.append((await http.post("/reports", json=_report())).status_code)
    assert codes == [201] * 5 + [429] * 2
    # Another area is not affected.
    async with _client(app, "10.0.1.99") as http:
        other = await http.post("/reports", json=_report(lat=60.1760, lon=24.9480))
    assert other.status_code == 201


async def test_registrations_per_client(app: FastAPI) -> None:
    async with _client(app, "10.0.2.1") as http:
        codes = [
            (
                await http.post(
                    "/responders", json=volunteer(email=f"r{n}@example.org", device=None)
                )
            ).status_code
            for n in range(4)
        ]
    assert codes == [201, 201, 201, 429]


async def test_location_updates_per_volunteer(app: FastAPI) -> None:
    async with _client(app, "10.0.3.1") as http:
        _, headers = await register(http)
        body = {"lat": 60.17, "lon": 24.94, "accuracy_m": 5}
        codes = [
            (await http.put("/responders/me/location", json=body, headers=headers)).status_code
            for _ in range(5)
        ]
    assert codes == [204] * 4 + [429]


async def test_report_flood_does_not_push_operators_out(
    app: FastAPI, operator_headers: dict[str, str]
) -> None:
    async def citizen(n: int) -> int:
        async with _client(app, f"10.1.{n // 250}.{n % 250}") as http:
            lat = 60.165 + (n % 12) * 0.001
            return (await http.post("/reports", json=_report(lat=lat))).status_code

    async def operator() -> int:
        async with _client(app, "10.9.9.9") as http:
            response = await http.post(
                "/incidents",
                headers=operator_headers,
                json={"kind": "cardiac_arrest", "location": HELSINKI},
            )
            return response.status_code

    results = await asyncio.gather(*(citizen(n) for n in range(300)), operator(), operator())
    flood, operators = results[:-2], results[-2:]
    assert operators == [201, 201]
    assert set(flood) <= {201, 429}
    assert flood.count(429) > flood.count(201), "most of the flood was refused cheaply"


def test_token_bucket_refills() -> None:
    buckets = TokenBuckets(rate=2, per_s=60, max_keys=10)
    assert [buckets.take("k", now=0.0) for _ in range(3)] == [0.0, 0.0, 30.0]
    assert buckets.take("k", now=30.0) == 0.0
    assert buckets.take("other", now=30.0) == 0.0
