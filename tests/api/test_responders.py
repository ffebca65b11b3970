"""The volunteer registry through the API, on the real PostGIS."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

FUTURE = (dt.date.today() + dt.timedelta(days=365)).isoformat()


def volunteer(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Aino Virtanen",
        "phone": "+358 40 123 4567",
        "email": "aino@example.org",
        "qualifications": [{"kind": "cpr_aed", "expires_on": FUTURE}],
        "places": [
            {
                "kind": "home",
                "location": {"lat": 60.1699, "lon": 24.9384},
                "windows": [
                    {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "18:00", "end": "08:00"}
                ],
            }
        ],
        "device": {"fcm_token": "tok-aino-1", "platform": "android"},
    }
    body.update(overrides)
    return body


async def register(
    client: httpx.AsyncClient, **overrides: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    response = await client.post("/responders", json=volunteer(**overrides))
    assert response.status_code == 201, response.text
    body = response.json()
    return body["responder"], {"Authorization": f"Bearer {body['token']}"}


async def test_register_returns_profile_and_token_stored_hashed(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    responder, headers = await register(client)
    assert responder["name"] == "Aino Virtanen"
    assert responder["qualifications"] == [{"kind": "cpr_aed", "expires_on": FUTURE}]
    assert responder["places"][0]["location"] == {
        "type": "Point",
        "coordinates": [24.9384, 60.1699],
    }
    assert responder["devices"][0]["fcm_token"] == "tok-aino-1"
    token = headers["Authorization"].removeprefix("Bearer ")
    async with engine.connect() as conn:
        stored = (await conn.execute(text("SELECT token_hash FROM responder_tokens"))).scalar_one()
    assert token.encode() not in stored and len(stored) == 32

    me = await client.get("/responders/me", headers=headers)
    assert me.status_code == 200 and me.json()["id"] == responder["id"]


async def test_overnight_window_is_stored_as_minutes_of_week(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await register(
        client,
        places=[
            {
                "kind": "home",
                "location": {"lat": 60.17, "lon": 24.94},
                "windows": [{"days": ["sun"], "start": "22:00", "end": "06:00"}],
            }
        ],
    )
    async with engine.connect() as conn:
        available = (await conn.execute(text("SELECT available::text FROM places"))).scalar_one()
    # Sunday 22:00 to midnight, then Monday 00:00 to 06:00 of the next week.
    assert available == "{[0,360),[9960,10080)}"


async def test_duplicate_email_is_a_conflict(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await client.post("/responders", json=volunteer(email="AINO@example.org"))
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


async def test_profile_update_replaces_lists(client: httpx.AsyncClient) -> None:
    _, headers = await register(client)
    response = await client.patch(
        "/responders/me",
        headers=headers,
        json={
            "phone": "+358 50 765 4321",
            "qualifications": [
                {"kind": "nurse", "expires_on": FUTURE},
                {"kind": "first_aid", "expires_on": FUTURE},
            ],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["phone"] == "+358 50 765 4321"
    assert [q["kind"] for q in body["qualifications"]] == ["first_aid", "nurse"]
    assert len(body["places"]) == 1


async def test_live_location_is_one_row_overwritten(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    _, headers = await register(client)
    for lat in (60.1700, 60.1710, 60.1720):
        response = await client.put(
            "/responders/me/location",
            headers=headers,
            json={"lat": lat, "lon": 24.94, "accuracy_m": 12},
        )
        assert response.status_code == 204, response.text
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT ST_Y(location::geometry), accuracy_m FROM live_locations")
            )
        ).all()
    assert rows == [(pytest.approx(60.1720), 12.0)]
    me = (await client.get("/responders/me", headers=headers)).json()
    assert me["live_location"]["location"]["coordinates"] == [24.94, 60.172]


async def test_location_update_with_bad_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/responders/me/location",
        headers={"Authorization": "Bearer nope"},
        json={"lat": 60.17, "lon": 24.94, "accuracy_m": 5},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


async def test_pause_and_resume(client: httpx.AsyncClient) -> None:
    _, headers = await register(client)
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).isoformat()
    paused = await client.put(
        "/responders/me/availability", headers=headers, json={"paused_until": until}
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused" and paused.json()["paused_until"]
    resumed = await client.put(
        "/responders/me/availability", headers=headers, json={"status": "active"}
    )
    assert resumed.json()["status"] == "active" and resumed.json()["paused_until"] is None


async def test_pause_in_the_past_is_refused(client: httpx.AsyncClient) -> None:
    _, headers = await register(client)
    response = await client.put(
        "/responders/me/availability",
        headers=headers,
        json={"paused_until": "2020-01-01T00:00:00Z"},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "body.paused_until"


async def test_availability_replaces_places_windows(client: httpx.AsyncClient) -> None:
    _, headers = await register(client)
    response = await client.put(
        "/responders/me/availability",
        headers=headers,
        json={
            "places": [
                {
                    "kind": "work",
                    "location": {"lat": 60.165, "lon": 24.938},
                    "windows": [{"days": ["mon"], "start": "09:00", "end": "17:00"}],
                },
            ]
        },
    )
    assert response.status_code == 200
    places = response.json()["places"]
    assert [p["kind"] for p in places] == ["work"]
    assert places[0]["windows"] == [{"days": ["mon"], "start": "09:00", "end": "17:00"}]


async def test_device_token_moves_to_new_owner(client: httpx.AsyncClient) -> None:
    _, first = await register(client)
    _, second = await register(client, email="eero@example.org", device=None)
    response = await client.post(
        "/responders/me/devices",
        headers=second,
        json={"fcm_token": "tok-aino-1", "platform": "ios"},
    )
    assert response.status_code == 201
    assert (await client.get("/responders/me", headers=first)).json()["devices"] == []
    devices = (await client.get("/responders/me", headers=second)).json()["devices"]
    assert [(d["fcm_token"], d["platform"]) for d in devices] == [("tok-aino-1", "ios")]


async def test_erase_leaves_nothing_of_the_person(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    responder, headers = await register(client)
    await client.put(
        "/responders/me/location",
        headers=headers,
        json={"lat": 60.17, "lon": 24.94, "accuracy_m": 5},
    )
    _, other = await register(client, name="Eero Mäkinen", email="eero@example.org", device=None)
    assert (await client.delete("/responders/me", headers=headers)).status_code == 204
    assert (await client.get("/responders/me", headers=headers)).status_code == 401
    async with engine.connect() as conn:
        for table in (
            "responders",
            "responder_tokens",
            "qualifications",
            "places",
            "live_locations",
            "devices",
        ):
            column = "id" if table == "responders" else "responder_id"
            count = (
                await conn.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {column} = :id"),
                    {"id": responder["id"]},
                )
            ).scalar_one()
            assert count == 0, table
        dump = (
            await conn.execute(
                text("SELECT string_agg(t::text, ' ') FROM (SELECT * FROM responders) t")
            )
        ).scalar_one()
    assert "Aino" not in dump and "aino@example.org" not in dump
    assert (await client.get("/responders/me", headers=other)).status_code == 200
