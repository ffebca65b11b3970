"""The AED registry: create, list near, update, import (all-or-nothing)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders.db.gateway import Database
from responders.dispatch.candidates import find_aeds
from responders.schemas.common import LatLon

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


def _geojson(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def _feature(lon: float, lat: float, **props: object) -> dict[str, Any]:
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


# ---------- issue 12 #17: no input may cause a server error ----------


@pytest.mark.parametrize("field", ["status", "location", "access", "opening_hours"])
async def test_update_with_null_is_422_naming_the_field(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str], field: str
) -> None:
    aed = (await client.post("/aeds", json=AED, headers=coordinator_headers)).json()
    response = await client.patch(
        f"/aeds/{aed['id']}", json={field: None}, headers=coordinator_headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == f"body.{field}"
    assert "leave it out" in response.json()["errors"][0]["message"]


async def test_update_that_breaks_a_rule_of_the_whole_is_422(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str]
) -> None:
    public = {**AED, "access": "public", "opening_hours": []}
    aed = (await client.post("/aeds", json=public, headers=coordinator_headers)).json()
    response = await client.patch(
        f"/aeds/{aed['id']}", json={"access": "restricted"}, headers=coordinator_headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "body.opening_hours"
    assert "opening hours" in response.json()["detail"]


async def _import(
    client: httpx.AsyncClient, headers: dict[str, str], content: bytes, name: str, kind: str
) -> httpx.Response:
    return await client.post("/aeds/import", headers=headers, files={"file": (name, content, kind)})


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"[" * 2000 + b"]" * 2000, "file"),
        (b'{"type": "FeatureCollection", "features": ' + b"[" * 2000 + b"]" * 2000 + b"}", "file"),
        (b'{"type": "FeatureCollection", "features": [1]}', "row 1.feature"),
        (b'{"type": "FeatureCollection", "features": {"a": 1}}', "file"),
        (b'{"type": "FeatureCollection", "features": [{"geometry": 7}]}', "row 1.geometry"),
        (
            b'{"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", '
            b'"coordinates": [24.9, 60.1]}, "properties": [1]}]}',
            "row 1.properties",
        ),
    ],
    ids=["nested", "nested-features", "number-feature", "object-features", "geometry", "props"],
)
async def test_import_of_malformed_geojson_is_422(
    client: httpx.AsyncClient,
    coordinator_headers: dict[str, str],
    engine: AsyncEngine,
    content: bytes,
    field: str,
) -> None:
    response = await _import(client, coordinator_headers, content, "a.geojson", "application/json")
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert await _count(engine) == 0


async def test_odd_coordinates_are_normalised_and_the_registry_still_lists(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str]
) -> None:
    # An AED stored on the antimeridian at +180, searched from -180, made PostGIS's
    # nearest-first scan fail ("index returned tuples in wrong order"): 500. Every location
    # is normalised on the way in: one antimeridian, rounded to a centimetre (no denormals).
    assert LatLon(lat=2e-163, lon=180.0).model_dump() == {"lat": 0.0, "lon": -180.0}
    assert LatLon(lat=5e-324, lon=2e-163).model_dump() == {"lat": 0.0, "lon": 0.0}
    assert LatLon(lat=60.123456789, lon=24.9).model_dump() == {"lat": 60.1234568, "lon": 24.9}
    base = {**AED, "access": "public", "opening_hours": []}
    for lat, lon in [(2e-163, 180.0), (-90.0, 0.0), (5e-324, 2e-163)]:
        # Far from any walkable street of the loaded area, so never stored (#19).
        created = await client.post(
            "/aeds",
            json={**base, "location": {"lat": lat, "lon": lon}},
            headers=coordinator_headers,
        )
        assert created.status_code == 422, created.text
        assert created.json()["code"] == "outside_coverage"
    for lat, lon in [(0, -180), (0, 180), (5e-324, 2e-163)]:
        near = await client.get(
            "/aeds", params={"lat": lat, "lon": lon, "radius_m": 100}, headers=coordinator_headers
        )
        assert near.status_code == 200, near.text
        assert near.json() == []


# ---------- issue 12 #21: AED files as spreadsheets write them ----------

CSV_EXCEL_FI = (
    "lat;lon;address;access;opening_hours;cabinet_code;external_ref\r\n"
    "60,1699;24,9384;Kauppatori;public;24/7;;xl-1\r\n"
    ";;;;;;\r\n"
    "60,1710;24,9410;Kirjasto, 2. krs;restricted;mon-fri 09:00-20:00;8080;xl-2\r\n"
)


@pytest.mark.parametrize(
    "content",
    [
        CSV_EXCEL_FI,
        CSV_OK.replace(",", "\t"),
        "\r\n;;\r\n" + CSV_EXCEL_FI.replace("lat;lon", "Lat ; LON"),
    ],
    ids=["semicolons-decimal-commas", "tabs", "blank-lines-first-header-as-typed"],
)
async def test_import_csv_as_spreadsheets_write_it(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str], content: str
) -> None:
    response = await _import(client, coordinator_headers, content.encode(), "aeds.csv", "text/csv")
    assert response.status_code == 200, response.text
    assert response.json() == {"imported": 2}
    listed = (await client.get("/aeds", headers=coordinator_headers)).json()
    assert [a["location"]["coordinates"] for a in listed] == [[24.9384, 60.1699], [24.941, 60.171]]
    assert listed[1]["opening_hours"][0]["days"] == ["mon", "tue", "wed", "thu", "fri"]


async def test_import_csv_refuses_a_column_named_twice(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str], engine: AsyncEngine
) -> None:
    content = "lat,lon,address,address\n60.1699,24.9384,Kauppatori,Asema\n"
    response = await _import(client, coordinator_headers, content.encode(), "a.csv", "text/csv")
    assert response.status_code == 422, response.text
    assert "'address' twice (columns 3 and 4)" in response.json()["detail"]
    assert await _count(engine) == 0


@pytest.mark.parametrize("row", ["60.1720,24.9420,Asema,public,,,csv-3,extra", "60.1720,24.9420"])
async def test_import_csv_refuses_ragged_rows_naming_the_row(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str], engine: AsyncEngine, row: str
) -> None:
    content = CSV_OK + row + "\n"
    response = await _import(client, coordinator_headers, content.encode(), "a.csv", "text/csv")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["row"] == 4 and body["field"] == "row 4"
    assert "but the header has 7" in body["detail"]
    assert await _count(engine) == 0


async def test_retired_aed_is_kept_shown_and_never_used_again(
    client: httpx.AsyncClient,
    coordinator_headers: dict[str, str],
    engine: AsyncEngine,
    db: Database,
) -> None:
    response = await _import(client, coordinator_headers, CSV_OK.encode(), "a.csv", "text/csv")
    assert response.status_code == 200, response.text
    first = (await client.get("/aeds", headers=coordinator_headers)).json()[0]
    retired = await client.patch(
        f"/aeds/{first['id']}", json={"status": "retired"}, headers=coordinator_headers
    )
    assert retired.status_code == 200, retired.text
    listed = (await client.get("/aeds", headers=coordinator_headers)).json()
    assert [a["status"] for a in listed] == ["retired", "in_service"]
    # Dispatch's own AED search leaves it out.
    usable = await find_aeds(db, 60.1699, 24.9384, 1_000, 10 * 60, 10)  # Mon 10:00
    assert [a.id for a in usable] == [listed[1]["id"]]
    # It is never brought back: not by an update, not by re-importing its external_ref.
    revived = await client.patch(
        f"/aeds/{first['id']}", json={"status": "in_service"}, headers=coordinator_headers
    )
    assert revived.status_code == 409 and revived.json()["state"] == "retired"
    again = await _import(client, coordinator_headers, CSV_OK.encode(), "a.csv", "text/csv")
    assert again.status_code == 422
    assert "csv-1" in again.json()["detail"] and "retired" in again.json()["detail"]
    async with engine.connect() as conn:
        status = await conn.execute(text("SELECT status FROM aeds ORDER BY id"))
        assert status.scalars().all() == ["retired", "in_service"]
