"""Places in the sea (issue 12 #19): a place, an AED or a citizen's report farther than the
snap limit from any walkable street is refused, naming the field; an operator's incident
there is dispatched once confirmed (boats, ice and islands exist)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.test_aeds import AED
from tests.api.test_responders import register, volunteer
from tests.helpers import place_volunteer

HOME_AT_SEA = {"lat": 60.145, "lon": 24.96}  # 2 km off the shore
AED_AT_SEA = {"lat": 60.10, "lon": 24.95}  # 7 km out
HARBOUR = {"lat": 60.163, "lon": 24.956}  # South Harbour: water, 215 m from the quay
OFF_SHORE = {"lat": 60.16, "lon": 24.96}  # 610 m out: an incident on the ice
ON_LAND = {"lat": 60.1699, "lon": 24.9384}


def _place(location: dict[str, float]) -> list[dict[str, Any]]:
    return [{"kind": "home", "location": location, "windows": []}]


def _refused(response: httpx.Response, field: str) -> str:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "outside_coverage"
    assert body["field"] == field
    detail: str = body["detail"]
    assert "walk" in detail
    return detail


async def _count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_a_home_at_sea_is_refused(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    registered = await client.post("/responders", json=volunteer(places=_place(HOME_AT_SEA)))
    assert "this place" in _refused(registered, "body.places.0.location")
    assert await _count(engine, "responders") == 0

    _, headers = await register(client)
    two = [*_place(ON_LAND), *_place(HOME_AT_SEA)]
    updated = await client.put("/responders/me/availability", headers=headers, json={"places": two})
    _refused(updated, "body.places.1.location")
    patched = await client.patch("/responders/me", headers=headers, json={"places": two})
    _refused(patched, "body.places.1.location")
    kept = (await client.get("/responders/me", headers=headers)).json()["places"]
    assert [p["location"]["coordinates"] for p in kept] == [[24.9384, 60.1699]]


async def test_an_aed_at_sea_is_refused(
    client: httpx.AsyncClient, coordinator_headers: dict[str, str], engine: AsyncEngine
) -> None:
    created = await client.post(
        "/aeds", json={**AED, "location": AED_AT_SEA}, headers=coordinator_headers
    )
    assert "this AED" in _refused(created, "body.location")

    on_land = await client.post("/aeds", json=AED, headers=coordinator_headers)
    assert on_land.status_code == 201, on_land.text
    moved = await client.patch(
        f"/aeds/{on_land.json()['id']}", json={"location": AED_AT_SEA}, headers=coordinator_headers
    )
    _refused(moved, "body.location")

    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [loc["lon"], loc["lat"]]},
            "properties": {"external_ref": f"sea-{n}", "access": "public"},
        }
        for n, loc in enumerate((ON_LAND, AED_AT_SEA))
    ]
    imported = await client.post(
        "/aeds/import",
        headers=coordinator_headers,
        files={
            "file": (
                "aeds.geojson",
                json.dumps({"type": "FeatureCollection", "features": features}),
                "application/geo+json",
            )
        },
    )
    _refused(imported, "file.aeds.2.location")
    assert await _count(engine, "aeds") == 1, "all or nothing: the good AED was not imported"
    listed = await client.get("/aeds", headers=coordinator_headers)
    assert [a["location"]["coordinates"] for a in listed.json()] == [[24.9384, 60.1699]]


async def test_a_citizen_report_in_the_harbour_is_refused(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    response = await client.post("/reports", json={"kind": "unconscious", "location": HARBOUR})
    _refused(response, "body.location")
    assert await _count(engine, "incidents") == 0


async def test_an_incident_off_the_network_is_dispatched_once_confirmed(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    # On the shore nearest the incident: volunteers walk to the water's edge.
    volunteer_id, _ = await place_volunteer(client, 60.1648, 24.9528)
    body: dict[str, Any] = {"kind": "cardiac_arrest", "location": OFF_SHORE}
    asked = await client.post("/incidents", headers=operator_headers, json=body)
    assert asked.status_code == 422, asked.text
    assert asked.json()["code"] == "confirm_off_network"
    assert asked.json()["field"] == "body.location"
    assert "confirm_off_network: true" in asked.json()["detail"]
    assert 550 < asked.json()["off_network_m"] < 650
    listed = await client.get("/incidents?status=all", headers=operator_headers)
    assert listed.json() == []

    confirmed = await client.post(
        "/incidents", headers=operator_headers, json={**body, "confirm_off_network": True}
    )
    assert confirmed.status_code == 201, confirmed.text
    incident = confirmed.json()
    assert incident["status"] == "active"
    assert incident["location"]["coordinates"] == [OFF_SHORE["lon"], OFF_SHORE["lat"]]
    assert [a["responder_id"] for a in incident["alerts"]] == [volunteer_id]


async def test_an_incident_beyond_any_reach_is_refused_even_confirmed(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    for location in ({"lat": 52.37, "lon": 4.89}, AED_AT_SEA):
        response = await client.post(
            "/incidents",
            headers=operator_headers,
            json={"kind": "cardiac_arrest", "location": location, "confirm_off_network": True},
        )
        assert response.status_code == 422
        assert response.json()["code"] == "outside_coverage"
        assert response.json()["field"] == "body.location"
