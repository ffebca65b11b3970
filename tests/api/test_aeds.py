"""The AED registry: create, list near, update, import (all-or-nothing)."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

AED = {
    "location": {"lat": 60.1699, "lon": 24.9384},
    "address": "Mannerheimintie 1",
    "description": "lobby, left of the lifts",
    "access": "restricted",
    "opening_hours": [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}
    ],
    "cabinet_code": "4321",
}


async def test_create_and_list_near(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str], operator_headers: dict[str, str]
) -> None:
    created = await client.post("/aeds", json=AED, headers=coordinator_headers)
    assert created.status_code == 201, created.text
    far = {
        **AED,
        "location": {"lat": 60.1760, "lon": 24.9480},
        "access": "public",
        "opening_hours": [],
        "cabinet_code": None,
    }
    assert (await client.post("/aeds", json=far, headers=coordinator_headers)).status_code == 201
    near = await client.get(
        "/aeds",
        params={"lat": 60.1705, "lon": 24.9384, "radius_m": 500},
        headers=coordinator_headers,
    )
    assert [a["address"] for a in near.json()] == ["Mannerheimintie 1"]
    assert 60 < near.json()[0]["distance_m"] < 75
    assert near.json()[0]["cabinet_code"] == "4321"
    # Operators see the registry but not the cabinet codes.
    seen = await client.get(
        "/aeds", params={"lat": 60.1705, "lon": 24.9384, "radius_m": 5000}, headers=operator_headers
    )
    assert [a["cabinet_code"] for a in seen.json()] == [None, None]


async def test_restricted_aed_needs_hours(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/aeds", json={**AED, "opening_hours": []}, headers=coordinator_headers
    )
    assert response.status_code == 422
    assert "opening_hours" in response.json()["detail"]


async def test_update(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str], engine: AsyncEngine
) -> None:
    aed = (await client.post("/aeds", json=AED, headers=coordinator_headers)).json()
    response = await client.patch(
        f"/aeds/{aed['id']}", json={"status": "out"}, headers=coordinator_headers
    )
    assert response.status_code == 200
    assert response.json()["status"] == "out"
    assert response.json()["address"] == "Mannerheimintie 1"
    missing = await client.patch(
        "/aeds/999999", json={"status": "out"}, headers=coordinator_headers
    )
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    async with engine.connect() as conn:
        minutes = (await conn.execute(text("SELECT open_minutes::text FROM aeds"))).scalar_one()
    assert minutes.startswith("{[480,1080),[1920,2520)")


async def test_operator_cannot_write_registry(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    response = await client.post("/aeds", json=AED, headers=operator_headers)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def _geojson(*features: dict) -> bytes:  # type: ignore[type-arg]
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def _feature(lon: float, lat: float, **props: object) -> dict:  # type: ignore[type-arg]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM aeds"))).scalar_one())


async def test_import_geojson(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str], engine: AsyncEngine
) -> None:
    content = _geojson(
        _feature(24.937, 60.17, external_ref="hel-1", access="public"),
        _feature(
            24.94,
            60.165,
            external_ref="hel-2",
            access="restricted",
            opening_hours="mon-fri 08:00-18:00; sat 10:00-14:00",
            cabinet_code="1111",
        ),
    )
    response = await client.post(
        "/aeds/import",
        headers=coordinator_headers,
        files={"file": ("aeds.geojson", content, "application/geo+json")},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 2}
    # Importing the same registry again updates by external_ref instead of duplicating.
    await client.post(
        "/aeds/import",
        headers=coordinator_headers,
        files={"file": ("aeds.geojson", content, "application/geo+json")},
    )
    assert await _count(engine) == 2


async def test_import_geojson_bad_row_imports_nothing(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str], engine: AsyncEngine
) -> None:
    content = _geojson(
        _feature(24.937, 60.17, external_ref="a"),
        _feature(24.94, 60.165, external_ref="b"),
        _feature(24.94, 160.0, external_ref="c"),
    )
    response = await client.post(
        "/aeds/import",
        headers=coordinator_headers,
        files={"file": ("aeds.geojson", content, "application/json")},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["row"] == 3 and body["field"] == "row 3.location.lat"
    assert "nothing was imported" in body["detail"]
    assert await _count(engine) == 0


CSV_OK = """lat,lon,address,access,opening_hours,cabinet_code,external_ref
60.1699,24.9384,Kauppatori,public,24/7,,csv-1
60.1710,24.9410,Kirjasto,restricted,mon-fri 09:00-20:00,8080,csv-2
"""


async def test_import_csv(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str], engine: AsyncEngine
) -> None:
    response = await client.post(
        "/aeds/import",
        headers=coordinator_headers,
        files={"file": ("aeds.csv", CSV_OK.encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 2}
    listed = (await client.get("/aeds", headers=coordinator_headers)).json()
    assert listed[1]["opening_hours"][0]["days"] == ["mon", "tue", "wed", "thu", "fri"]


async def test_import_csv_bad_row_imports_nothing(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str], engine: AsyncEngine
) -> None:
    bad = CSV_OK + "60.1720,24.9420,Asema,restricted,someday 09:00-20:00,,csv-3\n"
    response = await client.post(
        "/aeds/import",
        headers=coordinator_headers,
        files={"file": ("aeds.csv", bad.encode(), "text/csv")},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["row"] == 4, body
    assert "someday" in body["detail"]
    assert await _count(engine) == 0
